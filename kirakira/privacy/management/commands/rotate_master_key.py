from django.core.management.base import BaseCommand, CommandError

from kirakira.privacy.crypto.keyring import keyring, new_key_spec
from kirakira.privacy.keys.services import (
    BATCH_SIZE,
    RotationInterrupted,
    RotationRefused,
    master_key_rotate,
)


class Command(BaseCommand):
    help = (
        "Re-wrap every member's data key under the active master key (PRIVACY_ACTIVE_MASTER_KEY), in batches, "
        "recorded in the key rotation register. Encrypted rows are not touched. Run it again after an "
        "interruption to finish the same rotation. Afterwards the older master keys can be retired."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate",
            metavar="KEY_ID",
            help="only print a new random master key as KEY_ID:BASE64, to add to PRIVACY_MASTER_KEYS",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"data keys re-wrapped per transaction (default {BATCH_SIZE})",
        )

    def handle(self, *args, generate=None, batch_size=BATCH_SIZE, **options):
        if generate:
            try:
                self.stdout.write(new_key_spec(generate))
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            return
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        active = keyring().active_id
        try:
            outcome = master_key_rotate(batch_size=batch_size)
        except (RotationRefused, RotationInterrupted) as exc:
            raise CommandError(str(exc)) from None
        rotation = outcome.rotation
        if outcome.resumed:
            self.stdout.write(
                f"Resumed the rotation started {rotation.started_at:%Y-%m-%d %H:%M} UTC (run {rotation.runs})."
            )
        moved = ", ".join(f"{count} off {key!r}" for key, count in rotation.per_key.items()) or "none"
        self.stdout.write(
            f"Re-wrapped {rotation.rows_done} data key(s) under master key {active!r} ({moved}); "
            f"{outcome.already_current} were already under it. Recorded in the key rotation register."
        )
