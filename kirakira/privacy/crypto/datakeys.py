"""Per-subject data keys: creation, unwrapping (with a short-lived cache), destruction and
re-wrapping under a new master key.

Threat model: a copy of the database (a dump, a backup, a stolen disk) without the master
keys reveals no encrypted value. Destroying a subject's data key makes their values
unreadable in the live database at once; in backups taken earlier the wrapped key survives
until the master key that wrapped it is retired, which is why master keys are rotated and old
ones removed on the backup-retention schedule. Unwrapped keys are cached in each process for
at most ``PRIVACY_KEY_CACHE_SECONDS`` so that a bulk read does not unwrap one key per row;
``shred`` clears the cache of its own process at once, others within that time.
"""

import os
import time
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import IntegrityError, connections, router, transaction

from kirakira.common import clock

from .keyring import KeyUnavailable, keyring

NONCE_BYTES = 12
VALUE_FORMAT = 1  # the first byte of every value sealed by an encrypted field (fields.FORMAT)


class DestroyedKey(Exception):
    """The subject's data key was destroyed on purpose: their values are gone."""


class _Unwrapped:
    """An unwrapped data key (``aead`` is None for a destroyed one), valid until ``expires``."""

    __slots__ = ("aead", "expires", "id", "owner_id", "raw_id", "value_prefix")

    def __init__(self, key_id, owner_id, aead, expires):
        self.id, self.owner_id, self.aead, self.expires = key_id, owner_id, aead, expires
        self.raw_id = key_id.bytes
        self.value_prefix = bytes((VALUE_FORMAT,)) + self.raw_id  # how each value under it starts


# Keyed by the 16 raw bytes of the key ID, as they appear in every stored value (hot path).
_by_raw_id: dict[bytes, _Unwrapped] = {}
# Keyed by the owner's UUID as an int: an int hashes in C, a UUID through a Python __hash__,
# and every encryption looks its owner up here.
_by_owner: dict[int, _Unwrapped] = {}


def clear_cache() -> None:
    _by_raw_id.clear()
    _by_owner.clear()


def _wrap_aad(key_id: uuid.UUID, owner_id: uuid.UUID) -> bytes:
    return b"kirakira-datakey|" + key_id.bytes + owner_id.bytes


def _wrap(raw: bytes, key_id: uuid.UUID, owner_id: uuid.UUID, master_id: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(keyring().master_key(master_id)).encrypt(nonce, raw, _wrap_aad(key_id, owner_id))


def _unwrap(row) -> bytes:
    wrapped = bytes(row.wrapped_key)
    try:
        return AESGCM(keyring().master_key(row.master_key_id)).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(row.id, row.owner_id)
        )
    except InvalidTag:
        raise KeyUnavailable(
            f"Data key {row.id} does not open with master key {row.master_key_id!r}: the key or the wrapped "
            "data key is wrong."
        ) from None


def _remember(row, raw: bytes | None) -> _Unwrapped:
    entry = _Unwrapped(
        row.id,
        row.owner_id,
        AESGCM(raw) if raw is not None else None,
        time.monotonic() + settings.PRIVACY_KEY_CACHE_SECONDS,
    )
    _by_raw_id[entry.raw_id] = entry
    _by_owner[row.owner_id.int] = entry
    return entry


def _remember_row(row) -> _Unwrapped:
    if row.destroyed_at is not None or row.wrapped_key is None:
        return _remember(row, None)
    return _remember(row, _unwrap(row))


def _as_uuid(value) -> uuid.UUID:
    return value if value.__class__ is uuid.UUID else uuid.UUID(str(value))


def cached(raw_id: bytes) -> _Unwrapped | None:
    """The cached key for these raw ID bytes, if still fresh (no database access)."""
    entry = _by_raw_id.get(raw_id)
    if entry is not None and entry.expires > time.monotonic():
        return entry
    return None


class _KeyRow:
    """The columns of a ``DataKey`` row that unwrapping needs."""

    __slots__ = ("destroyed_at", "id", "master_key_id", "owner_id", "wrapped_key")

    def __init__(self, key_id, owner_id, master_key_id, wrapped_key, destroyed_at):
        self.id, self.owner_id, self.master_key_id = key_id, owner_id, master_key_id
        self.wrapped_key, self.destroyed_at = wrapped_key, destroyed_at


def _select(column: str, values: list[uuid.UUID]) -> list[_KeyRow]:
    """``DataKey`` rows whose ``column`` (``id`` or ``owner_id``) is one of ``values``.

    Plain SQL: a cold key is fetched on the first save or read of each member in a process (and
    again after ``PRIVACY_KEY_CACHE_SECONDS``), and building the equivalent ORM query costs
    several times the lookup itself (figures in bench/ENCRYPTION.md).
    """
    from kirakira.privacy.models import DataKey

    connection = connections[router.db_for_read(DataKey)]
    native = connection.features.has_native_uuid_field
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(values))
    sql = (
        f"SELECT {quote('id')}, {quote('owner_id')}, {quote('master_key_id')}, {quote('wrapped_key')}, "  # noqa: S608 - quoted identifiers, values as parameters
        f"{quote('destroyed_at')} FROM {quote(DataKey._meta.db_table)} WHERE {quote(column)} IN ({placeholders})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values if native else [value.hex for value in values])
        rows = cursor.fetchall()
    if native:
        return [_KeyRow(*row) for row in rows]
    return [
        _KeyRow(uuid.UUID(key_id), uuid.UUID(owner_id), master_key_id, wrapped_key, destroyed_at)
        for key_id, owner_id, master_key_id, wrapped_key, destroyed_at in rows
    ]


def key_by_raw_id(raw_id: bytes) -> _Unwrapped:
    """The key whose ID has these 16 bytes; its ``aead`` is None if it was destroyed."""
    entry = cached(raw_id)
    if entry is not None:
        return entry
    key_id = uuid.UUID(bytes=raw_id)
    rows = _select("id", [key_id])
    if not rows:
        raise KeyUnavailable(f"Data key {key_id} does not exist in this database.")
    return _remember_row(rows[0])


def key_by_id(key_id: uuid.UUID) -> _Unwrapped:
    """The unwrapped key with this ID; ``DestroyedKey`` if it was shredded."""
    entry = key_by_raw_id(key_id.bytes)
    if entry.aead is None:
        raise DestroyedKey(str(key_id))
    return entry


def prefetch(owner_ids) -> None:
    """Load the keys of many subjects in one query (before a bulk read decrypts them)."""
    now = time.monotonic()
    missing = {}
    for owner_id in owner_ids:
        if owner_id is None:
            continue
        owner_id = _as_uuid(owner_id)
        entry = _by_owner.get(owner_id.int)
        if entry is None or entry.expires <= now:
            missing[owner_id.int] = owner_id
    missing = list(missing.values())
    for start in range(0, len(missing), 500):
        for row in _select("owner_id", missing[start : start + 500]):
            try:
                _remember_row(row)
            except KeyUnavailable:
                pass  # reported, with the row it belongs to, when a value needs it


def key_for_owner(owner_id: uuid.UUID) -> _Unwrapped:
    """The subject's data key, created on first use."""
    from kirakira.privacy.models import DataKey

    owner_id = _as_uuid(owner_id)
    entry = _by_owner.get(owner_id.int)
    if entry is not None and entry.expires > time.monotonic():
        if entry.aead is None:
            raise DestroyedKey(str(entry.id))
        return entry
    rows = _select("owner_id", [owner_id])
    if rows:
        row = rows[0]
    else:
        raw = AESGCM.generate_key(bit_length=256)
        key_id = uuid.uuid4()
        active = keyring().active_id
        try:
            with transaction.atomic():
                row = DataKey.objects.create(
                    id=key_id,
                    owner_id=owner_id,
                    master_key_id=active,
                    wrapped_key=_wrap(raw, key_id, owner_id, active),
                )
            return _remember(row, raw)
        except IntegrityError:
            row = DataKey.objects.get(owner_id=owner_id)  # created meanwhile by another request
    entry = _remember_row(row)
    if entry.aead is None:
        raise DestroyedKey(str(row.id))
    return entry


def shred(owner_id: uuid.UUID) -> bool:
    """Destroy the subject's data key. Returns False if they never had one."""
    from kirakira.privacy.models import DataKey

    with transaction.atomic():
        row = DataKey.objects.select_for_update().filter(owner_id=owner_id).first()
        if row is None:
            return False
        if row.destroyed_at is None:
            row.wrapped_key = None
            row.destroyed_at = clock.now()
            row.save(update_fields=["wrapped_key", "destroyed_at"])
            transaction.on_commit(_journal(row))
    entry = _by_owner.pop(_as_uuid(owner_id).int, None)
    if entry is not None:
        _by_raw_id.pop(entry.raw_id, None)
    return True


def _journal(row):
    def write():
        from kirakira.privacy.retention import journal

        journal.append(journal.KEY_DESTROYED, key_id=row.id, owner_id=row.owner_id, at=row.destroyed_at)

    return write


def is_destroyed(owner_id: uuid.UUID) -> bool:
    from kirakira.privacy.models import DataKey

    return DataKey.objects.filter(owner_id=owner_id, destroyed_at__isnull=False).exists()


def rotate(batch_size: int = 500) -> tuple[int, int]:
    """Re-wrap every live data key under the active master key, in batches, recorded in the key
    rotation register (``kirakira.privacy.keys.services.master_key_rotate``, which says more).
    Returns (re-wrapped by this rotation, already current). Encrypted member data is never
    touched."""
    from kirakira.privacy.keys.services import master_key_rotate

    outcome = master_key_rotate(batch_size=batch_size)
    return outcome.rotation.rows_done, outcome.already_current
