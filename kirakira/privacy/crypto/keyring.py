"""Master keys and blind-index keys.

Master keys only wrap (encrypt) the members' data keys; they never touch a row of member data,
so rotating one means re-wrapping the data keys and nothing else. Several master keys can be
configured at once: the active one wraps new and rotated data keys, the others stay able to
unwrap what they wrapped until ``rotate_master_key`` has moved everything off them.

Blind-index keys work the same way: each has an ID, the active one computes every index value
written, and each stored value tells which key made it (``ID:`` before the digest; a value
without prefix was made by the key of the single-key setting, ID ``legacy``). While a rotation
(``rotate_blind_index_key``) moves the values to the active key, lookups match a value made by
any configured key.

Configuration (production), all base64 of 32 random bytes:
    PRIVACY_MASTER_KEYS               "id1:BASE64,id2:BASE64"
    PRIVACY_ACTIVE_MASTER_KEY         "id2"
    PRIVACY_BLIND_INDEX_KEYS          "bi1:BASE64,bi2:BASE64"   (IDs of at most 16 characters)
    PRIVACY_ACTIVE_BLIND_INDEX_KEY    "bi2" (may be left empty when one key is configured)
    PRIVACY_BLIND_INDEX_KEY           "BASE64": the single-key setting, still accepted, as the key
                                      with ID ``legacy``
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
# Shorter: the ID is written before each index value, in a column of 64 characters.
BLIND_INDEX_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")
# The ID of the key given by the single-key setting PRIVACY_BLIND_INDEX_KEY; its values carry no prefix.
LEGACY_BLIND_INDEX_ID = "legacy"


class KeyUnavailable(RuntimeError):
    """A key that a stored value needs is not configured (or was destroyed on purpose)."""


@dataclass(frozen=True)
class Keyring:
    master_keys: dict[str, bytes]
    active_id: str
    blind_index_keys: dict[str, bytes]
    active_blind_index_id: str

    @property
    def active_key(self) -> bytes:
        return self.master_keys[self.active_id]

    @property
    def active_blind_index_key(self) -> bytes:
        return self.blind_index_keys[self.active_blind_index_id]

    @property
    def blind_index_key(self) -> bytes:
        """The key of the keyed hashes that are not blind indexes and cannot be recomputed (the
        access log's seals, staff pseudonyms, idempotency and login-address hashes): the oldest
        configured blind-index key (``legacy`` if PRIVACY_BLIND_INDEX_KEY is set, otherwise the
        first of PRIVACY_BLIND_INDEX_KEYS), so that rotating the blind indexes leaves them valid."""
        return self.blind_index_keys[self.hash_key_id]

    @property
    def hash_key_id(self) -> str:
        """The ID of ``blind_index_key``."""
        if LEGACY_BLIND_INDEX_ID in self.blind_index_keys:
            return LEGACY_BLIND_INDEX_ID
        return next(iter(self.blind_index_keys))

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


def _parse_keys(spec: str, setting: str, label: str, pattern: re.Pattern, longest: int) -> dict[str, bytes]:
    keys = {}
    for number, part in enumerate(filter(None, (p.strip() for p in spec.split(","))), start=1):
        key_id, sep, value = part.partition(":")
        key_id = key_id.strip()
        if not sep:
            # Never echo the entry: without a separator it may be the key itself.
            raise ImproperlyConfigured(
                f"{setting} entry number {number} is malformed: write ID:BASE64 "
                "(ID of letters, digits, '_', '.', '-')."
            )
        if not pattern.match(key_id):
            raise ImproperlyConfigured(
                f"{setting} entry number {number} has a malformed ID {key_id!r}: use 1-{longest} letters, "
                "digits, '_', '.', '-'."
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"{label} {key_id!r} is given twice in {setting}.")
        keys[key_id] = _decode(f"{label} {key_id!r}", value)
    return keys


def parse_master_keys(spec: str) -> dict[str, bytes]:
    return _parse_keys(spec, "PRIVACY_MASTER_KEYS", "Master key", KEY_ID, 64)


def parse_blind_index_keys(spec: str, legacy: str = "") -> dict[str, bytes]:
    """The blind-index keys of PRIVACY_BLIND_INDEX_KEYS, and the single-key setting's key (if
    given) under the ID ``legacy``, first."""
    keys = {}
    if legacy.strip():
        keys[LEGACY_BLIND_INDEX_ID] = _decode("PRIVACY_BLIND_INDEX_KEY", legacy)
    for key_id, key in _parse_keys(
        spec, "PRIVACY_BLIND_INDEX_KEYS", "Blind-index key", BLIND_INDEX_KEY_ID, 16
    ).items():
        if key_id == LEGACY_BLIND_INDEX_ID and key_id in keys:
            if key != keys[key_id]:
                raise ImproperlyConfigured(
                    f"Blind-index key {key_id!r} is given both in PRIVACY_BLIND_INDEX_KEY and in "
                    "PRIVACY_BLIND_INDEX_KEYS, with different values: keep one."
                )
            continue
        keys[key_id] = key
    return keys


def build_keyring(
    master_keys_spec: str,
    active_id: str,
    blind_index_key: str = "",
    blind_index_keys: str = "",
    active_blind_index_id: str = "",
) -> Keyring:
    master_keys = parse_master_keys(master_keys_spec)
    if not master_keys:
        raise ImproperlyConfigured("PRIVACY_MASTER_KEYS is empty: at least one master key is needed.")
    if active_id not in master_keys:
        raise ImproperlyConfigured(
            f"The active master key {active_id!r} (PRIVACY_ACTIVE_MASTER_KEY) is not among the configured keys "
            f"({', '.join(sorted(master_keys))})."
        )
    if not blind_index_key.strip() and not blind_index_keys.strip():
        raise ImproperlyConfigured(
            "No blind-index key is configured: set PRIVACY_BLIND_INDEX_KEYS (ID:BASE64 entries) or "
            "PRIVACY_BLIND_INDEX_KEY (BASE64)."
        )
    index_keys = parse_blind_index_keys(blind_index_keys, blind_index_key)
    active_index = active_blind_index_id.strip()
    if not active_index:
        if len(index_keys) > 1:
            raise ImproperlyConfigured(
                f"Several blind-index keys are configured ({', '.join(sorted(index_keys))}): name the one that "
                "computes new index values in PRIVACY_ACTIVE_BLIND_INDEX_KEY."
            )
        active_index = next(iter(index_keys))
    if active_index not in index_keys:
        raise ImproperlyConfigured(
            f"The active blind-index key {active_index!r} (PRIVACY_ACTIVE_BLIND_INDEX_KEY) is not among the "
            f"configured keys ({', '.join(sorted(index_keys))})."
        )
    for index_id, index_key in index_keys.items():
        for key_id, key in master_keys.items():
            if key == index_key:
                raise ImproperlyConfigured(
                    f"The blind-index key {index_id!r} must differ from every master key: it equals master key "
                    f"{key_id!r}."
                )
    return Keyring(
        master_keys=master_keys,
        active_id=active_id,
        blind_index_keys=index_keys,
        active_blind_index_id=active_index,
    )


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
        settings.PRIVACY_MASTER_KEYS,
        settings.PRIVACY_ACTIVE_MASTER_KEY,
        getattr(settings, "PRIVACY_BLIND_INDEX_KEY", ""),
        getattr(settings, "PRIVACY_BLIND_INDEX_KEYS", ""),
        getattr(settings, "PRIVACY_ACTIVE_BLIND_INDEX_KEY", ""),
    )


def reset_keyring() -> None:
    keyring.cache_clear()


def new_key_spec(key_id: str, *, blind_index: bool = False) -> str:
    """``ID:BASE64`` for a fresh random key (``rotate_master_key --generate``,
    ``rotate_blind_index_key --generate``)."""
    if blind_index:
        if not BLIND_INDEX_KEY_ID.match(key_id) or key_id == LEGACY_BLIND_INDEX_ID:
            raise ValueError(
                f"a blind-index key ID is 1-16 letters, digits, '_', '.', '-' (and not {LEGACY_BLIND_INDEX_ID!r})"
            )
    elif not KEY_ID.match(key_id):
        raise ValueError("a key ID is 1-64 letters, digits, '_', '.', '-'")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"
