from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kirakira.privacy.backup.container import ArchiveError
from kirakira.privacy.backup.services import restore


class Command(BaseCommand):
    help = (
        "Restores a backup (FILE and FILE.keys) into the empty database DATABASE_URL names, then disposes "
        "again of everything the disposal journal logged since the backup was taken, and runs the retention "
        "sweep. Everything is checked before anything is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="FILE", help="the database archive written by backup")
        parser.add_argument("--keys", metavar="FILE", help="the key-store archive (default: FILE.keys)")

    def handle(self, *args, archive, keys=None, **options):
        try:
            result = restore(Path(archive), Path(keys) if keys else None)
        except ArchiveError as exc:
            raise CommandError(f"{exc} Nothing was restored.") from None
        replayed = (
            ", ".join(f"{kind}: {count}" for kind, count in sorted(result.replayed.items())) or "nothing"
        )
        self.stdout.write(
            f"Restored backup {result.backup_id} (taken at {result.backup_started_at.isoformat()}): "
            f"{result.keys:,} data keys, {result.migrations_applied} newer migrations applied.\n"
            f"Re-applied from the disposal journal: {replayed}. The retention sweep disposed of "
            f"{result.swept:,} records."
        )
        if result.pending_tasks:
            self.stdout.write(
                f"{result.pending_tasks} background tasks were waiting in the backup; some may have run before "
                "(an email would be sent again). Review them in the admin before starting the workers."
            )
