"""Encrypted model fields (AES-256-GCM under the data subject's own key) and blind indexes.

A stored value is binary: a format byte (1), the data key's ID (16 bytes), the nonce (12) and
the ciphertext with its tag. The associated data binds it to its table, column and row (the
primary key, which must be known before the insert: a UUID), so a ciphertext copied to another
row or column fails authentication instead of decrypting to somebody else's data.

Values are decrypted lazily, on first attribute access, because the row's identity is not
known when a column is converted. A loaded, still-encrypted value is simply ``bytes`` in the
instance (plaintext is never bytes: text fields hold ``str``, JSON fields JSON values), which
spares a conversion call per value on every read. Writing is only possible through ``Model.save()`` (and
``bulk_create``): ``QuerySet.update()`` and ``filter()`` on an encrypted field raise, since
there is no row to bind to and equality on ciphertext means nothing. Equality lookups use a
``BlindIndexField`` beside the encrypted one.

Reads and writes are on the hot path of every page that shows or saves personal data, so the
descriptor, ``seal()`` and ``open()`` handle the common case inline (key cached and fresh, UUID
row) and leave everything else to a careful path that names the row in its errors; querysets of
encrypted models load the keys of all their rows in one query (``EncryptedQuerySet``) before
any value is decrypted, and ``bulk_create`` before any is encrypted.

Hand-written because no maintained Django package offers per-subject keys, row-bound
associated data and crypto-shredding together (django-fernet-encrypted-fields uses one
global key and no associated data).
"""

import base64
import hmac
import json
import os
import uuid
from time import monotonic

from cryptography.exceptions import InvalidTag
from django import forms
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, models
from django.db.models import lookups
from django.db.models.query import ModelIterable
from django.utils.functional import cached_property
from django.utils.translation import gettext

from . import datakeys
from .keyring import LEGACY_BLIND_INDEX_ID, KeyUnavailable, keyring

FORMAT = datakeys.VALUE_FORMAT
_KEY_ID_BYTES = 16
_NONCE_BYTES = datakeys.NONCE_BYTES
_KEY_START, _NONCE_START = 1, 1 + _KEY_ID_BYTES
_BODY = _NONCE_START + _NONCE_BYTES
_MIN_LENGTH = _BODY + 16  # the GCM tag
_LOADED_PK = "_kk_loaded_pk"  # instance attribute: the row the sealed values were loaded for
# Read-only here; datakeys owns them (and their expiry, checked on every use below).
_cached_keys = datakeys._by_raw_id
_cached_owner_keys = datakeys._by_owner
_UUID = uuid.UUID
_urandom = os.urandom
# Drivers that bind bytes as binary by themselves; psycopg's Binary() wrapper would add a
# Python object and a Python-level dumper per value written.
_BYTES_AS_BINARY = frozenset({"sqlite", "postgresql"})


class DecryptionError(RuntimeError):
    """A stored value failed authentication: altered, or moved from another row or column."""


# A stored value as loaded from the database, not decrypted yet.
Sealed = bytes


class Destroyed(str):
    """What an encrypted value reads as once its subject's key has been destroyed.

    A ``str`` so that templates, CSV writers and JSON renderers show it without special
    cases; ``isinstance(value, Destroyed)`` tells code apart. It keeps the original ciphertext
    so that saving the row again writes back exactly what was there.
    """

    sealed: bytes | None = None

    @classmethod
    def marker(cls, sealed: bytes | None = None) -> "Destroyed":
        value = cls(gettext("[erased]"))
        value.sealed = sealed
        return value


def is_destroyed(value) -> bool:
    return isinstance(value, Destroyed)


def _row_bytes(pk) -> bytes:
    if pk.__class__ is uuid.UUID:
        return pk.bytes
    return uuid.UUID(str(pk)).bytes


class _EncryptedAttribute:
    """Descriptor: keeps what was loaded sealed until the attribute is read."""

    def __init__(self, field):
        self.field = field
        self.attname = field.attname
        self.plain_text = field.plain_text
        # Plain attributes, not cached properties: they are read for every value loaded or read.
        # Resolved on first use, once the model is complete (its pk may come after this field).
        self.pk_attname = None
        self.aad_prefix = None

    def _resolve(self) -> str:
        self.aad_prefix = self.field.aad_prefix
        self.pk_attname = self.field.model._meta.pk.attname
        return self.pk_attname

    def __get__(self, instance, owner):
        if instance is None:
            return self
        data = instance.__dict__
        try:
            value = data[self.attname]
        except KeyError:
            instance.refresh_from_db(fields=[self.attname])
            value = data[self.attname]
        if value.__class__ is not bytes:
            return value
        try:
            row = data[_LOADED_PK]
        except KeyError:
            row = None
        # The common case, inline: a well-formed value of a UUID row under a cached live key.
        key = _cached_keys.get(value[_KEY_START:_NONCE_START])
        if key is not None and row.__class__ is _UUID and value[0] == FORMAT and key.expires > monotonic():
            aead = key.aead
            if aead is not None:
                if self.aad_prefix is None:
                    self._resolve()
                try:
                    raw = aead.decrypt(
                        value[_NONCE_START:_BODY],
                        value[_BODY:],
                        self.aad_prefix + row.int.to_bytes(16, "big"),
                    )
                except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce
                    pass  # the careful path below raises, naming the row
                else:
                    plain = raw.decode() if self.plain_text else self.field.decode_plain(raw)
                    data[self.attname] = plain
                    return plain
        # Anything else (key not cached or destroyed, malformed, tampered): the careful path.
        plain = self.field.open(instance, value, row)
        data[self.attname] = plain
        return plain

    def __set__(self, instance, value):
        data = instance.__dict__
        if value.__class__ is bytes:
            # Loaded from the database: remember which row it was encrypted for.
            if _LOADED_PK not in data:
                data[_LOADED_PK] = data.get(self.pk_attname or self._resolve())
        elif value.__class__ is memoryview:
            value = bytes(value)
            if _LOADED_PK not in data:
                data[_LOADED_PK] = data.get(self.pk_attname or self._resolve())
        data[self.attname] = value


class EncryptedMixin:
    encrypts = True
    descriptor_class = _EncryptedAttribute
    plain_text = True  # the plaintext is UTF-8 text (False for JSON)

    def __init__(self, *args, owner: str = "member_id", **kwargs):
        self.owner = owner
        # Plain attributes read by every seal and open (cheaper than cached properties), resolved
        # on first use, once the model is complete: its pk may be declared after this field.
        self._aad = self._row_name = self._owner_name = None
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.owner != "member_id":
            kwargs["owner"] = self.owner
        return name, path, args, kwargs

    def get_internal_type(self):
        return "BinaryField"

    # --- plaintext <-> bytes (overridden by the JSON field) -------------------------------
    def encode_plain(self, value) -> bytes:
        return str(value).encode()

    def decode_plain(self, raw: bytes):
        return raw.decode()

    # --- encryption --------------------------------------------------------------------------
    @cached_property
    def aad_prefix(self) -> bytes:
        return f"kirakira|{self.model._meta.db_table}|{self.column}|".encode()

    def _resolve(self) -> None:
        meta = self.model._meta
        self._row_name = meta.pk.attname
        if self.owner == "pk":
            self._owner_name = meta.pk.attname
        else:
            try:
                self._owner_name = meta.get_field(self.owner).attname
            except FieldDoesNotExist:
                self._owner_name = None  # not a field (a property): read with getattr
        self._aad = self.aad_prefix

    def _owner_id(self, instance) -> uuid.UUID:
        owner = getattr(instance, self.owner)
        if owner is None:
            raise ValueError(
                f"{instance._meta.label}.{self.name}: the data subject ({self.owner}) must be set before saving."
            )
        return owner if isinstance(owner, uuid.UUID) else uuid.UUID(str(owner))

    def seal(self, instance, value) -> bytes:
        if self._aad is None:
            self._resolve()
        data = instance.__dict__
        try:
            row = data[self._row_name]
            owner = data[self._owner_name]
        except KeyError:  # not set, deferred, or a property: the checks below
            row = data.get(self._row_name)
            owner = None
        if row.__class__ is not _UUID:
            if row is None:
                raise ValueError(
                    f"{instance._meta.label}: encrypted fields need a primary key known before insert."
                )
            row = _UUID(str(row))
        if owner.__class__ is not _UUID:
            owner = self._owner_id(instance)
        key = _cached_owner_keys.get(owner.int)
        if key is None or key.aead is None or key.expires <= monotonic():
            key = datakeys.key_for_owner(owner)  # fetches or creates it; DestroyedKey if shredded
        nonce = _urandom(_NONCE_BYTES)
        raw = value.encode() if value.__class__ is str and self.plain_text else self.encode_plain(value)
        aad = self._aad + row.int.to_bytes(16, "big")
        return key.value_prefix + nonce + key.aead.encrypt(nonce, raw, aad)

    def _where(self, instance, row) -> str:
        return f"{instance._meta.db_table}.{self.column} of row {row}"

    def open(self, instance, sealed: bytes, row=None):
        """Decrypt ``sealed``, stored for ``row`` (by default the instance's primary key)."""
        if self._aad is None:
            self._resolve()
        if row is None:
            row = instance.__dict__.get(self._row_name)
        key = _cached_keys.get(sealed[_KEY_START:_NONCE_START])
        if key is not None and row.__class__ is _UUID and sealed[0] == FORMAT and key.expires > monotonic():
            aead = key.aead
            if aead is not None:
                try:
                    raw = aead.decrypt(
                        sealed[_NONCE_START:_BODY], sealed[_BODY:], self._aad + row.int.to_bytes(16, "big")
                    )
                except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce
                    pass  # the careful path below raises, naming the row
                else:
                    return raw.decode() if self.plain_text else self.decode_plain(raw)
        return self._open_carefully(instance, sealed, row)

    def _open_carefully(self, instance, sealed: bytes, row):
        if row is None:
            row = instance.pk
        if len(sealed) < _MIN_LENGTH or sealed[0] != FORMAT:
            raise DecryptionError(
                f"Cannot decrypt {self._where(instance, row)}: the stored value is malformed."
            )
        try:
            key = datakeys.key_by_raw_id(bytes(sealed[_KEY_START:_NONCE_START]))
        except datakeys.KeyUnavailable as exc:
            raise datakeys.KeyUnavailable(f"Cannot decrypt {self._where(instance, row)}: {exc}") from None
        if key.aead is None:
            return Destroyed.marker(bytes(sealed))
        try:
            raw = key.aead.decrypt(
                sealed[_NONCE_START:_BODY], sealed[_BODY:], self.aad_prefix + _row_bytes(row)
            )
        except InvalidTag:
            raise DecryptionError(
                f"Cannot decrypt {self._where(instance, row)}: authentication failed (the value was altered, or "
                "copied from another row or column)."
            ) from None
        return self.decode_plain(raw)

    # --- Django field protocol ---------------------------------------------------------------
    def pre_save(self, model_instance, add):
        data = model_instance.__dict__
        value = data.get(self.attname)
        if value is None:
            return None
        if value.__class__ is Sealed:
            return self._stored_again(model_instance, value, data.get(_LOADED_PK))
        if isinstance(value, Destroyed):
            return value.sealed or None
        return self.seal(model_instance, value)

    def _stored_again(self, instance, value: bytes, loaded_pk):
        """What to write for a value that is still bytes: a loaded value never read (written back
        as it is, after checking it really is one), or a copy's (re-encrypted for the new row)."""
        refused = TypeError(
            f"{instance._meta.label}.{self.name}: give the plaintext as text; bytes are not a stored value of this field."
        )
        if loaded_pk is None:
            raise refused
        try:
            plain = self.open(instance, value, loaded_pk)
        except DecryptionError:
            raise refused from None
        if loaded_pk == instance.pk:
            return value
        # A copy of a loaded row (its pk changed): bind the value to the new row.
        if isinstance(plain, Destroyed):
            return None
        return self.seal(instance, plain)

    def select_format(self, compiler, sql, params):
        sql, params = super().select_format(compiler, sql, params)
        if compiler.connection.vendor == "sqlite":
            # SQLite keeps whatever type was written; a text value left in the column must read
            # as malformed ciphertext, never as if it were the plaintext.
            return f"CAST({sql} AS BLOB)", params
        return sql, params

    def get_prep_value(self, value):
        if value is None or value.__class__ is bytes:
            return value  # written by pre_save, or a loaded value passed back unchanged
        raise TypeError(
            f"{self.model._meta.label}.{self.name} is encrypted: write it with save() and look it up through "
            "its blind index, not with update() or filter()."
        )

    def get_db_prep_value(self, value, connection, prepared=False):
        value = self.get_prep_value(value)
        if value is None or connection.vendor in _BYTES_AS_BINARY:
            return value
        return connection.Database.Binary(value)

    def get_lookup(self, lookup_name):
        # Pattern and range lookups would compare text with ciphertext and quietly return wrong
        # rows; without them Django raises "Unsupported lookup". (exact/in reach get_prep_value,
        # which refuses plaintext; isnull is meaningful.)
        if lookup_name not in ("exact", "in", "isnull"):
            return None
        return super().get_lookup(lookup_name)

    def to_python(self, value):
        return value

    def value_to_string(self, obj):
        sealed = obj.__dict__.get(self.attname)
        stored = sealed if sealed.__class__ is Sealed else self.pre_save(obj, False)
        return None if stored is None else base64.b64encode(stored).decode()

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        pk = self.model._meta.pk
        if not isinstance(pk, models.UUIDField) or pk.default is models.NOT_PROVIDED:
            errors.append(
                checks.Error(
                    f"{self.model._meta.label}.{self.name} is encrypted, so the model's primary key must be a UUIDField "
                    "with a default (the row's identity is bound into each ciphertext).",
                    obj=self,
                    id="kirakira.privacy.E010",
                )
            )
        concrete = self.model._meta.concrete_fields
        if pk in concrete and self in concrete and concrete.index(pk) > concrete.index(self):
            errors.append(
                checks.Error(
                    f"{self.model._meta.label}.{self.name} is encrypted, so the primary key must be declared before it "
                    "(a loaded value records the row it belongs to as it is set).",
                    obj=self,
                    id="kirakira.privacy.E012",
                )
            )
        manager = self.model._default_manager
        if not isinstance(manager.get_queryset(), EncryptedQuerySet):
            errors.append(
                checks.Error(
                    f"{self.model._meta.label} has encrypted fields, so its default manager must use "
                    "EncryptedQuerySet (e.g. objects = EncryptedManager()), which loads the data keys of a "
                    "list in one query.",
                    obj=self,
                    id="kirakira.privacy.E011",
                )
            )
        return errors


class EncryptedTextField(EncryptedMixin, models.TextField):
    # A TextField for forms, admin and validation; stored as binary (see get_internal_type).
    description = "Text encrypted with the data subject's key"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.max_length:
            self.validators.append(MaxLengthValidator(self.max_length))


class EncryptedCharField(EncryptedTextField):
    """Encrypted text edited in a one-line input."""

    def formfield(self, **kwargs):
        return super().formfield(**{"widget": forms.TextInput, **kwargs})


class EncryptedJSONField(EncryptedMixin, models.TextField):
    # A TextField for forms and admin; stored as binary (see get_internal_type).
    """A JSON value (lists of links, small structures) encrypted as one value."""

    description = "JSON encrypted with the data subject's key"
    plain_text = False

    def encode_plain(self, value) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    def decode_plain(self, raw: bytes):
        return json.loads(raw)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.JSONField, **kwargs})


class PlainBytes(bytes):
    """Binary plaintext of an ``EncryptedBinaryField``. Its own type, because a plain ``bytes``
    in an instance means "loaded from the database, still sealed"."""

    __slots__ = ()


class EncryptedBinaryField(EncryptedMixin, models.BinaryField):
    """Binary content (uploaded files) encrypted as one value. Assign ``PlainBytes(data)``."""

    description = "Binary data encrypted with the data subject's key"
    plain_text = False

    def encode_plain(self, value) -> bytes:
        if value.__class__ is not PlainBytes:
            raise TypeError(f"{self.model._meta.label}.{self.name}: assign PlainBytes(data).")
        return bytes(value)

    def decode_plain(self, raw: bytes):
        return PlainBytes(raw)


def _index_value(key_id: str, mac: bytes) -> str:
    """How an index value is stored: ``ID:`` and the digest in unpadded base64url (at most 16 + 1
    + 43 characters), or, for the ``legacy`` key, the digest in hex as before key IDs existed."""
    if key_id == LEGACY_BLIND_INDEX_ID:
        return mac.hex()
    return f"{key_id}:{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def index_key_id(value: str) -> str:
    """The ID of the blind-index key that made a stored index value."""
    key_id, sep, _ = value.partition(":")
    return key_id if sep else LEGACY_BLIND_INDEX_ID


class IndexProbe(str):
    """What ``Model.<field>_of(value)`` returns: the value's index under the active key (the
    string itself, so it compares and stores as before), remembering its index under every
    configured key (``candidates``). A lookup with it matches any of them, so that rows not yet
    re-indexed by a running ``rotate_blind_index_key`` are still found."""

    candidates: tuple[str, ...] = ()


class _BlindIndexExact(lookups.Exact):
    def as_sql(self, compiler, connection):
        if isinstance(self.rhs, IndexProbe) and len(self.rhs.candidates) > 1:
            return lookups.In(self.lhs, list(self.rhs.candidates)).as_sql(compiler, connection)
        return super().as_sql(compiler, connection)


class _BlindIndexIn(lookups.In):
    def get_prep_lookup(self):
        if isinstance(self.rhs, list | tuple | set | frozenset):
            expanded = []
            for value in self.rhs:
                expanded.extend(value.candidates if isinstance(value, IndexProbe) else (value,))
            self.rhs = list(dict.fromkeys(expanded))
        return super().get_prep_lookup()


class BlindIndexField(models.CharField):
    """A keyed HMAC of another field's plaintext, for equality lookups and uniqueness.

    ``Member.objects.filter(email_index=Member.email_index_of("a@example.com"))``. The keys are
    separate from every master key and the table and column are mixed in, so equal values in
    two columns do not produce equal indexes. Values are written under the active blind-index
    key; lookups match the value under every configured key (see ``IndexProbe``), and a unique
    index refuses a value that another row holds under an older key.
    """

    def __init__(self, *args, source: str = "", normalizer=None, **kwargs):
        self.source = source
        self.normalizer = normalizer
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for default in ("max_length", "editable", "null"):
            kwargs.pop(default, None)
        if self.max_length != 64:
            kwargs["max_length"] = self.max_length
        if self.null is not True:
            kwargs["null"] = self.null
        return name, path, args, kwargs

    def _message(self, value) -> bytes | None:
        if value is None or value == "":
            return None
        if self.normalizer is not None:
            value = self.normalizer(value)
        return f"{self.model._meta.db_table}|{self.source}|{value}".encode()

    def stored_digest(self, value, key_id: str | None = None) -> str | None:
        """The index value of ``value`` as stored: under ``key_id``, by default the active key."""
        message = self._message(value)
        if message is None:
            return None
        ring = keyring()
        key_id = key_id or ring.active_blind_index_id
        key = ring.blind_index_keys.get(key_id)
        if key is None:
            raise KeyUnavailable(f"Blind-index key {key_id!r} is not configured.")
        # hmac.digest: the one-shot (C) form of hmac.new(...).digest().
        return _index_value(key_id, hmac.digest(key, message, "sha256"))

    def digest(self, value) -> IndexProbe | None:
        """The index of ``value`` to look it up with (an ``IndexProbe``: the active key's value,
        matching the value under any configured key in a filter)."""
        message = self._message(value)
        if message is None:
            return None
        ring = keyring()
        active = ring.active_blind_index_id
        probe = IndexProbe(
            _index_value(active, hmac.digest(ring.blind_index_keys[active], message, "sha256"))
        )
        probe.candidates = (str(probe),) + tuple(
            _index_value(key_id, hmac.digest(key, message, "sha256"))
            for key_id, key in ring.blind_index_keys.items()
            if key_id != active
        )
        return probe

    def pre_save(self, model_instance, add):
        data = model_instance.__dict__
        if self.source not in data or isinstance(data[self.source], Sealed | Destroyed):
            value = data.get(self.attname)  # plaintext not loaded (deferred or unread): index unchanged
            return str(value) if isinstance(value, IndexProbe) else value
        probe = self.digest(data[self.source])
        if probe is not None and self.unique and len(probe.candidates) > 1:
            self._refuse_older_duplicate(model_instance, add, probe.candidates[1:])
        value = None if probe is None else str(probe)
        setattr(model_instance, self.attname, value)
        return value

    def _refuse_older_duplicate(self, instance, add, older) -> None:
        """A unique index during a rotation: the database's constraint sees only values under
        the same key, so a row holding this value under an older key is looked for here. (A row
        re-indexed meanwhile holds it under the active key, which the constraint catches.)"""
        others = models.QuerySet(self.model).filter(**{f"{self.attname}__in": list(older)})
        if not add and instance.pk is not None:
            others = others.exclude(pk=instance.pk)
        if others.exists():
            raise IntegrityError(
                f"UNIQUE constraint failed: {self.model._meta.db_table}.{self.column} (held under an older "
                "blind-index key)"
            )

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _BlindIndexExact
        if lookup_name == "in":
            return _BlindIndexIn
        return super().get_lookup(lookup_name)

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only)
        field = self

        def lookup(value):
            return field.digest(value)

        setattr(cls, f"{name}_of", staticmethod(lookup))


def blind_index_fields():
    """Every (model, blind-index field) of the installed models whose table Django manages."""
    from django.apps import apps

    for model in apps.get_models():
        meta = model._meta
        if not meta.managed or meta.proxy or meta.swapped:
            continue
        for field in meta.local_concrete_fields:
            if isinstance(field, BlindIndexField):
                yield model, field


class EncryptedEmailField(EncryptedCharField):
    """An encrypted email address (validated as one in forms)."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.EmailField, "widget": forms.EmailInput, **kwargs})


class EncryptedQuerySet(models.QuerySet):
    """Loads the data keys of all fetched rows in one query, so that a list of 10,000 rows
    does not unwrap its keys one query at a time as values are read; ``bulk_create`` does the
    same for the rows it encrypts."""

    def _fetch_all(self):
        fetching = self._result_cache is None
        super()._fetch_all()
        if fetching and self._result_cache and self._iterable_class is ModelIterable:
            prefetch_keys(self._result_cache)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if objs:
            prefetch_keys(objs)
        return super().bulk_create(objs, *args, **kwargs)


EncryptedManager = models.Manager.from_queryset(EncryptedQuerySet)


def prefetch_keys(instances) -> None:
    """Load, in one query, the data keys of the subjects whose values these instances hold."""
    if not isinstance(instances, list):
        instances = list(instances)
    classes = {instance.__class__ for instance in instances}
    owners = {}  # by the UUID's int: an int hashes in C, a UUID in Python
    for model in classes:
        group = instances if len(classes) == 1 else [i for i in instances if i.__class__ is model]
        attributes = _owner_attributes_of.get(model)
        if attributes is None:
            attributes = _owner_attributes_of[model] = _owner_attributes(model)
        for attribute in attributes:
            values = [instance.__dict__.get(attribute) for instance in group]
            owners.update({value.int: value for value in values if value.__class__ is _UUID})
    if owners:
        datakeys.prefetch(owners.values())


_owner_attributes_of: dict[type, tuple[str, ...]] = {}


def _owner_attributes(model) -> tuple[str, ...]:
    attributes = set()
    for field in model._meta.concrete_fields:
        if getattr(field, "encrypts", False):
            owner = field.owner
            attributes.add(model._meta.pk.attname if owner == "pk" else model._meta.get_field(owner).attname)
    return tuple(attributes)
