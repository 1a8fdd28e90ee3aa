"""Re-applying, after a restore, what the disposal journal logged since the backup was taken.

Each kind is re-applied by the code that disposed of it the first time, and every step is
idempotent: an entry logged while the backup was being taken (its disposal may or may not be in
the copy) is applied again without harm.
"""

from collections import Counter
from datetime import datetime

from kirakira.privacy.retention import journal


def _destroy_key(entry) -> bool:
    from kirakira.privacy.models import DataKey

    # The key row may be absent: a key made after the backup encrypted nothing the copy holds.
    return bool(
        DataKey.objects.filter(pk=entry["key_id"], destroyed_at__isnull=True).update(
            wrapped_key=None, destroyed_at=datetime.fromisoformat(entry["at"])
        )
    )


def _withdraw(entry) -> bool:
    from kirakira.privacy.retention.withdrawal import withdrawal_replay

    return withdrawal_replay(subject_id=entry["subject_id"], at=datetime.fromisoformat(entry["at"]))


def _delete(entry) -> bool:
    from kirakira.privacy.rights.deletion import deletion_replay

    return deletion_replay(
        subject_id=entry["subject_id"],
        entries=entry.get("entries") or [],
        at=datetime.fromisoformat(entry["at"]),
    )


APPLY = {
    journal.KEY_DESTROYED: _destroy_key,
    journal.MEMBER_WITHDRAWN: _withdraw,
    journal.RIGHTS_DELETION: _delete,
}


def replay(*, since: datetime) -> Counter:
    """Apply every entry logged at or after ``since``; count what changed something, per kind."""
    applied = Counter()
    for entry in journal.entries(logged_since=since):
        apply = APPLY.get(entry["kind"])
        if apply is not None and apply(entry):
            applied[entry["kind"]] += 1
    return applied
