from datetime import timedelta

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kirakira.common.admin_base import ViewOnlyAdmin
from kirakira.privacy.catalog.admin import shows

from . import jobs
from .models import ScheduledJob


def interval_text(every: timedelta) -> str:
    seconds = int(every.total_seconds())
    if seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("every day", "every %(count)d days", days) % {"count": days}
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("every hour", "every %(count)d hours", hours) % {"count": hours}
    minutes = max(seconds // 60, 1)
    return ngettext("every minute", "every %(count)d minutes", minutes) % {"count": minutes}


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ViewOnlyAdmin):
    """The schedule as it runs: rows are written by the task worker alone (``runner.py``)."""

    list_display = (
        "name",
        "what",
        "interval",
        "last_started_at",
        "last_finished_at",
        "last_outcome",
        "last_error_class",
        "next_run_at",
    )
    list_filter = ("last_outcome",)
    fields = list_display
    readonly_fields = list_display

    @admin.display(description=_("what it does"))
    @shows()
    def what(self, obj):
        entry = jobs.job(obj.name)
        return entry.description if entry else _("no longer in the schedule")

    @admin.display(description=_("interval"))
    @shows()
    def interval(self, obj):
        entry = jobs.job(obj.name)
        return interval_text(entry.every) if entry else "—"
