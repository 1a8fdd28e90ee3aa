"""The schedule's bookkeeping holds no personal data: job names, times, and the class of the
exception a failed run raised (never its text)."""

from kirakira.privacy.catalog import Context, catalog, not_personal

catalog.register(
    "schedule.ScheduledJob",
    context=Context.SECURITY,
    not_personal=not_personal(
        "id",
        "name",
        "next_run_at",
        "last_started_at",
        "last_finished_at",
        "last_outcome",
        "last_error_class",
        "task_result_id",
        reason="the periodic jobs' schedule: names, times and an exception's class",
    ),
)
