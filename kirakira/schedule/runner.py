"""Starting the schedule's jobs (``jobs.py``) when they are due, from the task worker's loop.

Why by hand. A scheduler has to run in the worker we already have, keep its state in the
database we already have, and let several workers share one schedule. The maintained ones do
not: django-tasks 0.12 has no periodic tasks; django-crontask (the one built for Django's task
framework) runs as a separate ``manage.py crontask`` process on APScheduler, keeps no record of
runs, can lock only through Redis, and needs Python 3.12 or later; django-tasks-scheduler is
built on RQ; django-apscheduler expects a single scheduler process, and django-cron the system's
cron to start it. What is needed is one row per job, claimed under a lock: this module.

How. Each job has a ``ScheduledJob`` row. ``run_due_jobs`` claims every due row in its own
transaction: the row is locked (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a second
worker passes over a row being claimed; on SQLite every write transaction is ``BEGIN IMMEDIATE``
— ``config/settings.py`` — so claims simply take turns) and read again under the lock, its next
run is moved forward, and the job's task is queued in the same transaction: the claim and the
queued task are written together or not at all. The worker then runs the task like any other,
and its end records the outcome (the ``task_finished`` signal; the exception's class only).

- A missed run is not run once per missed interval: the next run is the first point of the
  job's cadence after now, so a worker back after a day runs each job once.
- A run is not queued while the previous one still waits or runs (a backed-up queue, a long
  job): the job's next run moves on instead. A task caught by a dead worker is the worker's to
  take up again; its end still records the outcome.
- If an outcome could not be recorded (the database went away just then), the job shows
  "queued" until its next run, which reads the task's own row to know that it has finished.
"""

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django_tasks import TaskResult, TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

from kirakira.common import clock

from . import jobs
from .jobs import Job
from .models import Outcome, ScheduledJob

logger = logging.getLogger(__name__)


def next_run_after(scheduled: datetime, every: timedelta, now: datetime) -> datetime:
    """The first point of the cadence ``scheduled + k * every`` that is later than ``now``."""
    if every <= timedelta(0):
        raise ValueError("a job's interval must be positive")
    if scheduled > now:
        return scheduled
    return scheduled + ((now - scheduled) // every + 1) * every


def run_due_jobs(*, now: datetime | None = None) -> list[str]:
    """Queue the task of every job whose next run is due; return the names of those queued.

    Safe to call from any number of workers at once, as often as they like: a due run is
    claimed by one of them only. Costs one query when nothing is due."""
    now = now or clock.now()
    declared = {entry.name: entry for entry in jobs.SCHEDULE}
    next_runs = dict(ScheduledJob.objects.filter(name__in=declared).values_list("name", "next_run_at"))
    new = [name for name in declared if name not in next_runs]
    if new:
        # A job new to the schedule is due at once; another worker may add it at the same moment.
        ScheduledJob.objects.bulk_create(
            [ScheduledJob(name=name, next_run_at=now) for name in new], ignore_conflicts=True
        )
    queued = []
    for name, entry in declared.items():
        if name in next_runs and next_runs[name] > now:
            continue
        if _claim(entry, now):
            queued.append(name)
    return queued


def _claim(entry: Job, now: datetime) -> bool:
    with transaction.atomic():
        row = (
            ScheduledJob.objects.select_for_update(skip_locked=True)
            .filter(name=entry.name, next_run_at__lte=now)
            .first()
        )
        if row is None:
            return False  # claimed by another worker meanwhile, or being claimed right now
        row.next_run_at = next_run_after(row.next_run_at, entry.every, now)
        if _previous_run_unfinished(row, entry):
            row.save(update_fields=["next_run_at"])
            logger.info("Scheduled job %s: the previous run has not finished, none queued", entry.name)
            return False
        result = _enqueue(entry)
        row.last_started_at = now
        row.task_result_id = str(result.id)
        row.last_outcome, row.last_finished_at, row.last_error_class = Outcome.QUEUED, None, ""
        if result.is_finished:  # a backend that runs tasks at once (tests, a site without a worker)
            for field, value in _outcome(result, now).items():
                setattr(row, field, value)
        row.save()
    logger.info("Scheduled job %s queued as task %s", entry.name, result.id)
    return True


def _enqueue(entry: Job) -> TaskResult:
    return entry.task.enqueue()


def _previous_run_unfinished(row: ScheduledJob, entry: Job) -> bool:
    """Whether the task queued for the last run still waits or runs."""
    if row.last_outcome != Outcome.QUEUED or not row.task_result_id:
        return False
    if not entry.task.get_backend().supports_get_result:
        return False
    try:
        result = entry.task.get_result(row.task_result_id)
    except (TaskResultDoesNotExist, TaskResultMismatch, ValidationError, ValueError):
        return False  # pruned, or queued through another backend: nothing to wait for
    return not result.is_finished


def _outcome(result: TaskResult, finished_at: datetime) -> dict:
    """The fields that record a finished run: its outcome, and a failure's exception class."""
    failed = result.status == TaskResultStatus.FAILED
    return {
        "last_outcome": Outcome.FAILED if failed else Outcome.SUCCEEDED,
        "last_finished_at": finished_at,
        "last_error_class": result.errors[-1].exception_class_path[:200] if failed and result.errors else "",
    }


def record_finished_run(sender, task_result: TaskResult, **kwargs) -> None:
    """``task_finished`` receiver: record the outcome of the run whose task just finished.

    It must not raise: the worker sends the signal inside its own error handling, and an error
    here would mark a task that succeeded as failed."""
    try:
        path = task_result.task.module_path
    except Exception:  # noqa: BLE001 - a task that cannot be loaded is none of the schedule's
        return
    if path not in {entry.task.module_path for entry in jobs.SCHEDULE}:
        return
    if not task_result.is_finished:
        return
    try:
        # Only the run the schedule queued last, and once: a task queued by hand records nothing.
        ScheduledJob.objects.filter(task_result_id=str(task_result.id), last_outcome=Outcome.QUEUED).update(
            **_outcome(task_result, clock.now())
        )
    except DatabaseError:
        logger.warning("The outcome of scheduled task %s was not recorded (database error)", task_result.id)
