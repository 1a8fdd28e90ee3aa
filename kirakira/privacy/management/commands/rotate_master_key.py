from kirakira.privacy.crypto.keyring import keyring
from kirakira.privacy.keys.command import RotationCommand
from kirakira.privacy.keys.services import BATCH_SIZE, master_key_rotate


class Command(RotationCommand):
    help = (
        "Re-wrap every member's data key under the active master key (PRIVACY_ACTIVE_MASTER_KEY), in batches, "
        "recorded in the key rotation register. Encrypted rows are not touched. Run it again after an "
        "interruption to finish the same rotation. Afterwards the older master keys can be retired."
    )

    setting = "PRIVACY_MASTER_KEYS"
    batch_help = "data keys re-wrapped"

    def handle(self, *args, generate=None, batch_size=BATCH_SIZE, **options):
        outcome = self.start(master_key_rotate, generate=generate, batch_size=batch_size)
        if outcome is None:
            return
        active = keyring().active_id
        rotation = outcome.rotation
        moved = self.moved(rotation)
        self.stdout.write(
            f"Re-wrapped {rotation.rows_done} data key(s) under master key {active!r} ({moved}); "
            f"{outcome.already_current} were already under it. Recorded in the key rotation register."
        )
