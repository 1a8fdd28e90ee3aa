from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ScheduledJob(models.Model):
    """When a job of the schedule (``kirakira/schedule/jobs.py``) last ran, how that went, and when
    it runs next. The row is also the lock that lets one worker, and only one, start each run."""

    name = models.SlugField(_("job"), max_length=64, unique=True)
    next_run_at = models.DateTimeField(_("next run"))
    last_started_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    last_outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    # The exception's class only: its text may quote personal data (kirakira/common/tasks.py).
    last_error_class = models.CharField(_("error"), max_length=200, blank=True)
    # The task the schedule queued for the last run, whose end records the outcome.
    task_result_id = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]
        # Rows are written by the schedule alone; staff may only look.
        default_permissions = ("view",)

    def __str__(self):
        return self.name
