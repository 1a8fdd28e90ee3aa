from django.core.management.base import BaseCommand, CommandError

from kirakira.privacy.crypto.keyring import keyring, new_key_spec
from kirakira.privacy.keys.services import (
    BATCH_SIZE,
    RotationInterrupted,
    RotationRefused,
    blind_index_rotate,
)


class Command(BaseCommand):
    help = (
        "Recompute every blind index (email, phone, account number...) under the active blind-index key "
        "(PRIVACY_ACTIVE_BLIND_INDEX_KEY), in batches, recorded in the key rotation register. Lookups find old "
        "and new values meanwhile. Run it again after an interruption to finish the same rotation; afterwards "
        "the older blind-index keys can be removed from PRIVACY_BLIND_INDEX_KEYS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate",
            metavar="KEY_ID",
            help="only print a new random blind-index key as KEY_ID:BASE64, to add to PRIVACY_BLIND_INDEX_KEYS",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"rows re-indexed per transaction (default {BATCH_SIZE})",
        )

    def handle(self, *args, generate=None, batch_size=BATCH_SIZE, **options):
        if generate:
            try:
                self.stdout.write(new_key_spec(generate, blind_index=True))
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            return
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        ring = keyring()
        active = ring.active_blind_index_id
        try:
            outcome = blind_index_rotate(batch_size=batch_size)
        except (RotationRefused, RotationInterrupted) as exc:
            raise CommandError(str(exc)) from None
        rotation = outcome.rotation
        if outcome.resumed:
            self.stdout.write(
                f"Resumed the rotation started {rotation.started_at:%Y-%m-%d %H:%M} UTC (run {rotation.runs})."
            )
        moved = ", ".join(f"{count} off {key!r}" for key, count in rotation.per_key.items()) or "none"
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
