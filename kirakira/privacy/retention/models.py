"""Separate storage, legal holds and the disposal ledger (policy C4).

Imported by ``kirakira/privacy/models.py``, so these belong to the ``privacy`` app.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kirakira.common import clock
from kirakira.privacy.crypto.fields import BlindIndexField, EncryptedJSONField, EncryptedQuerySet


class RetainedRecordQuerySet(EncryptedQuerySet):
    def due(self, now):
        return self.filter(dispose_after__lte=now)


class RetainedRecord(models.Model):
    """A record a withdrawn member left behind that a retention rule keeps: their membership
    record, an order with its payments, refunds and cancellation, a consultation with its
    messages, a policy acknowledgement. Moved here from the live tables, so no list, search,
    API or ordinary staff role reaches it; only the privacy officer reads it, for the policy's
    reasons, and every reading is in the staff access log.

    ``data`` is the row as it was (with its children), encrypted under the former member's
    own key: destroying that key when the last of these goes makes every copy unreadable.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject_id = models.UUIDField(_("former member"), db_index=True, editable=False)
    source = models.CharField(_("kind of record"), max_length=100, editable=False)
    source_id = models.CharField(_("original ID"), max_length=64, editable=False)
    rule = models.CharField(_("retention rule"), max_length=40, editable=False)
    clock_started_at = models.DateTimeField(_("retention period started"), editable=False)
    dispose_after = models.DateTimeField(_("to be disposed of after"), db_index=True, editable=False)
    moved_at = models.DateTimeField(_("moved to separate storage at"), default=clock.now, editable=False)
    data = EncryptedJSONField(_("the record"), owner="subject_id", default=dict)
    # Only on a membership record: the keyed hash of the email address, separate from every
    # live index (its own table and column in the HMAC), used for one purpose alone: telling
    # the privacy officer that a new registration uses the address of a withdrawn member.
    fraud_index = BlindIndexField(source="fraud_email", db_index=True)

    objects = RetainedRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("retained record of a withdrawn member")
        verbose_name_plural = _("retained records of withdrawn members")
        ordering = ["dispose_after"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="privacy_retained_source_unique")
        ]

    def __str__(self):
        return f"{self.source} {self.source_id[:8]}"


class RegistrationMatch(models.Model):
    """A new registration whose email address matched a withdrawn member's retained record
    (the fraud check): a lead for the privacy officer, never a refusal."""

    retained = models.ForeignKey(
        RetainedRecord, on_delete=models.CASCADE, related_name="matches", verbose_name=_("retained record")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("new account")
    )
    matched_at = models.DateTimeField(_("matched at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("registration matching a withdrawn member")
        verbose_name_plural = _("registrations matching withdrawn members")
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.matched_at:%Y-%m-%d}"


class LegalHoldQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or clock.now()
        return self.filter(released_at__isnull=True, starts_at__lte=now).filter(
            models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=now)
        )


class LegalHold(models.Model):
    """The privacy officer stops the disposal of everything of one member (a dispute, an
    investigation, a court order) until the hold ends or is released."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject_id = models.UUIDField(_("member"), db_index=True)
    reason = models.TextField(_("reason"), max_length=1000)
    reference = models.CharField(_("reference"), max_length=100, help_text=_("A case or request number."))
    starts_at = models.DateTimeField(_("from"), default=clock.now)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True, help_text=_("Empty: until released."))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("placed by")
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-starts_at"]
        permissions = [("place_legal_hold", _("Can place and release legal holds"))]
        default_permissions = ("view",)

    def __str__(self):
        return self.reference


class DisposalRun(models.Model):
    """One run of the retention sweep (or one withdrawal's immediate disposal): what started
    it, when, and how it ended. Its counts say what was disposed of, never what it was."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("the daily schedule")
        COMMAND = "command", _("the enforce_retention command")
        WITHDRAWAL = "withdrawal", _("a member's withdrawal")
        RESTORE = "restore", _("a restore from backup")

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        FINISHED = "finished", pgettext_lazy("disposal run outcome", "finished")
        INTERRUPTED = "interrupted", _("interrupted (the next run went on)")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    trigger = models.CharField(_("started by"), max_length=20, choices=Trigger.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )
    started_at = models.DateTimeField(_("started at"), default=clock.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("outcome"), max_length=20, choices=Status.choices, default=Status.RUNNING)
    error = models.CharField(_("error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("disposal run")
        verbose_name_plural = _("disposal ledger")
        ordering = ["-started_at"]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_trigger_display()}"


class DisposalCount(models.Model):
    """How many records of one model one rule disposed of in one run, and how (deleted, moved
    to separate storage, key destroyed), with the oldest and newest record time. Written in
    the same transaction as each batch it counts, so a run killed midway counts exactly what
    it did."""

    class Method(models.TextChoices):
        DELETED = "deleted", _("deleted")
        MOVED = "moved", _("moved to separate storage")
        KEY_DESTROYED = "key_destroyed", _("key destroyed (crypto-shredded)")
        HELD = "held", _("kept: legal hold")

    run = models.ForeignKey(DisposalRun, on_delete=models.CASCADE, related_name="counts", verbose_name=_("run"))
    rule = models.CharField(_("retention rule"), max_length=40)
    model = models.CharField(_("kind of record"), max_length=100)
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    count = models.PositiveBigIntegerField(_("count"), default=0)
    oldest = models.DateTimeField(_("oldest record"), null=True, blank=True)
    newest = models.DateTimeField(_("newest record"), null=True, blank=True)

    class Meta:
        verbose_name = _("disposal count")
        verbose_name_plural = _("disposal counts")
        ordering = ["rule", "model", "method"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["run", "rule", "model", "method"], name="privacy_disposal_count_unique")
        ]

    def __str__(self):
        return f"{self.model} {self.method} {self.count}"
