"""Key rotations, run in batches and recorded in the register (``KeyRotation``).

Each batch is its own transaction and locks the rows it moves (``select_for_update``), so a
rotation of a large table never holds one long transaction, and a rotation that stops (a
missing key, an error, the process killed) leaves every finished batch in place. Running the
command again continues the same rotation from the rows still under the old keys.

Only one rotation of each kind runs at a time: the register allows one unfinished row per kind
(a unique constraint), and a rotation whose last batch is recent (``STALE_AFTER``) is taken to
be alive, so a second start is refused; one whose heartbeat is older was killed and is resumed.
"""

import getpass
import os
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, models, transaction

from kirakira.common import clock
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.fields import (
    DecryptionError,
    blind_index_fields,
    index_key_id,
    is_destroyed,
    prefetch_keys,
)
from kirakira.privacy.crypto.keyring import LEGACY_BLIND_INDEX_ID, KeyUnavailable, keyring

from .models import KeyRotation

BATCH_SIZE = 500
# A rotation whose last batch is older than this is taken to have been killed (a batch of 500
# takes well under a second; 2 minutes leaves room for a slow database).
STALE_AFTER = timedelta(minutes=2)

_KIND_LABEL = {KeyRotation.Kind.MASTER: "master-key", KeyRotation.Kind.BLIND_INDEX: "blind-index key"}
_ACTIVE_SETTING = {
    KeyRotation.Kind.MASTER: "PRIVACY_ACTIVE_MASTER_KEY",
    KeyRotation.Kind.BLIND_INDEX: "PRIVACY_ACTIVE_BLIND_INDEX_KEY",
}


class RotationRefused(Exception):
    """Another rotation of the same kind is running, or an unfinished one is for another key."""


class RotationInterrupted(Exception):
    """The rotation stopped; what was done is kept and recorded, running it again continues."""

    def __init__(self, message: str, rotation: KeyRotation):
        super().__init__(message)
        self.rotation = rotation


@dataclass(frozen=True)
class Outcome:
    rotation: KeyRotation
    resumed: bool
    already_current: int | None = None


def _after_batch(rotation: KeyRotation, number: int) -> None:
    """Called inside each batch's transaction once its rows are written (tests stop a rotation
    here to see it resumed)."""


def os_user() -> str:
    """The server's OS user running the command (recorded as who started a rotation)."""
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _claim(kind: str, to_key: str, from_keys, started_by) -> tuple[KeyRotation, bool]:
    """The rotation to run: a new one, or the unfinished one of this kind if it is not alive."""
    now = clock.now()
    label = _KIND_LABEL[kind]
    with transaction.atomic():
        current = KeyRotation.objects.select_for_update().filter(kind=kind).unfinished().first()
        if current is not None:
            if current.state == KeyRotation.State.RUNNING and current.heartbeat_at > now - STALE_AFTER:
                raise RotationRefused(
                    f"A {label} rotation to {current.to_key!r} is already running (started "
                    f"{current.started_at:%Y-%m-%d %H:%M:%S} UTC, last batch at {current.heartbeat_at:%H:%M:%S} UTC): "
                    "nothing was done. Wait for it to finish; if its process was killed, run this command again "
                    f"after {current.heartbeat_at + STALE_AFTER:%H:%M:%S} UTC and it will resume that rotation."
                )
            if current.to_key != to_key:
                raise RotationRefused(
                    f"An unfinished {label} rotation to {current.to_key!r} (started "
                    f"{current.started_at:%Y-%m-%d %H:%M} UTC) must be finished first, but the active key is now "
                    f"{to_key!r}: nothing was done. Set {_ACTIVE_SETTING[kind]}={current.to_key} again, run this "
                    f"command to finish that rotation, then make {to_key!r} active and rotate again."
                )
            KeyRotation.objects.record_progress(
                current,
                state=KeyRotation.State.RUNNING,
                heartbeat_at=now,
                runs=current.runs + 1,
                from_keys=sorted(set(current.from_keys) | set(from_keys)),
            )
            return current, True
        try:
            with transaction.atomic():
                rotation = KeyRotation.objects.create(
                    kind=kind,
                    from_keys=sorted(set(from_keys)),
                    to_key=to_key,
                    started_at=now,
                    heartbeat_at=now,
                    started_by=started_by,
                    started_by_os_user="" if started_by is not None else os_user(),
                )
        except IntegrityError:
            raise RotationRefused(
                f"Another {label} rotation started at the same moment: nothing was done. Run this command again "
                "to see whether it is still running."
            ) from None
    return rotation, False


def _reason(exc: BaseException) -> str:
    """What the register says about why a rotation stopped: the messages of the key errors (key
    IDs, data-key and row IDs; never a value), otherwise only the kind of error."""
    if isinstance(exc, KeyUnavailable | DecryptionError):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "stopped by the operator"
    return f"stopped by an error ({type(exc).__name__})"


def _interrupt(rotation: KeyRotation, exc: BaseException) -> RotationInterrupted:
    rotation.refresh_from_db()  # the failed batch's counts were rolled back with it
    KeyRotation.objects.record_progress(
        rotation, state=KeyRotation.State.INTERRUPTED, error=_reason(exc), heartbeat_at=clock.now()
    )
    label = _KIND_LABEL[rotation.kind]
    return RotationInterrupted(
        f"The {label} rotation to {rotation.to_key!r} stopped: {_reason(exc)}. {rotation.rows_done} value(s) were "
        "moved before it stopped and stay moved; the rotation is recorded as interrupted. Put right what stopped "
        "it and run the command again to finish it.",
        rotation,
    )


def _finish(rotation: KeyRotation, now) -> None:
    KeyRotation.objects.record_progress(
        rotation, state=KeyRotation.State.FINISHED, finished_at=now, heartbeat_at=now, error=""
    )


def _counted(rotation: KeyRotation, moved_off: Counter) -> tuple[dict, list]:
    per_key = Counter(rotation.per_key)
    per_key.update(moved_off)
    per_key = dict(sorted(per_key.items()))
    return per_key, sorted(set(rotation.from_keys) | set(per_key))


# --- master keys ------------------------------------------------------------------------------
def master_key_rotate(*, batch_size: int = BATCH_SIZE, started_by=None) -> Outcome:
    """Re-wrap every live data key under the active master key, ``batch_size`` keys per
    transaction. In each batch every wrapped key is unwrapped before anything is written, so a
    missing or wrong master key stops the rotation at that batch with an error naming it
    (``RotationInterrupted``), the earlier batches kept. Encrypted member data is never touched.
    When every key is moved, a ``MasterKeyEvent`` per old key records it (retirement counts the
    backup retention from then)."""
    from kirakira.privacy.models import DataKey, MasterKeyEvent

    active = keyring().active_id
    live = DataKey.objects.filter(destroyed_at__isnull=True, wrapped_key__isnull=False)
    pending = live.exclude(master_key_id=active)
    from_keys = pending.order_by().values_list("master_key_id", flat=True).distinct()
    rotation, resumed = _claim(KeyRotation.Kind.MASTER, active, list(from_keys), started_by)
    number = 0
    try:
        while True:
            with transaction.atomic():
                rows = list(pending.select_for_update().order_by("pk")[:batch_size])
                if not rows:
                    break
                number += 1
                raw_keys = [(row, datakeys._unwrap(row)) for row in rows]
                now = clock.now()
                moved_off = Counter(row.master_key_id for row in rows)
                for row, raw in raw_keys:
                    row.wrapped_key = datakeys._wrap(raw, row.id, row.owner_id, active)
                    row.master_key_id = active
                    row.rotated_at = now
                DataKey.objects.bulk_update(rows, ["wrapped_key", "master_key_id", "rotated_at"])
                per_key, seen = _counted(rotation, moved_off)
                KeyRotation.objects.record_progress(
                    rotation,
                    rows_done=rotation.rows_done + len(rows),
                    per_key=per_key,
                    from_keys=seen,
                    heartbeat_at=now,
                )
                _after_batch(rotation, number)
        with transaction.atomic():
            now = clock.now()
            MasterKeyEvent.objects.bulk_create(
                MasterKeyEvent(
                    master_key_id=old, kind=MasterKeyEvent.Kind.ROTATED_OFF, at=now, data_keys=count
                )
                for old, count in sorted(rotation.per_key.items())
            )
            _finish(rotation, now)
    except (Exception, KeyboardInterrupt) as exc:
        raise _interrupt(rotation, exc) from exc
    finally:
        datakeys.clear_cache()
    current = live.filter(master_key_id=active).count() - rotation.rows_done
    return Outcome(rotation=rotation, resumed=resumed, already_current=max(current, 0))


# --- blind indexes ----------------------------------------------------------------------------
def _not_under(field, key_id: str) -> models.Q:
    """Index values not made by ``key_id``."""
    name = field.attname
    if key_id == LEGACY_BLIND_INDEX_ID:
        return models.Q(**{f"{name}__contains": ":"})
    return models.Q(**{f"{name}__isnull": False}) & ~models.Q(**{f"{name}__startswith": f"{key_id}:"})


def blind_index_rotate(*, batch_size: int = BATCH_SIZE, started_by=None) -> Outcome:
    """Recompute, under the active blind-index key, every index value made by another key, in
    every model with a ``BlindIndexField``: ``batch_size`` rows per transaction, each batch
    locking its rows. The value is recomputed from the indexed field's plaintext (the old key
    is not needed); an index whose data was erased (its subject's key destroyed) is emptied.
    Lookups match old and new values meanwhile (``IndexProbe``)."""
    ring = keyring()
    active = ring.active_blind_index_id
    from_keys = [key_id for key_id in ring.blind_index_keys if key_id != active]
    rotation, resumed = _claim(KeyRotation.Kind.BLIND_INDEX, active, from_keys, started_by)
    number = 0
    try:
        for model, field in blind_index_fields():
            stale = _not_under(field, active)
            after = None
            while True:
                with transaction.atomic():
                    rows = models.QuerySet(model).select_for_update().filter(stale)
                    if after is not None:
                        rows = rows.filter(pk__gt=after)
                    rows = list(rows.order_by("pk")[:batch_size])
                    if not rows:
                        break
                    number += 1
                    after = rows[-1].pk
                    prefetch_keys(rows)
                    moved_off = Counter()
                    cleared = 0
                    for row in rows:
                        moved_off[index_key_id(row.__dict__[field.attname])] += 1
                        plain = getattr(row, field.source)
                        value = None if plain is None or is_destroyed(plain) else field.stored_digest(plain)
                        cleared += value is None
                        row.__dict__[field.attname] = value
                    models.QuerySet(model).bulk_update(rows, [field.attname])
                    per_key, seen = _counted(rotation, moved_off)
                    KeyRotation.objects.record_progress(
                        rotation,
                        rows_done=rotation.rows_done + len(rows) - cleared,
                        rows_cleared=rotation.rows_cleared + cleared,
                        per_key=per_key,
                        from_keys=seen,
                        heartbeat_at=clock.now(),
                    )
                    _after_batch(rotation, number)
        with transaction.atomic():
            _finish(rotation, clock.now())
    except (Exception, KeyboardInterrupt) as exc:
        raise _interrupt(rotation, exc) from exc
    return Outcome(rotation=rotation, resumed=resumed)
