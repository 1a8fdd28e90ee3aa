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


class SecurityPledge(models.Model):
    """A version of the security pledge that staff accept before they see personal data.

    Published by the privacy officer in Japanese, English and Korean; never edited afterwards.
    The highest number is the current version: publishing a new one asks every staff member
    to accept again."""

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
        verbose_name = _("security pledge")
        verbose_name_plural = _("security pledges")
        ordering = ["-number"]
        default_permissions = ("view",)  # published by the service, never changed or deleted
        permissions = [("publish_securitypledge", _("Can publish a security pledge version"))]

    def __str__(self):
        return _("security pledge v%(number)d") % {"number": self.number}

    def text(self, language: str) -> str:
        code = (language or "")[:2]
        return getattr(self, f"text_{code}", "") if code in LANGUAGES else self.text_ja


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
