import calendar
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kirakira.common import clock

LANGUAGES = ("ja", "en", "ko")
# A training record lets its staff member through the gate for this many calendar months.
TRAINING_VALID_MONTHS = 12


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (31 March + 11 months is 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


class PublishedPledge(models.Model):
    """A pledge's version as the privacy officer publishes it: in Japanese, English and Korean,
    never edited afterwards; the highest number is the current version."""

    number = models.PositiveIntegerField(_("version"), unique=True, editable=False)
    text_ja = models.TextField(_("pledge (Japanese)"))
    text_en = models.TextField(_("pledge (English)"))
    text_ko = models.TextField(_("pledge (Korean)"))
    published_at = models.DateTimeField(_("published at"), editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("published by"),
    )

    class Meta:
        abstract = True

    def text(self, language: str) -> str:
        code = (language or "")[:2]
        return getattr(self, f"text_{code}", "") if code in LANGUAGES else self.text_ja


class SecurityPledge(PublishedPledge):
    """A version of the security pledge that staff accept before they see personal data.

    Published by the privacy officer in Japanese, English and Korean; never edited afterwards.
    The highest number is the current version: publishing a new one asks every staff member
    to accept again."""

    class Meta:
        verbose_name = _("security pledge")
        verbose_name_plural = _("security pledges")
        ordering = ["-number"]
        default_permissions = ("view",)  # published by the service, never changed or deleted
        permissions = [("publish_securitypledge", _("Can publish a security pledge version"))]

    def __str__(self):
        return _("security pledge v%(number)d") % {"number": self.number}


class PledgeAcceptance(models.Model):
    """A staff member's acceptance of one version of the pledge. Written once, by the staff
    member themselves on the gate's pledge page."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff member")
    )
    pledge = models.ForeignKey(
        SecurityPledge, on_delete=models.PROTECT, related_name="acceptances", verbose_name=_("pledge")
    )
    accepted_at = models.DateTimeField(_("accepted at"), default=clock.now)

    class Meta:
        verbose_name = _("pledge acceptance")
        verbose_name_plural = _("pledge acceptances")
        ordering = ["-accepted_at"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["staff", "pledge"], name="staff_gate_one_acceptance_per_version")
        ]

    def __str__(self):
        return _("acceptance %(id)d") % {"id": self.pk or 0}


class TrainingRecord(models.Model):
    """A staff member's completed privacy and security training, entered by the privacy officer.
    It lets its staff member through the gate for ``TRAINING_VALID_MONTHS`` from the day it was
    completed. Never edited: a mistake is corrected by a new record."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"is_staff": True},
        verbose_name=_("staff member"),
    )
    course = models.CharField(_("course"), max_length=200)
    completed_on = models.DateField(_("completed on"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("entered by"),
    )
    entered_at = models.DateTimeField(_("entered at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["-completed_on", "-entered_at"]
        default_permissions = ("add", "view")
        indexes = [models.Index(fields=["staff", "completed_on"], name="staff_gate_training_staff_idx")]

    def __str__(self):
        return _("training record %(id)d") % {"id": self.pk or 0}

    @property
    def valid_until(self) -> date:
        """The last day this record lets its staff member through."""
        return add_months(self.completed_on, TRAINING_VALID_MONTHS) - timedelta(days=1)


# --- offboarding: the exit pledge and the record of a staff member's leaving ---------------------


class ExitPledge(PublishedPledge):
    """A version of the exit pledge: what a leaving staff member acknowledges about the
    personal information they handled — that its confidentiality continues after they leave,
    and that they keep no copy of it. A pledge of its own kind beside ``SecurityPledge`` (which
    staff accept to get in, not to get out). Published by the privacy officer in Japanese,
    English and Korean; never edited afterwards; the highest number is the current version."""

    class Meta:
        verbose_name = _("exit pledge")
        verbose_name_plural = _("exit pledges")
        ordering = ["-number"]
        # Published by the privacy officer (``services.PUBLISH_PERMISSION``, as the security
        # pledge), never changed or deleted.
        default_permissions = ("view",)

    def __str__(self):
        return _("exit pledge v%(number)d") % {"number": self.number}


class PermanentRecordError(Exception):
    """An offboarding record was about to be changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    """Rows are only ever added: nobody changes or deletes them, a correction is a new entry.
    The retention sweep's disposal, after the rows' period, is the one deletion there is
    (``expired`` rows only)."""

    def update(self, **kwargs):
        raise PermanentRecordError("offboarding records are never changed")

    def delete(self):
        if self.exclude(pk__in=self.expired().values("pk")).exists():
            raise PermanentRecordError("offboarding records are kept for their retention period")
        return super().delete()

    delete.queryset_only = True

    def expired(self, now=None):
        from kirakira.privacy.catalog import Retention

        return self.filter(
            **{
                f"{self.model.RETENTION_START}__lte": Retention.PERMISSION_CHANGE_3Y.cutoff(
                    now or clock.now()
                )
            }
        )


class _AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermanentRecordError("offboarding records are never changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not type(self).objects.filter(pk=self.pk).expired().exists():
            raise PermanentRecordError("offboarding records are kept for their retention period")
        return super().delete(*args, **kwargs)


class Offboarding(_AppendOnly):
    """A staff member's leaving, recorded once by whoever completed it (an administrator): when,
    the exit pledge version the leaver signed and the day they signed it, and — as its
    ``handovers`` — every open consultation and rights request handed to a named colleague. The
    account was deactivated in the same transaction (the permission-change log has that row).
    Append-only (``kirakira.accounts.offboarding``)."""

    RETENTION_START = "completed_at"

    leaver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("leaving staff member"),
    )
    completed_at = models.DateTimeField(_("completed at"), default=clock.now, editable=False)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("completed by"),
    )
    exit_pledge = models.ForeignKey(
        ExitPledge, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("exit pledge")
    )
    exit_pledge_signed_on = models.DateField(_("exit pledge signed on"), editable=False)

    class Meta:
        verbose_name = _("offboarding")
        verbose_name_plural = _("offboardings")
        ordering = ["-completed_at", "-id"]
        default_permissions = ("view",)  # written by the offboarding page alone, never changed
        indexes = [models.Index(fields=["leaver", "completed_at"], name="staff_gate_offboarding_idx")]

    def __str__(self):
        return _("offboarding %(id)d") % {"id": self.pk or 0}


class HandoverKind(models.TextChoices):
    CONSULTATION = "consultation", _("consultation")
    RIGHTS_REQUEST = "rights_request", _("rights request")


class OffboardingHandover(_AppendOnly):
    """One open consultation or rights request of the leaver, handed to a colleague."""

    RETENTION_START = "offboarding__completed_at"

    # Disposed of with its offboarding once that is past its period (the only deletion there is).
    offboarding = models.ForeignKey(
        Offboarding,
        on_delete=models.CASCADE,
        related_name="handovers",
        editable=False,
        verbose_name=_("offboarding"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=HandoverKind.choices, editable=False)
    object_id = models.CharField(_("record ID"), max_length=64, editable=False)
    reference = models.CharField(_("reference"), max_length=20, editable=False)
    to_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("handed to"),
    )

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["offboarding", "kind", "reference"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["offboarding", "kind", "object_id"], name="staff_gate_one_handover_per_item"
            )
        ]

    def __str__(self):
        return self.reference
