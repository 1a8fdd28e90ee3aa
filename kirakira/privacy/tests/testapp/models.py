"""Models for the tests and the benchmark of field encryption (installed only in tests)."""

import uuid

from django.db import models
from encrypted_fields.fields import EncryptedTextField as FernetTextField

from kirakira.privacy.crypto.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedJSONField,
    EncryptedManager,
    EncryptedTextField,
)


def _normalize_phone(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


class Secret(models.Model):
    """Two encrypted fields of a data subject, with a blind index on one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member_id = models.UUIDField()
    phone = EncryptedCharField(max_length=30, null=True, blank=True)
    phone_index = BlindIndexField(source="phone", normalizer=_normalize_phone, db_index=True)
    note = EncryptedTextField(null=True, blank=True)
    links = EncryptedJSONField(null=True, blank=True)

    objects = EncryptedManager()


class Sample(models.Model):
    """The benchmark's model: exactly two encrypted fields of a data subject."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member_id = models.UUIDField()
    phone = EncryptedCharField(max_length=30, null=True, blank=True)
    note = EncryptedTextField(null=True, blank=True)

    objects = EncryptedManager()


class PlainSecret(models.Model):
    """The same shape, unencrypted (the benchmark's baseline)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member_id = models.UUIDField()
    phone = models.CharField(max_length=30, null=True, blank=True)
    note = models.TextField(null=True, blank=True)


class FernetSecret(models.Model):
    """The same shape with django-fernet-encrypted-fields (the benchmark's peer)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member_id = models.UUIDField()
    phone = FernetTextField(null=True, blank=True)
    note = FernetTextField(null=True, blank=True)
