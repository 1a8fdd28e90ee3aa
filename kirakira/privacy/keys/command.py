"""What the two key-rotation commands share: ``--generate`` to print a new key, ``--batch-size``,
running the rotation (or resuming an interrupted one) and saying so."""

from django.core.management.base import BaseCommand, CommandError

from kirakira.privacy.crypto.keyring import new_key_spec

from .services import BATCH_SIZE, RotationInterrupted, RotationRefused


class RotationCommand(BaseCommand):
    setting = ""  # the setting a generated key goes into
    blind_index = False
    batch_help = ""

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate",
            metavar="KEY_ID",
            help=f"only print a new random key as KEY_ID:BASE64, to add to {self.setting}",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"{self.batch_help} per transaction (default {BATCH_SIZE})",
        )

    def start(self, rotate, *, generate, batch_size):
        """Print a new key for ``--generate`` (and return None), or run ``rotate`` (a rotation
        service) and return its outcome, having said when it resumed an interrupted one."""
        if generate:
            try:
                self.stdout.write(new_key_spec(generate, blind_index=self.blind_index))
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            return None
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            outcome = rotate(batch_size=batch_size)
        except (RotationRefused, RotationInterrupted) as exc:
            raise CommandError(str(exc)) from None
        rotation = outcome.rotation
        if outcome.resumed:
            self.stdout.write(
                f"Resumed the rotation started {rotation.started_at:%Y-%m-%d %H:%M} UTC (run {rotation.runs})."
            )
        return outcome

    @staticmethod
    def moved(rotation) -> str:
        return ", ".join(f"{count} off {key!r}" for key, count in rotation.per_key.items()) or "none"
