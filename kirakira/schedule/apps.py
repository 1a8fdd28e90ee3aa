from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScheduleConfig(AppConfig):
    name = "kirakira.schedule"
    label = "schedule"
    verbose_name = _("Periodic jobs")

    def ready(self):
        from django_tasks.signals import task_finished

        from . import checks  # noqa: F401 - registers the schedule's system checks
        from .runner import record_finished_run

        # A scheduled run's outcome is recorded as the worker finishes its task.
        task_finished.connect(record_finished_run, dispatch_uid="kirakira.schedule.record_finished_run")
