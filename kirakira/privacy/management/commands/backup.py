from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kirakira.privacy.backup.container import ArchiveError
from kirakira.privacy.backup.services import backup_create, keys_path_for


class Command(BaseCommand):
    help = (
        "Writes an encrypted backup: FILE holds the database without its data keys, FILE.keys the wrapped "
        "data keys (keep and destroy them apart). Both are encrypted under BACKUP_KEY; the master keys are "
        "never in a backup."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, metavar="FILE", help="the database archive to write")
        parser.add_argument(
            "--keys-output", metavar="FILE", help="the key-store archive (default: FILE.keys)"
        )

    def handle(self, *args, output, keys_output=None, **options):
        output = Path(output)
        try:
            result = backup_create(output, Path(keys_output) if keys_output else None)
        except ArchiveError as exc:
            raise CommandError(f"{exc} No backup was written.") from None
        self.stdout.write(
            f"Backup {result.backup_id} taken at {result.started_at.isoformat()}: {output} "
            f"({result.database_bytes:,} bytes) and {keys_output or keys_path_for(output)} "
            f"({result.keys:,} data keys, {result.keys_bytes:,} bytes)."
        )
