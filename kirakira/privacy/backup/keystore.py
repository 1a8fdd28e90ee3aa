"""The wrapped data keys as one JSON line each: what the key-store archive holds.

Wrapped keys open only with the master keys, which are never in a backup: a key-store archive
without them, or with a retired master key, reveals nothing."""

import base64
import json
import uuid

from kirakira.privacy.crypto.keyring import KeyUnavailable, keyring

from .container import ArchiveError

FIELDS = ("id", "owner_id", "master_key_id", "created_at", "rotated_at", "destroyed_at")


def rows() -> list[dict]:
    from kirakira.privacy.models import DataKey

    out = []
    for key in DataKey.objects.order_by("pk").iterator(chunk_size=2000):
        row = {name: getattr(key, name) for name in FIELDS}
        row = {
            name: value.isoformat() if hasattr(value, "isoformat") else (str(value) if value else value)
            for name, value in row.items()
        }
        row["wrapped_key"] = base64.b64encode(bytes(key.wrapped_key)).decode() if key.wrapped_key else None
        out.append(row)
    return out


def dumps(found: list[dict]) -> bytes:
    return b"".join(json.dumps(row, separators=(",", ":")).encode() + b"\n" for row in found)


def loads(data: bytes) -> list[dict]:
    try:
        return [json.loads(line) for line in data.splitlines() if line.strip()]
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArchiveError("The key-store archive's content is not what a backup writes.") from None


def check_unwrappable(found: list[dict], retired: dict[str, str]) -> None:
    """Every live key's master key is configured and opens one of its keys; else ``ArchiveError``
    naming the master key (and when it was retired, if it was)."""
    from kirakira.privacy.crypto.datakeys import _unwrap
    from kirakira.privacy.models import DataKey

    sample = {}
    for row in found:
        if row.get("wrapped_key") and row["master_key_id"] not in sample:
            sample[row["master_key_id"]] = row
    for master_id, row in sorted(sample.items()):
        if master_id not in keyring().master_keys:
            when = f", retired on {retired[master_id][:10]}" if master_id in retired else ""
            raise ArchiveError(
                f"The backup's data keys are wrapped under master key {master_id!r}{when}, which is not configured: "
                "its encrypted data cannot be read. Add the key to PRIVACY_MASTER_KEYS to restore this backup."
            )
        try:
            _unwrap(_as_model(DataKey, row))
        except KeyUnavailable as exc:
            raise ArchiveError(str(exc)) from None


def _as_model(model, row: dict):
    return model(
        id=uuid.UUID(row["id"]),
        owner_id=uuid.UUID(row["owner_id"]),
        master_key_id=row["master_key_id"],
        wrapped_key=base64.b64decode(row["wrapped_key"]) if row.get("wrapped_key") else None,
        created_at=row["created_at"],
        rotated_at=row.get("rotated_at"),
        destroyed_at=row.get("destroyed_at"),
    )


def insert(found: list[dict]) -> int:
    from kirakira.privacy.models import DataKey

    DataKey.objects.bulk_create([_as_model(DataKey, row) for row in found], batch_size=1000)
    return len(found)
