"""The tasks the schedule runs (``jobs.py`` says how often). Each calls a service, the same one a
management command calls where there is one (``enforce_retention`` for the retention sweep), so a
run by hand and a scheduled run do the same thing. They take no arguments, and each is safe to
run twice: the services only dispose of or close what is due, or create what is missing."""

from kirakira.accounts import services as accounts_services
from kirakira.common import clock
from kirakira.common import tasks as common_tasks
from kirakira.common.tasks import task
from kirakira.orders import deadlines as order_deadlines
from kirakira.orders import idempotency
from kirakira.privacy.access_log import partitions as access_log_partitions
from kirakira.privacy.retention import sweep as retention_sweep_module
from kirakira.privacy.retention.models import DisposalCount, DisposalRun
from kirakira.privacy.rights import reminders as rights_reminders
from kirakira.usage import partitions as usage_partitions

UNCONFIRMED_CONSULTATIONS = "consultations.Consultation:until_purpose_met"


@task()
def purge_unconfirmed_consultations() -> int:
    # One rule of the retention sweep, run hourly so that a visitor's unconfirmed message does
    # not wait for the daily run; the daily run does it too, so a clash is no loss.
    try:
        result = retention_sweep_module.run(
            trigger=DisposalRun.Trigger.SCHEDULE, only=(UNCONFIRMED_CONSULTATIONS,), keep_empty=False
        )
    except retention_sweep_module.SweepRunning:
        return 0
    # How many consultations went (their messages and keys are counted in the ledger).
    return sum(
        tally.count
        for (_rule, model, method), tally in result.totals.items()
        if model == "consultations.Consultation" and method == DisposalCount.Method.DELETED
    )


@task()
def retention_sweep() -> int:
    """The daily retention sweep; returns how many records it disposed of (0 when another
    sweep was running: that one does the work)."""
    try:
        result = retention_sweep_module.run(trigger=DisposalRun.Trigger.SCHEDULE)
    except retention_sweep_module.SweepRunning:
        return 0
    return result.count()


@task()
def prune_task_results() -> int:
    return common_tasks.task_results_prune()


@task()
def prune_logins() -> list[int]:
    sessions, tokens = accounts_services.logins_prune()
    return [sessions, tokens]


@task()
def prune_idempotency_keys() -> int:
    return idempotency.idempotency_keys_prune()


@task()
def maintain_log_partitions() -> list[str]:
    now = clock.now()
    return [*usage_partitions.ensure_partitions(now), *access_log_partitions.ensure_partitions(now)]


@task()
def order_payment_deadlines() -> dict[str, int]:
    """Remind members of transfers due soon, and cancel orders unpaid after their deadline."""
    return order_deadlines.run()


@task()
def remind_rights_requests() -> int:
    """Tell privacy staff of members' requests due within 3 days (once per request)."""
    return rights_reminders.remind_due()


@task()
def breach_clocks() -> int:
    """Remind privacy staff of incidents' legal deadlines (once per clock and stage)."""
    from kirakira.breaches import reminders as breach_reminders

    return breach_reminders.remind_due()
