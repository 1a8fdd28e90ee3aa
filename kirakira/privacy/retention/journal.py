"""The disposal journal: what was disposed of by subject or key, kept outside the database.

A database restored from an old backup still holds what was disposed of after the backup was
taken: the wrapped data keys destroyed since, the members who withdrew since, the data members
had deleted since. ``restore`` replays the journal's entries logged after the backup started
(``kirakira/privacy/backup/replay.py``), so a restored backup never brings any of it back. What
the retention rules dispose of by age needs no entry: the sweep that follows a restore disposes
of it again.

One JSON object a line, appended and fsynced after the transaction that disposed commits (an
entry for something rolled back would be replayed as if it had happened). An entry holds IDs,
catalog names and times, never personal data. Kinds:

- ``key_destroyed``: key_id, owner_id, at
- ``member_withdrawn``: subject_id, at
- ``rights_deletion``: subject_id, entries (catalog names), at
- ``master_key_retired``: key_id, at
"""

import json
import os
from datetime import datetime

from django.conf import settings
from django.db import transaction

from kirakira.common import clock

KEY_DESTROYED = "key_destroyed"
MEMBER_WITHDRAWN = "member_withdrawn"
RIGHTS_DELETION = "rights_deletion"
MASTER_KEY_RETIRED = "master_key_retired"


def journal_path():
    return settings.DISPOSAL_JOURNAL


def append(kind: str, *, at: datetime | None = None, **fields) -> None:
    """Write one entry now (fsynced: it must survive a crash right after)."""
    entry = {
        "kind": kind,
        **{name: str(value) if not isinstance(value, list) else value for name, value in fields.items()},
        "at": (at or clock.now()).isoformat(),
        "logged_at": clock.now().isoformat(),
    }
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as journal:
        journal.write(json.dumps(entry, separators=(",", ":"), sort_keys=True) + "\n")
        journal.flush()
        os.fsync(journal.fileno())


def append_on_commit(kind: str, *, at: datetime | None = None, **fields) -> None:
    """Write the entry once the current transaction commits (at once outside one)."""
    at = at or clock.now()
    transaction.on_commit(lambda: append(kind, at=at, **fields))


def entries(*, logged_since: datetime | None = None) -> list[dict]:
    """The journal's entries in order, those logged at or after ``logged_since`` if given.

    A line cut short by a crash while it was written is skipped: its disposal committed, but
    the sweep or the next disposal of the same subject covers it."""
    path = journal_path()
    if not path.exists():
        return []
    found = []
    with open(path, encoding="utf-8") as journal:
        for line in journal:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(entry, dict) or "kind" not in entry:
                continue
            if logged_since is not None:
                logged = entry.get("logged_at")
                if logged and datetime.fromisoformat(logged) < logged_since:
                    continue
            found.append(entry)
    return found


def retired_master_keys() -> dict[str, str]:
    """Master key ID -> when it was retired, from the journal (it outlives any database)."""
    return {e["key_id"]: e["at"] for e in entries() if e["kind"] == MASTER_KEY_RETIRED}
