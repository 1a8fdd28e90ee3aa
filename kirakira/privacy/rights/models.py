"""Members' rights requests (policy C7): the request, the one-time code that proves who asks,
and what follows from an open request (a frozen field, stopped processing, an export file).

Imported by ``kirakira/privacy/models.py``, so these belong to the ``privacy`` app.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kirakira.common import clock
from kirakira.privacy.crypto.fields import EncryptedQuerySet, EncryptedTextField

# The Personal Information Protection Act's figure for answering a request is "without delay";
# the studio promises 10 days, counted from receipt.
ANSWER_DAYS = 10
REMINDER_DAYS = 3
EXPORT_LINK_DAYS = 7


class Kind(models.TextChoices):
    EXPORT = "export", _("Download of my data")
    CORRECTION = "correction", _("Correction")
    DELETION = "deletion", _("Deletion")
    RESTRICTION = "restriction", _("Stop of processing")


class Status(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("rights request", "Received")
    BUILDING = "building", pgettext_lazy("rights request", "Being prepared")
    DONE = "done", pgettext_lazy("rights request", "Done")
    REFUSED = "refused", pgettext_lazy("rights request", "Refused")
    LIFTED = "lifted", pgettext_lazy("rights request", "Lifted by the member")
    FAILED = "failed", pgettext_lazy("rights request", "Could not be prepared")


OPEN = (Status.RECEIVED, Status.BUILDING)


class Ground(models.IntegerChoices):
    """The policy's three grounds for limiting access, deletion or a stop of processing."""

    LAW = 1, _("① The law has special provisions, or it is unavoidable to comply with legal obligations")
    OTHERS = (
        2,
        _(
            "② It may endanger another person's life or body, or unjustly harm another's property or interests"
        ),
    )
    CONTRACT = (
        3,
        _(
            "③ The contract cannot be performed without the processing, and the member has not clearly stated "
            "an intention to end it"
        ),
    )


class Scope(models.TextChoices):
    """What a stop of processing covers."""

    NOTICES = "notices", _("Notices that no law or contract requires")
    USAGE_LOG = "usage_log", _("Use of my usage log beyond security")
    ALL = "all", _("All processing of my personal information")


class RightsRequestQuerySet(EncryptedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN)

    def overdue(self, now=None):
        now = now or clock.now()
        return self.open().filter(due_at__lt=now)

    def in_force_restrictions(self):
        """Stops of processing in force: received or confirmed, and not lifted."""
        return self.filter(kind=Kind.RESTRICTION, status__in=(*OPEN, Status.DONE))

    def open_corrections(self):
        return self.filter(kind=Kind.CORRECTION, status__in=OPEN)


class RightsRequest(models.Model):
    """One request of a member to see (download), correct, delete or stop the processing of
    their personal information. Received only after the identity check; answered within
    ``ANSWER_DAYS`` days (``due_at``), or later only with an extension explained to the member
    before the due date; refused only on one of the policy's grounds, with an explanation the
    member receives."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="rights_requests",
        editable=False,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(_("received at"), default=clock.now, editable=False)
    due_at = models.DateTimeField(_("due"), db_index=True)
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True, default="")
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The staff member who owns the work: set when staff first act on it (extend, answer) or "take
    # it", changed by the handover when they leave (kirakira/accounts/offboarding.py).
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    ground = models.PositiveSmallIntegerField(
        _("ground for refusal"), choices=Ground.choices, null=True, blank=True
    )
    answer = models.TextField(_("answer to the member"), blank=True, default="")
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    # A correction: the record and field, what is wrong and what is right.
    target = models.CharField(_("record"), max_length=100, blank=True, default="")
    target_id = models.CharField(_("record ID"), max_length=64, blank=True, default="")
    target_field = models.CharField(_("field"), max_length=64, blank=True, default="")
    wrong_value = EncryptedTextField(_("what is wrong"), blank=True, default="", max_length=2000)
    right_value = EncryptedTextField(_("what is right"), blank=True, default="", max_length=2000)
    # A deletion: the data asked for (catalog entries "app.Model.field"), and the answer's list
    # of what a rule keeps: [{"entry", "rule", "until"}].
    entries = models.JSONField(_("data"), default=list, blank=True)
    kept = models.JSONField(_("kept under a rule"), default=list, blank=True)
    # A stop of processing.
    scope = models.CharField(_("what to stop"), max_length=16, choices=Scope.choices, blank=True, default="")
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    # An export: its progress, and the file until its link expires.
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    file_name = models.CharField(_("file"), max_length=200, blank=True, default="", editable=False)
    file_size = models.PositiveBigIntegerField(_("file size"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)
    downloads = models.PositiveIntegerField(_("downloads"), default=0, editable=False)
    last_downloaded_at = models.DateTimeField(_("last downloaded at"), null=True, blank=True, editable=False)

    objects = RightsRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("rights request")
        verbose_name_plural = _("rights requests")
        ordering = ["due_at"]
        permissions = [("decide_rightsrequest", "Can answer members' rights requests")]
        indexes = [
            models.Index(fields=["member", "kind", "status"], name="privacy_rr_member_idx"),
            models.Index(fields=["target", "target_id"], name="privacy_rr_target_idx"),
        ]
        constraints = [
            # One export at a time per member: a second one while the first is building is refused.
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(kind="export", status__in=["received", "building"]),
                name="privacy_rr_one_open_export",
            ),
            models.CheckConstraint(
                condition=Q(ground__isnull=True) | Q(status="refused"),
                name="privacy_rr_ground_only_on_refusal",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | Q(ground__isnull=False),
                name="privacy_rr_refusal_has_ground",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference}"

    @property
    def reference(self) -> str:
        return f"R-{self.id.hex[:8].upper()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def days_left(self, now=None) -> int:
        """Whole days to the due date (negative once overdue)."""
        return int((self.due_at - (now or clock.now())).total_seconds() // 86400)

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.due_at < (now or clock.now())

    def link_valid(self, now=None) -> bool:
        return (
            self.kind == Kind.EXPORT
            and self.status == Status.DONE
            and bool(self.file_name)
            and self.expires_at is not None
            and self.expires_at > (now or clock.now())
        )


class IdentityCode(models.Model):
    """A six-digit code mailed to the member, asked for with their password before a rights
    request is received. Kept as a keyed hash; good for ``settings.IDENTITY_CODE_MINUTES``
    minutes and ``settings.IDENTITY_CODE_TRIES`` tries, and once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identity_codes", editable=False
    )
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    expires_at = models.DateTimeField(editable=False)
    tries = models.PositiveSmallIntegerField(default=0, editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("identity code")
        verbose_name_plural = _("identity codes")
        default_permissions = ()
        indexes = [models.Index(fields=["member", "created_at"], name="privacy_idcode_member_idx")]

    def __str__(self):
        return f"identity code {self.id}"
