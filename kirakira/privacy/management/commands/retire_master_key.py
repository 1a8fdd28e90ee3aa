from django.core.management.base import BaseCommand, CommandError

from kirakira.privacy.crypto.rotation import RetirementRefused, retire_master_key


class Command(BaseCommand):
    help = (
        "Retires a master key once no data key is wrapped under it and the backups taken before the rotation "
        "off it have aged out (BACKUP_RETENTION_DAYS); then remove it from PRIVACY_MASTER_KEYS everywhere. "
        "See the README's runbook."
    )

    def add_arguments(self, parser):
        parser.add_argument("key_id", metavar="KEY_ID")
        parser.add_argument(
            "--early",
            action="store_true",
            help="retire before the backups that need the key have aged out (they become unrestorable)",
        )

    def handle(self, *args, key_id, early=False, **options):
        try:
            retirement = retire_master_key(key_id, early=early)
        except RetirementRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Master key {retirement.master_key_id!r} is retired as of {retirement.retired_at:%Y-%m-%d %H:%M}. "
            "Now remove it from PRIVACY_MASTER_KEYS on every server and destroy it in the secret store: until "
            "then `check` warns."
        )
