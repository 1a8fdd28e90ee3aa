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


class MasterKeyEvent(models.Model):
    """When data keys were re-wrapped off a master key, and when that master key was retired.

    A master key may be retired once every backup taken before the rotation off it has aged out
    (``BACKUP_RETENTION_DAYS``): from then on, shredded data in any surviving copy of those
    backups cannot be read. Retirements are also written to the disposal journal, which outlives
    a restore of this table.
    """

    class Kind(models.TextChoices):
        ROTATED_OFF = "rotated_off", _("data keys re-wrapped off it")
        RETIRED = "retired", _("retired")

    master_key_id = models.CharField(_("master key ID"), max_length=64)
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("at"), default=clock.now)
    data_keys = models.PositiveIntegerField(_("data keys"), default=0)

    class Meta:
        verbose_name = _("master key event")
        verbose_name_plural = _("master key events")
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["master_key_id"], condition=models.Q(kind="retired"), name="privacy_masterkey_retired_once"
            )
        ]

    def __str__(self):
        return f"{self.master_key_id}: {self.kind} at {self.at:%Y-%m-%d}"


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


def _retention_cutoff(now, rule=Retention.PERMISSION_CHANGE_3Y):
    """Rows that occurred on or before this moment have been kept their full period."""
    return rule.cutoff(now)


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


class StaffAccessRecordQuerySet(models.QuerySet):
    """Rows are only ever appended (``kirakira.privacy.access_log.chain``). ``update`` always
    refuses; ``delete`` refuses unless every row is past its two years, and then only through
    ``chain.dispose_expired``, which moves the chain's anchor past the rows it removes."""

    def update(self, **kwargs):
        raise PermanentRecordError("staff access records are never changed")

    def expired(self, now=None):
        return self.filter(occurred_at__lte=_retention_cutoff(now or clock.now(), Retention.STAFF_ACCESS_2Y))

    def delete(self):
        raise PermanentRecordError("staff access records are disposed of only by the retention sweep")

    delete.queryset_only = True


class StaffAccessRecord(models.Model):
    """One time a member of staff saw, revealed, created, changed or downloaded personal data,
    or was refused it (policy C10). Written by ``kirakira.privacy.access_log``, append-only,
    each row sealed by a keyed hash chained to the previous row's; kept two years."""

    class Action(models.TextChoices):
        LIST = "list", _("viewed in a list")
        VIEW = "view", _("viewed")
        HISTORY = "history", _("viewed the history")
        REVEAL = "reveal", _("revealed in full")
        ADD = "add", _("created")
        CHANGE = "change", _("changed")
        DELETE = "delete", _("deleted")
        DOWNLOAD = "download", _("downloaded")
        EXPORT = "export", _("exported")
        REFUSED = "refused", _("refused")

    seq = models.PositiveBigIntegerField(_("sequence number"), unique=True, editable=False)
    occurred_at = models.DateTimeField(_("when"), editable=False, db_index=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("staff member"),
    )
    # The roles the staff member held at the time, as role codes ("accounting,privacy_staff").
    roles = models.CharField(_("roles"), max_length=200, blank=True, editable=False)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True, editable=False)
    request_id = models.CharField(_("request ID"), max_length=32, blank=True, editable=False)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, editable=False)
    model = models.CharField(_("kind of record"), max_length=100, blank=True, editable=False)
    object_id = models.CharField(_("record"), max_length=64, blank=True, editable=False)
    # "app_label.Model.field" of every personal field shown, revealed, changed or downloaded.
    fields = models.JSONField(_("fields"), default=list, editable=False)
    reason = models.TextField(_("reason"), blank=True, editable=False)
    # The page's path, never its query string (a search may hold what was searched for).
    path = models.CharField(_("page"), max_length=300, blank=True, editable=False)
    prev_hash = models.CharField(_("previous seal"), max_length=64, editable=False)
    hash = models.CharField(_("seal"), max_length=64, editable=False)

    objects = StaffAccessRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff access record")
        verbose_name_plural = _("staff access records")
        ordering = ["-seq"]
        default_permissions = ("view",)  # nobody adds, changes or deletes these by hand
        permissions = [("review_staffaccessrecord", _("Can review the staff access log"))]
        indexes = [models.Index(fields=["staff", "occurred_at"], name="privacy_access_staff_idx")]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.model} ({self.occurred_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermanentRecordError("staff access records are never changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermanentRecordError("staff access records are disposed of only by the retention sweep")


class StaffAccessSubject(models.Model):
    """A data subject whose data one access record covers: one row per member named, written
    with the record in one statement, so that a member's own accesses are found by index."""

    record = models.ForeignKey(
        StaffAccessRecord, on_delete=models.CASCADE, related_name="subjects", editable=False
    )
    subject_id = models.UUIDField(_("data subject"), editable=False)

    class Meta:
        verbose_name = _("staff access subject")
        verbose_name_plural = _("staff access subjects")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["subject_id", "record"], name="privacy_access_subject_unique")
        ]

    def __str__(self):
        return f"record {self.record_id}: {self.subject_id}"


class AccessLogHead(models.Model):
    """The chain's one head row: the last record's number and seal (so that removing the newest
    rows is seen) and the anchor the oldest kept row chains to (moved only by disposal).
    Locked by every append, which puts the records in one order on every database."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")
    anchor_seq = models.PositiveBigIntegerField(default=0)
    anchor_hash = models.CharField(max_length=64, default="")

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"access log head at #{self.last_seq}"


class AccessReviewQuerySet(models.QuerySet):
    """Marks are only ever added; ``delete`` refuses unless every mark is past the two years
    the log it vouches for is kept."""

    def update(self, **kwargs):
        raise PermanentRecordError("access review marks are never changed")

    def expired(self, now=None):
        return self.filter(reviewed_at__lte=_retention_cutoff(now or clock.now(), Retention.STAFF_ACCESS_2Y))

    def delete(self):
        if self.exclude(pk__in=self.expired().values("pk")).exists():
            raise PermanentRecordError("access review marks are kept two years")
        return super().delete()

    delete.queryset_only = True


class AccessReview(models.Model):
    """A month of the staff access log marked as reviewed (policy C10), in two parts so that
    nobody reviews their own accesses: the privacy officer marks everyone else's, a member of
    the privacy staff marks the officer's (``kirakira.privacy.access_log.review_services``).
    Append-only: a mark is never changed."""

    class Part(models.TextChoices):
        STAFF = "staff", _("Staff other than the privacy officer")
        OFFICER = "officer", _("The privacy officer")

    month = models.DateField(_("month"), editable=False)  # the month's first day
    part = models.CharField(_("accesses of"), max_length=10, choices=Part.choices, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), default=clock.now, editable=False)
    note = models.TextField(_("note"), blank=True, editable=False)
    # The log as it stood when marked: a row dated in the month and written later (a clock
    # put right, a late import) is then seen as not covered by the mark.
    record_count = models.PositiveIntegerField(_("records reviewed"), editable=False)
    last_seq = models.PositiveBigIntegerField(_("last record reviewed"), default=0, editable=False)
    request_id = models.CharField(_("request ID"), max_length=32, blank=True, editable=False)

    objects = AccessReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("access review")
        verbose_name_plural = _("access reviews")
        ordering = ["-month", "part"]
        default_permissions = ()  # marked on the review page (privacy.review_staffaccessrecord)
        constraints = [
            models.UniqueConstraint(fields=["month", "part"], name="privacy_accessreview_month_part_unique")
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.part}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermanentRecordError("access review marks are never changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not type(self).objects.filter(pk=self.pk).expired().exists():
            raise PermanentRecordError("access review marks are kept two years")
        return super().delete(*args, **kwargs)


# The key rotation register (kirakira/privacy/keys).
from .keys.models import KeyRotation  # noqa: E402

# Separate storage, legal holds and the disposal ledger (kirakira/privacy/retention).
from .retention.models import DisposalCount, DisposalRun, LegalHold, RegistrationMatch, RetainedRecord  # noqa: E402

# Members' rights requests (kirakira/privacy/rights).
from .rights.models import IdentityCode, RightsRequest  # noqa: E402

__all__ = [
    "AccessLogHead",
    "AccessReview",
    "DataKey",
    "DisposalCount",
    "DisposalRun",
    "IdentityCode",
    "KeyRotation",
    "LegalHold",
    "PermissionChange",
    "PolicyAcknowledgement",
    "PolicyVersion",
    "RegistrationMatch",
    "RetainedRecord",
    "RightsRequest",
    "StaffAccessRecord",
    "StaffAccessSubject",
]
