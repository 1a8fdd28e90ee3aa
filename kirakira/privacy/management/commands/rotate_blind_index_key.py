from kirakira.privacy.crypto.keyring import keyring
from kirakira.privacy.keys.command import RotationCommand
from kirakira.privacy.keys.services import BATCH_SIZE, blind_index_rotate


class Command(RotationCommand):
    help = (
        "Recompute every blind index (email, phone, account number...) under the active blind-index key "
        "(PRIVACY_ACTIVE_BLIND_INDEX_KEY), in batches, recorded in the key rotation register. Lookups find old "
        "and new values meanwhile. Run it again after an interruption to finish the same rotation; afterwards "
        "the older blind-index keys can be removed from PRIVACY_BLIND_INDEX_KEYS."
    )

    setting = "PRIVACY_BLIND_INDEX_KEYS"
    blind_index = True
    batch_help = "rows re-indexed"

    def handle(self, *args, generate=None, batch_size=BATCH_SIZE, **options):
        outcome = self.start(blind_index_rotate, generate=generate, batch_size=batch_size)
        if outcome is None:
            return
        ring = keyring()
        active = ring.active_blind_index_id
        rotation = outcome.rotation
        moved = self.moved(rotation)
        self.stdout.write(
            f"Re-indexed {rotation.rows_done} value(s) under blind-index key {active!r} ({moved}); "
            f"{rotation.rows_cleared} emptied because the data they indexed was erased. Recorded in the key "
            "rotation register."
        )
        removable = sorted(k for k in ring.blind_index_keys if k not in (active, ring.hash_key_id))
        if removable:
            self.stdout.write(
                f"No index value needs {', '.join(repr(k) for k in removable)} any more: remove "
                f"{'them' if len(removable) > 1 else 'it'} from PRIVACY_BLIND_INDEX_KEYS on every server."
            )
        if ring.hash_key_id != active:
            self.stdout.write(
                f"Keep {ring.hash_key_id!r} configured: the access log's seals, staff pseudonyms and the other keyed "
                "hashes that are not indexes are made with it."
            )
