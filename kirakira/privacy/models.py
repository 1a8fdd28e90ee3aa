import calendar
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kirakira.common import clock

from .catalog.vocabulary import Retention


class DataKey(models.Model):
    """A data subject's own key (AES-256), stored only wrapped by a master key.

    Every encrypted value of the subject is encrypted under it, so destroying it (``shred``)
    makes all of those values unreadable at once, wherever copies of the rows live. The row
    stays as a tombstone so that reads can say "destroyed" instead of failing.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_id = models.UUIDField(_("data subject"), unique=True)
    master_key_id = models.CharField(_("master key ID"), max_length=64)
    wrapped_key = models.BinaryField(_("wrapped key"), null=True)
    created_at = models.DateTimeField(_("created at"), default=clock.now)
    rotated_at = models.DateTimeField(_("re-wrapped at"), null=True, blank=True)
    destroyed_at = models.DateTimeField(_("destroyed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")
        indexes = [models.Index(fields=["master_key_id"], name="privacy_datakey_master_idx")]

    def __str__(self):
        return f"data key {self.id} ({'destroyed' if self.destroyed_at else self.master_key_id})"


class PolicyVersion(models.Model):
    """A published version of the privacy policy (C11): frozen text, announced before it applies.

    Rows are never changed after publication; a mistake is fixed by publishing a correction.
    """

    number = models.PositiveIntegerField(_("version"), unique=True)
    effective_on = models.DateField(_("effective date"))
    is_correction = models.BooleanField(
        _("correction of wording"),
        default=False,
        help_text=_("Only a correction of wording may take effect sooner than 7 days after publication."),
    )
    reason_ja = models.TextField(_("reason (Japanese)"))
    reason_en = models.TextField(_("reason (English)"), blank=True)
    reason_ko = models.TextField(_("reason (Korean)"), blank=True)
    summary_ja = models.TextField(_("summary of changes (Japanese)"))
    summary_en = models.TextField(_("summary of changes (English)"), blank=True)
    summary_ko = models.TextField(_("summary of changes (Korean)"), blank=True)
    snapshot_ja = models.TextField(_("policy text (Japanese)"), editable=False)
    snapshot_en = models.TextField(_("policy text (English)"), editable=False)
    snapshot_ko = models.TextField(_("policy text (Korean)"), editable=False)
    cookies_digest = models.CharField(
        _("cookie table fingerprint"), max_length=64, editable=False, blank=True
    )
    published_at = models.DateTimeField(_("published at"), editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("privacy policy version")
        verbose_name_plural = _("privacy policy versions")
        ordering = ["-number"]
        permissions = [("publish_policyversion", _("Can publish a privacy policy version"))]

    def __str__(self):
        return f"v{self.number} ({self.effective_on:%Y-%m-%d})"

    def localized(self, field: str, language: str) -> str:
        value = getattr(self, f"{field}_{language}", "") if language in ("ja", "en", "ko") else ""
        return value or getattr(self, f"{field}_ja")


class PolicyAcknowledgement(models.Model):
    """The policy version a member last saw and accepted, recorded when they log in."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="policy_acknowledgements",
        verbose_name=_("member"),
    )
    version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("version")
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), default=clock.now)

    class Meta:
        verbose_name = _("policy acknowledgement")
        verbose_name_plural = _("policy acknowledgements")
        constraints = [
            models.UniqueConstraint(fields=["member", "version"], name="privacy_ack_member_version_unique")
        ]

    def __str__(self):
        return f"{self.version} acknowledged at {self.acknowledged_at:%Y-%m-%d %H:%M}"


class PermanentRecordError(Exception):
    """A permission-change record was about to be altered, or deleted within its retention."""


def _retention_cutoff(now):
    """Rows that occurred on or before this moment have been kept their full period (calendar
    months, as ``RetentionRule.due`` counts them)."""
    month_index = now.year * 12 + now.month - 1 - Retention.PERMISSION_CHANGE_3Y.total_months
    year, month = divmod(month_index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


class PermissionChangeQuerySet(models.QuerySet):
    """Rows are only ever added. ``update`` always refuses; ``delete`` refuses unless every row
    is past its retention (the retention sweep's disposal is the one deletion there is)."""

    def update(self, **kwargs):
        raise PermanentRecordError("permission-change records are never changed")

    def expired(self, now=None):
        return self.filter(occurred_at__lte=_retention_cutoff(now or clock.now()))

    def delete(self):
        if self.exclude(pk__in=self.expired().values("pk")).exists():
            raise PermanentRecordError("permission-change records are kept three years")
        return super().delete()

    delete.queryset_only = True


class PermissionChange(models.Model):
    """One grant, change or removal of a staff member's access: a role added or removed, or the
    staff, active or superuser flag set or cleared (kirakira/privacy/audit/permissions.py writes
    them, whatever the path of the change). Append-only, kept three years."""

    class What(models.TextChoices):
        ROLE = "role", _("role")
        STAFF = "is_staff", _("staff status")
        ACTIVE = "is_active", _("active")
        SUPERUSER = "is_superuser", _("superuser status")

    occurred_at = models.DateTimeField(_("when"), default=clock.now, editable=False, db_index=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("account"),
    )
    # Empty when the change came from the server itself (a management command, the shell).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        editable=False,
        verbose_name=_("changed by"),
    )
    # Who asked for the change when it waited for approval (a role request, approved by
    # ``actor``); empty when the actor made it on their own.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("requested by"),
    )
    what = models.CharField(_("what"), max_length=16, choices=What.choices, editable=False)
    role = models.CharField(_("role"), max_length=150, blank=True, editable=False)
    old_value = models.BooleanField(_("before"), editable=False)
    new_value = models.BooleanField(_("after"), editable=False)
    request_id = models.CharField(_("request ID"), max_length=32, blank=True, editable=False)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True, editable=False)

    objects = PermissionChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("permission change")
        verbose_name_plural = _("permission changes")
        ordering = ["-occurred_at", "-id"]
        default_permissions = ("view",)  # nobody adds, changes or deletes these by hand
        indexes = [models.Index(fields=["subject", "occurred_at"], name="privacy_permchange_subject_idx")]

    def __str__(self):
        return f"{self.description} ({self.occurred_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermanentRecordError("permission-change records are never changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not type(self).objects.filter(pk=self.pk).expired().exists():
            raise PermanentRecordError("permission-change records are kept three years")
        return super().delete(*args, **kwargs)

    @property
    def description(self) -> str:
        if self.what == self.What.ROLE:
            label = _("role %(role)s added") if self.new_value else _("role %(role)s removed")
            return str(label) % {"role": self.role}
        label = _("%(flag)s set") if self.new_value else _("%(flag)s cleared")
        return str(label) % {"flag": self.get_what_display()}
