"""Master keys and the blind-index key.

Master keys only wrap (encrypt) the members' data keys; they never touch a row of member data,
so rotating one means re-wrapping the data keys and nothing else. Several master keys can be
configured at once: the active one wraps new and rotated data keys, the others stay able to
unwrap what they wrapped until ``rotate_master_key`` has moved everything off them.

Configuration (production), all base64 of 32 random bytes:
    PRIVACY_MASTER_KEYS        "id1:BASE64,id2:BASE64"
    PRIVACY_ACTIVE_MASTER_KEY  "id2"
    PRIVACY_BLIND_INDEX_KEY    "BASE64"
In development they are generated once into ``var/privacy_keys.json``.
"""

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class KeyUnavailable(RuntimeError):
    """A key that a stored value needs is not configured (or was destroyed on purpose)."""


@dataclass(frozen=True)
class Keyring:
    master_keys: dict[str, bytes]
    active_id: str
    blind_index_key: bytes

    @property
    def active_key(self) -> bytes:
        return self.master_keys[self.active_id]

    def master_key(self, key_id: str) -> bytes:
        try:
            return self.master_keys[key_id]
        except KeyError:
            raise KeyUnavailable(
                f"Master key {key_id!r} is not configured (configured: {', '.join(sorted(self.master_keys))}). "
                "Add it to PRIVACY_MASTER_KEYS to read the data keys it wraps."
            ) from None


def _decode(name: str, value: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name} is not valid base64.") from None
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"{name} must be {KEY_BYTES} bytes (base64 of 32 random bytes), not {len(raw)}."
        )
    return raw


def parse_master_keys(spec: str) -> dict[str, bytes]:
    keys = {}
    for number, part in enumerate(filter(None, (p.strip() for p in spec.split(","))), start=1):
        key_id, sep, value = part.partition(":")
        key_id = key_id.strip()
        if not sep:
            # Never echo the entry: without a separator it may be the key itself.
            raise ImproperlyConfigured(
                f"PRIVACY_MASTER_KEYS entry number {number} is malformed: write ID:BASE64 "
                "(ID of letters, digits, '_', '.', '-')."
            )
        if not KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                f"PRIVACY_MASTER_KEYS entry number {number} has a malformed ID {key_id!r}: use 1-64 letters, "
                "digits, '_', '.', '-'."
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"Master key {key_id!r} is given twice in PRIVACY_MASTER_KEYS.")
        keys[key_id] = _decode(f"Master key {key_id!r}", value)
    return keys


def build_keyring(master_keys_spec: str, active_id: str, blind_index_key: str) -> Keyring:
    master_keys = parse_master_keys(master_keys_spec)
    if not master_keys:
        raise ImproperlyConfigured("PRIVACY_MASTER_KEYS is empty: at least one master key is needed.")
    if active_id not in master_keys:
        raise ImproperlyConfigured(
            f"The active master key {active_id!r} (PRIVACY_ACTIVE_MASTER_KEY) is not among the configured keys "
            f"({', '.join(sorted(master_keys))})."
        )
    index_key = _decode("PRIVACY_BLIND_INDEX_KEY", blind_index_key)
    for key_id, key in master_keys.items():
        if key == index_key:
            raise ImproperlyConfigured(
                f"The blind-index key must differ from every master key: it equals master key {key_id!r}."
            )
    return Keyring(master_keys=master_keys, active_id=active_id, blind_index_key=index_key)


def development_key_file(path: Path) -> dict:
    """Create (once) and read the development key file."""
    if not path.exists():
        key_id = "dev-1"
        data = {
            "PRIVACY_MASTER_KEYS": f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}",
            "PRIVACY_ACTIVE_MASTER_KEY": key_id,
            "PRIVACY_BLIND_INDEX_KEY": base64.b64encode(os.urandom(KEY_BYTES)).decode(),
        }
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)
    return json.loads(path.read_text())


@cache
def keyring() -> Keyring:
    return build_keyring(
        settings.PRIVACY_MASTER_KEYS, settings.PRIVACY_ACTIVE_MASTER_KEY, settings.PRIVACY_BLIND_INDEX_KEY
    )


def reset_keyring() -> None:
    keyring.cache_clear()


def new_key_spec(key_id: str) -> str:
    """``ID:BASE64`` for a fresh random master key (used by ``rotate_master_key --generate``)."""
    if not KEY_ID.match(key_id):
        raise ValueError("a key ID is 1-64 letters, digits, '_', '.', '-'")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"
