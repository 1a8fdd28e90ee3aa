"""The tasks the schedule runs (``jobs.py`` says how often). Each calls the same service as its
management command, so a run by hand and a scheduled run do the same thing. They take no
arguments, and each is safe to run twice: every service only deletes or closes what is due."""

from kirakira.accounts import services as accounts_services
from kirakira.common import tasks as common_tasks
from kirakira.common.tasks import task
from kirakira.consultations import services as consultations_services
from kirakira.orders import idempotency
from kirakira.privacy.access_log import chain as access_log_chain


@task()
def purge_unconfirmed_consultations() -> int:
    return consultations_services.purge_unconfirmed()


@task()
def close_idle_consultations() -> int:
    return consultations_services.close_idle()


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
def dispose_staff_access_records() -> int:
    return access_log_chain.dispose_expired()
