"""The register of provisions required by law (policy C5): the one way personal data leaves.

An authority's request is recorded with its legal basis; the members and items provided are
recorded exactly as provided (``DisclosedData``, encrypted under each member's key); a later
correction of provided data produces a notice to the recipient (``CorrectionNotice``, policy C7
and promise P38). Nothing here is changed or deleted: a mistake is corrected by a new entry.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kirakira.common import clock
from kirakira.privacy.crypto.fields import EncryptedJSONField, EncryptedQuerySet


class PermanentRecordError(Exception):
    """A register row was about to be changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermanentRecordError("the register of provisions is never changed")

    def delete(self):
        raise PermanentRecordError("the register of provisions is never deleted")

    delete.queryset_only = True


class AppendOnlyEncryptedQuerySet(AppendOnlyQuerySet, EncryptedQuerySet):
    pass


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermanentRecordError("the register of provisions is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermanentRecordError("the register of provisions is never deleted")


class Disclosure(AppendOnly):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=12, unique=True, editable=False)
    recipient = models.CharField(_("recipient (authority)"), max_length=200)
    legal_basis = models.TextField(_("legal basis"), max_length=1000)
    request_reference = models.CharField(_("the authority's reference"), max_length=100, blank=True)
    requested_on = models.DateField(_("requested on"))
    items = models.JSONField(_("items provided"), default=list)
    # Telling the member is withheld only where a law forbids it, with that law, until a date.
    withheld_until = models.DateField(_("not told to the members until"), null=True, blank=True)
    withholding_basis = models.TextField(_("legal basis for not telling them"), blank=True, default="")
    file_digest = models.CharField(_("SHA-256 of the file provided"), max_length=64, editable=False)
    recorded_at = models.DateTimeField(_("recorded at"), default=clock.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("provision required by law")
        verbose_name_plural = _("provisions required by law")
        ordering = ["-recorded_at"]
        permissions = [("record_disclosure", _("Can record a provision required by law"))]

    def __str__(self):
        return self.reference


class DisclosedData(AppendOnly):
    """What one member's data the provision handed over, exactly as provided."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    disclosure = models.ForeignKey(
        Disclosure, on_delete=models.PROTECT, related_name="subjects", verbose_name=_("provision")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    # [{"record": "orders.Order", "id": "...", "field": "phone", "item": "phone", "value": "..."}]
    values = EncryptedJSONField(_("values provided"), default=list)
    # Copied from the provision, so that a member's own pages read one row.
    withheld_until = models.DateField(
        _("not told to the member until"), null=True, blank=True, editable=False
    )

    objects = AppendOnlyEncryptedQuerySet.as_manager()

    class Meta:
        verbose_name = _("data provided")
        verbose_name_plural = _("data provided")
        constraints = [
            models.UniqueConstraint(fields=["disclosure", "member"], name="disclosures_data_once_per_member")
        ]

    def __str__(self):
        return f"{self.disclosure} ({self.member_id})"


class CorrectionNotice(AppendOnly):
    """A correction of data already provided, to be told to the recipient (policy C7)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data = models.ForeignKey(
        DisclosedData, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("data provided")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    request = models.ForeignKey(
        "privacy.RightsRequest",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("correction request"),
    )
    record = models.CharField(_("record"), max_length=100)
    record_id = models.CharField(_("record ID"), max_length=64)
    field = models.CharField(_("field"), max_length=64)
    corrected_value = EncryptedJSONField(_("corrected value"), default=str)
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)

    objects = AppendOnlyEncryptedQuerySet.as_manager()

    class Meta:
        verbose_name = _("correction notice to a recipient")
        verbose_name_plural = _("correction notices to recipients")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.data.disclosure}: {self.record}.{self.field}"


class CorrectionNoticeSent(AppendOnly):
    """When and by whom a correction notice was sent to its recipient (a new row, never an edit)."""

    notice = models.OneToOneField(
        CorrectionNotice, on_delete=models.PROTECT, related_name="sent", verbose_name=_("notice")
    )
    sent_at = models.DateTimeField(_("sent at"), default=clock.now, editable=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent by")
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("correction notice sent")
        verbose_name_plural = _("correction notices sent")

    def __str__(self):
        return f"{self.notice} sent at {self.sent_at:%Y-%m-%d}"
