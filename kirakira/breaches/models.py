"""The breach register (policy C10 ⑤, promise P65): an incident as the privacy staff record it,
the members it affects (computed once, at recording), the legal clocks it starts and what was
done about each, the notice each affected member gets and the public notice for those who
cannot be reached. Nothing is deleted: the register is the proof of how an incident was handled.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kirakira.common import clock

PUBLIC_NOTICE_DAYS = 30


class PermanentRecordError(Exception):
    """A register row was about to be deleted."""


class KeptQuerySet(models.QuerySet):
    def delete(self):
        raise PermanentRecordError("the breach register is never deleted")

    delete.queryset_only = True


class Kept(models.Model):
    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise PermanentRecordError("the breach register is never deleted")


class BreachIncident(Kept):
    class Cause(models.TextChoices):
        INTERNAL_ERROR = "internal_error", _("Internal error (staff or system)")
        STAFF_MISCONDUCT = "staff_misconduct", _("Staff misconduct (data taken or used wrongfully)")
        EXTERNAL_ATTACK = "external_attack", _("External attack")
        THEFT = "theft", _("Theft of a device or document")
        LOSS = "loss", _("Loss of a device or document")
        OTHER = "other", _("Other")

    class Scope(models.TextChoices):
        WINDOW = "window", _("Every member whose records of the items existed in a time window")
        LIST = "list", _("A list of members")
        ACCESS_LOG = "access_log", _("The members whose data one staff account accessed in a time window")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=12, unique=True, editable=False)
    detected_at = models.DateTimeField(_("detected at"))
    began_at = models.DateTimeField(_("began at"), null=True, blank=True)
    description = models.TextField(_("what happened"), max_length=4000)
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices)
    items = models.JSONField(_("items exposed"), default=list)
    keys_exposed = models.BooleanField(
        _("encryption keys exposed"),
        default=False,
        help_text=_("Whether the master keys or the members' data keys may have been exposed too."),
    )
    only_stored_copy = models.BooleanField(
        _("only the stored copy was exposed"),
        default=False,
        help_text=_(
            "Only the data as stored was exposed (a database or backup file), nothing shown decrypted by the site."
        ),
    )
    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices)
    window_start = models.DateTimeField(_("window from"), null=True, blank=True)
    window_end = models.DateTimeField(_("window to"), null=True, blank=True)
    staff_account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff account whose accesses are the scope"),
    )
    measures = models.TextField(_("what the company does"), max_length=4000)
    member_advice = models.TextField(_("what the members can do"), max_length=4000)
    affected_count = models.PositiveIntegerField(_("members affected"), default=0, editable=False)
    protected = models.BooleanField(
        _("encrypted under keys that were not exposed"),
        default=False,
        editable=False,
        help_text=_(
            "Every exposed item is stored encrypted with the member's own key, and no key was exposed."
        ),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=clock.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )

    objects = KeptQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"
        verbose_name = _("personal data incident")
        verbose_name_plural = _("personal data incidents")
        ordering = ["-detected_at"]
        permissions = [("record_breachincident", _("Can record and handle a personal data incident"))]

    def __str__(self):
        return self.reference


class AffectedMember(Kept):
    incident = models.ForeignKey(
        BreachIncident, on_delete=models.PROTECT, related_name="affected", verbose_name=_("incident")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )

    objects = KeptQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"
        verbose_name = _("affected member")
        verbose_name_plural = _("affected members")
        constraints = [models.UniqueConstraint(fields=["incident", "member"], name="breaches_affected_once")]

    def __str__(self):
        return f"{self.incident_id}: {self.member_id}"


class ClockDone(Kept):
    """One of the incident's legal clocks answered: the notices sent, or a report filed."""

    incident = models.ForeignKey(
        BreachIncident, on_delete=models.PROTECT, related_name="clocks_done", verbose_name=_("incident")
    )
    kind = models.CharField(_("clock"), max_length=20)
    done_at = models.DateTimeField(_("done at"), default=clock.now)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("done by")
    )
    note = models.CharField(_("note"), max_length=500, blank=True, default="")

    objects = KeptQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"
        verbose_name = _("clock answered")
        verbose_name_plural = _("clocks answered")
        constraints = [models.UniqueConstraint(fields=["incident", "kind"], name="breaches_clock_done_once")]

    def __str__(self):
        return f"{self.incident}: {self.kind}"


class BreachNotice(Kept):
    """The notice to one affected member: shown on their page and by the API, emailed when they
    can be reached (``emailed_at`` records the sending)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(
        BreachIncident, on_delete=models.PROTECT, related_name="notices", verbose_name=_("incident")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)
    reachable = models.BooleanField(_("reachable by email"), default=True)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    objects = KeptQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"
        verbose_name = _("notice to a member")
        verbose_name_plural = _("notices to members")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["incident", "member"], name="breaches_notice_once")]

    def __str__(self):
        return f"{self.incident}: {self.member_id}"


class PublicNoticeQuerySet(KeptQuerySet):
    def shown(self, now=None):
        now = now or clock.now()
        return self.filter(published_at__lte=now, until__gt=now)


class PublicNotice(Kept):
    """The notice on the site for the affected members who cannot be reached."""

    incident = models.OneToOneField(
        BreachIncident, on_delete=models.PROTECT, related_name="public_notice", verbose_name=_("incident")
    )
    published_at = models.DateTimeField(_("published at"), default=clock.now)
    until = models.DateTimeField(_("shown until"))
    unreachable_count = models.PositiveIntegerField(_("members who could not be reached"))

    objects = PublicNoticeQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        ordering = ["-published_at"]

    def __str__(self):
        return f"{self.incident} ({self.published_at:%Y-%m-%d})"

    def save(self, *args, **kwargs):
        if self.until is None or self.until < self.published_at + timedelta(days=PUBLIC_NOTICE_DAYS):
            self.until = self.published_at + timedelta(days=PUBLIC_NOTICE_DAYS)
        super().save(*args, **kwargs)


class ClockReminder(Kept):
    """A reminder mailed to the privacy roles about a clock (once per clock and stage)."""

    incident = models.ForeignKey(BreachIncident, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20)
    stage = models.CharField(max_length=10)  # "soon" (within a day) or "overdue"
    sent_at = models.DateTimeField(default=clock.now)

    objects = KeptQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "kind", "stage"], name="breaches_reminder_once")
        ]

    def __str__(self):
        return f"{self.incident_id}: {self.kind} {self.stage}"
