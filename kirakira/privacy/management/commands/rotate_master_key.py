from django.core.management.base import BaseCommand, CommandError

from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.keyring import KeyUnavailable, keyring, new_key_spec


class Command(BaseCommand):
    help = (
        "Re-wrap every member's data key under the active master key (PRIVACY_ACTIVE_MASTER_KEY). "
        "Encrypted rows are not touched. Afterwards the older master keys can be removed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate",
            metavar="KEY_ID",
            help="only print a new random master key as KEY_ID:BASE64, to add to PRIVACY_MASTER_KEYS",
        )

    def handle(self, *args, generate=None, **options):
        if generate:
            try:
                self.stdout.write(new_key_spec(generate))
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            return
        active = keyring().active_id
        try:
            rewrapped, current = datakeys.rotate()
        except KeyUnavailable as exc:
            raise CommandError(f"{exc} No data key was re-wrapped.") from None
        self.stdout.write(
            f"Re-wrapped {rewrapped} data key(s) under master key {active!r}; {current} were already under it."
        )
