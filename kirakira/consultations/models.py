"""Consultations (policy C3, C6): questions, proposals, complaints and personal-information
matters, opened by members or by visitors who confirm their email address first.

Everything a person wrote (subject, messages, attachments, a visitor's name and email, a call
back number) is encrypted under the key of the consultation's data subject: the member, or,
for a visitor, a subject ID of the consultation's own (so shredding one visitor's data leaves
everyone else's readable).
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kirakira.common import clock
from kirakira.privacy.crypto.fields import (
    BlindIndexField,
    EncryptedBinaryField,
    EncryptedCharField,
    EncryptedEmailField,
    EncryptedManager,
    EncryptedTextField,
)

SUBJECT_MAX = 200
BODY_MAX = 10_000
REOPEN_DAYS = 30


class Category(models.TextChoices):
    QUESTION = "question", _("Question")
    PROPOSAL = "proposal", _("Proposal")
    COMPLAINT = "complaint", _("Complaint or dispute")
    PERSONAL_INFORMATION = "personal_information", _("Personal information matter")


class Status(models.TextChoices):
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting email confirmation")
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


def new_reference() -> str:
    # Shown to the member and put in email subjects: random, so it tells nothing about volume.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "Q" + "".join(secrets.choice(alphabet) for _ in range(9))


def _normalize_email(value: str) -> str:
    return value.strip().lower()


class Channel(models.TextChoices):
    """How a consultation reached the studio (policy C3: by the site, email or phone)."""

    WEB = "web", _("this site")
    EMAIL = "email", _("email")
    PHONE = "phone", _("phone")


class Consultation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=10, unique=True, default=new_reference)
    data_subject_id = models.UUIDField(_("data subject"), db_index=True, editable=False)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
        verbose_name=_("member"),
    )
    visitor_name = EncryptedCharField(
        _("name"), max_length=100, blank=True, default="", owner="data_subject_id"
    )
    visitor_email = EncryptedEmailField(
        _("email address"), max_length=254, blank=True, default="", owner="data_subject_id"
    )
    visitor_email_index = BlindIndexField(source="visitor_email", normalizer=_normalize_email, db_index=True)
    language = models.CharField(_("language"), max_length=8, default="ja")
    category = models.CharField(_("category"), max_length=30, choices=Category.choices, db_index=True)
    subject = EncryptedCharField(_("subject"), max_length=SUBJECT_MAX, owner="data_subject_id")
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
        verbose_name=_("order"),
    )
    callback_phone = EncryptedCharField(
        _("phone number for a call back"), max_length=30, blank=True, default="", owner="data_subject_id"
    )
    status = models.CharField(
        _("status"), max_length=30, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField(_("opened at"), default=clock.now, editable=False)
    confirmed_at = models.DateTimeField(_("email confirmed at"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("last activity"), default=clock.now, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    # One that arrived by email or phone is registered by staff (services.consultation_register_
    # from_channel): when it arrived, and who entered it.
    channel = models.CharField(
        _("received through"), max_length=10, choices=Channel.choices, default=Channel.WEB, editable=False
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True, editable=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("registered by"),
    )
    # The staff member who owns the work: set by the first staff reply, changed by "take it" or
    # by the handover when its handler leaves (kirakira/accounts/offboarding.py). Empty: nobody
    # yet, the roles it is routed to share it.
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("handled by"),
    )

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["member", "-updated_at"], name="consult_member_updated_idx")]
        constraints = [
            # A member's consultation is theirs; a visitor's has no member.
            models.CheckConstraint(
                condition=models.Q(member__isnull=True) | models.Q(status__in=["open", "answered", "closed"]),
                name="consult_member_never_awaits_confirmation",
            ),
        ]
        permissions = [("reply_consultation", _("Can reply to consultations and write internal notes"))]

    def __str__(self):
        return self.reference

    @property
    def is_visitor(self) -> bool:
        return self.member_id is None

    def age_days(self, at=None) -> int:
        """Days since staff could first see it: since opening, or since a visitor confirmed."""
        return ((at or clock.now()) - (self.confirmed_at or self.created_at)).days

    def reopen_until(self):
        from datetime import timedelta

        return self.closed_at + timedelta(days=REOPEN_DAYS) if self.closed_at else None

    def can_reopen(self, at=None) -> bool:
        return self.status == Status.CLOSED and (at or clock.now()) < self.reopen_until()


class AuthorKind(models.TextChoices):
    MEMBER = "member", _("Member")
    VISITOR = "visitor", _("Visitor")
    STAFF = "staff", _("Staff")


class Message(models.Model):
    """One message of a consultation's thread; an internal note is staff-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("consultation")
    )
    data_subject_id = models.UUIDField(_("data subject"), editable=False)
    author_kind = models.CharField(_("written by"), max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    is_internal = models.BooleanField(_("internal note"), default=False)
    body = EncryptedTextField(_("message"), max_length=BODY_MAX, owner="data_subject_id")
    created_at = models.DateTimeField(_("written at"), default=clock.now, editable=False)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["consultation", "created_at"], name="consult_message_thread_idx")]

    def __str__(self):
        return f"{self.consultation_id}:{self.created_at:%Y-%m-%d %H:%M}"


class ScanResult(models.TextChoices):
    CLEAN = "clean", _("Scanned: no virus found")
    NOT_SCANNED = "not_scanned", _("Not scanned (no virus scanner is configured)")


class Attachment(models.Model):
    """A file sent with a message: an image or a PDF, checked by content and stored encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    data_subject_id = models.UUIDField(_("data subject"), editable=False)
    filename = EncryptedCharField(_("file name"), max_length=255, owner="data_subject_id")
    content_type = models.CharField(_("file type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content = EncryptedBinaryField(_("content"), owner="data_subject_id")
    scan = models.CharField(_("virus scan"), max_length=20, choices=ScanResult.choices)
    created_at = models.DateTimeField(_("uploaded at"), default=clock.now, editable=False)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at"]

    def __str__(self):
        return str(self.id)
