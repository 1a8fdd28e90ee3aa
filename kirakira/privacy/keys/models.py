"""The key rotation register (imported by ``kirakira/privacy/models.py``, so it belongs to the
``privacy`` app).

Append-only: a row is added when a rotation starts and only the rotation itself moves it on
(``KeyRotationQuerySet.record_progress``: its heartbeat, counts and state) until it is finished.
Nobody edits or deletes a row, from the back office, the shell or a migration's queryset; a
mistake is corrected by a new rotation, which is recorded too.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kirakira.common import clock


class KeyRegisterError(Exception):
    """A key rotation record was about to be edited or deleted."""


# What the rotation itself may move on, while the row is not finished.
PROGRESS_FIELDS = frozenset(
    {
        "state",
        "heartbeat_at",
        "finished_at",
        "rows_done",
        "rows_cleared",
        "per_key",
        "from_keys",
        "runs",
        "error",
    }
)


class KeyRotationQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise KeyRegisterError("key rotation records are never changed; a correction is a new rotation")

    def delete(self):
        raise KeyRegisterError("key rotation records are never deleted")

    delete.queryset_only = True

    def unfinished(self):
        return self.exclude(state=KeyRotation.State.FINISHED)

    def record_progress(self, rotation: "KeyRotation", **fields) -> None:
        """The one way a row changes: the rotation records its progress (the fields of
        ``PROGRESS_FIELDS``) while it is not finished."""
        unknown = set(fields) - PROGRESS_FIELDS
        if unknown:
            raise KeyRegisterError(f"a rotation records only its progress, not {', '.join(sorted(unknown))}")
        rows = models.QuerySet(self.model, using=self.db).filter(pk=rotation.pk)
        changed = rows.exclude(state=KeyRotation.State.FINISHED).update(**fields)
        if changed != 1:
            raise KeyRegisterError("a finished key rotation is never changed")
        for name, value in fields.items():
            setattr(rotation, name, value)


class KeyRotation(models.Model):
    """One rotation of the master keys (data keys re-wrapped) or of the blind-index key (index
    values recomputed), run in batches by ``rotate_master_key`` / ``rotate_blind_index_key``."""

    class Kind(models.TextChoices):
        MASTER = "master", _("master key")
        BLIND_INDEX = "blind_index", _("blind-index key")

    class State(models.TextChoices):
        RUNNING = "running", pgettext_lazy("key rotation state", "running")
        FINISHED = "finished", pgettext_lazy("key rotation state", "finished")
        INTERRUPTED = "interrupted", pgettext_lazy("key rotation state", "interrupted")

    kind = models.CharField(_("key"), max_length=16, choices=Kind.choices, editable=False)
    from_keys = models.JSONField(_("from keys"), default=list, editable=False)
    to_key = models.CharField(_("to key"), max_length=64, editable=False)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.RUNNING, editable=False
    )
    started_at = models.DateTimeField(_("started at"), default=clock.now, editable=False, db_index=True)
    # Who started it: the staff account when started from the back office, else the server's
    # OS user that ran the command.
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("started by"),
    )
    started_by_os_user = models.CharField(
        _("started by (server user)"), max_length=64, blank=True, editable=False
    )
    heartbeat_at = models.DateTimeField(_("last batch at"), default=clock.now, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, editable=False)
    # Data keys re-wrapped, or index values recomputed; by the key they were moved off (per_key).
    rows_done = models.PositiveIntegerField(_("moved to the new key"), default=0, editable=False)
    # Index values emptied because the data they indexed was erased (nothing to recompute).
    rows_cleared = models.PositiveIntegerField(_("emptied (data erased)"), default=0, editable=False)
    per_key = models.JSONField(_("moved off each key"), default=dict, editable=False)
    runs = models.PositiveSmallIntegerField(_("runs"), default=1, editable=False)
    # Why it stopped (key IDs and counts only, never personal data).
    error = models.TextField(_("error"), blank=True, editable=False)

    objects = KeyRotationQuerySet.as_manager()

    class Meta:
        verbose_name = _("key rotation")
        verbose_name_plural = _("key rotations")
        ordering = ["-started_at", "-id"]
        default_permissions = ("view",)  # nobody adds, changes or deletes these by hand
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=~models.Q(state="finished"),
                name="privacy_keyrotation_one_unfinished",
            )
        ]

    def __str__(self):
        return f"{self.kind} rotation to {self.to_key} ({self.state}, {self.started_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise KeyRegisterError("key rotation records are never changed; a correction is a new rotation")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise KeyRegisterError("key rotation records are never deleted")
