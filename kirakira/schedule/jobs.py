"""The schedule: which job runs, and how often. A job joins it with one entry in ``SCHEDULE``
(its name, the task it queues, its interval); ``run_due_jobs`` (``runner.py``), called by the
task worker, does the rest. The task is an ordinary project task (``kirakira.common.tasks.task``)
taking no arguments, and it must be safe to run twice."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kirakira.common.tasks import GuardedTask

from . import tasks

HOURLY = timedelta(hours=1)
DAILY = timedelta(days=1)


@dataclass(frozen=True)
class Job:
    name: str
    task: GuardedTask
    every: timedelta
    description: Promise


SCHEDULE: tuple[Job, ...] = (
    Job(
        "purge_unconfirmed_consultations",
        tasks.purge_unconfirmed_consultations,
        HOURLY,
        _("Deletes visitors' consultations whose confirmation link expired unused"),
    ),
    Job(
        "retention_sweep",
        tasks.retention_sweep,
        DAILY,
        _(
            "Disposes of every record whose retention period is over, and closes answered consultations "
            "left without a reply (their retention period starts)"
        ),
    ),
    Job(
        "prune_task_results",
        tasks.prune_task_results,
        DAILY,
        _("Deletes the records of finished background tasks after their retention period"),
    ),
    Job(
        "prune_logins",
        tasks.prune_logins,
        DAILY,
        _("Deletes expired sessions and API tokens, and login addresses not used recently"),
    ),
    Job(
        "prune_idempotency_keys",
        tasks.prune_idempotency_keys,
        HOURLY,
        _("Deletes the order API's idempotency keys once their 24 hours are over"),
    ),
    Job(
        "maintain_log_partitions",
        tasks.maintain_log_partitions,
        DAILY,
        _("Creates the coming months' partitions of the usage log and the staff access log (PostgreSQL)"),
    ),
    Job(
        "order_payment_deadlines",
        tasks.order_payment_deadlines,
        HOURLY,
        _(
            "Reminds members of bank transfers due soon, and cancels orders still unpaid after their "
            "payment deadline (with a mail each)"
        ),
    ),
    Job(
        "remind_rights_requests",
        tasks.remind_rights_requests,
        HOURLY,
        _("Reminds the privacy staff of members' requests due within 3 days"),
    ),
    Job(
        "breach_clocks",
        tasks.breach_clocks,
        HOURLY,
        _(
            "Reminds the privacy staff of a personal data incident's legal deadlines: a day before each "
            "runs out, and when one has passed"
        ),
    ),
)


def job(name: str) -> Job | None:
    return next((entry for entry in SCHEDULE if entry.name == name), None)


def is_scheduled(name: str) -> bool:
    """Whether the schedule runs a job of this name (the policy page's capability probes ask)."""
    return job(name) is not None
