"""The task worker (``manage.py run_worker``): django_tasks_db's worker, made to outlive faults.

django_tasks_db's ``db_worker`` stops on the first database error outside its claim query:
a connection killed while it records a task's result raises out of ``set_failed`` and ends the
process, and whatever it was running stays RUNNING for ever. Here:

- Any database error while claiming a task, running one, recording its result or running the
  schedule closes the worker's connections, waits (exponential back-off with jitter, bounded
  by ``backoff_max``) and carries on with a fresh connection. The log names the error's class
  only: a database error's text may quote the values of a row.
- A task that did not finish because of the database (it raised a connection error itself, or
  its result could not be recorded) is put back to READY under the same claim once the
  database answers again, and run again; every task is safe to run twice (emails go through
  the delivery ledger, ``email_send_once`` in ``kirakira/common/tasks.py``). After
  ``MAX_ATTEMPTS`` claims it is recorded as failed instead, so a task that breaks its
  connection every time does not loop for ever.
- Tasks left RUNNING by a worker that died (killed, out of memory, its machine gone) are put
  back to READY once they have run longer than ``TASK_RUNNING_TIMEOUT`` seconds
  (:func:`stale_tasks_requeue`), so another worker runs them. The timeout must be longer than
  any task takes: a task still running past it is run a second time beside itself.
- Each turn of the loop also runs the periodic schedule (``kirakira.schedule.runner``), when
  that module is installed.

Supervision is not this module's: a worker that dies anyway (a bug, a signal) is restarted by
``scripts/serve-dev`` in development and by the service manager in production.
"""

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connections
from django.utils.module_loading import import_string
from django_tasks.base import TaskContext, TaskResultStatus
from django_tasks.signals import task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from . import clock, request_id
from .models import WorkerHeartbeat
from .tasks import REQUEST_ID_KWARG, sanitized

logger = logging.getLogger(__name__)

SCHEDULE_RUNNER = "kirakira.schedule.runner.run_due_jobs"
MAX_ATTEMPTS = 5
HEARTBEAT_EVERY = 30.0  # seconds
HEARTBEAT_FORGET = timedelta(days=1)  # a worker unseen this long is gone: its row goes
# The database errors that say "the connection, not the task, went wrong": worth a retry.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def stale_tasks_requeue(*, timeout: float | None = None, backend_name: str | None = None) -> int:
    """Put back to READY the tasks RUNNING for more than ``timeout`` seconds (default
    ``TASK_RUNNING_TIMEOUT``); return how many.

    One UPDATE: it locks each row it changes and, on PostgreSQL, reads the row's status again
    under the lock, so a task that a live worker finishes at that moment is left finished. The
    claim's start time is cleared, so the worker that claimed it (if it still runs) no longer
    matches it when it tries to put it back itself."""
    timeout = settings.TASK_RUNNING_TIMEOUT if timeout is None else timeout
    rows = DBTaskResult.objects.running().filter(started_at__lt=clock.now() - timedelta(seconds=timeout))
    if backend_name is not None:
        rows = rows.filter(backend_name=backend_name)
    count = rows.update(status=TaskResultStatus.READY, started_at=None)
    if count:
        logger.warning("Put back %d task(s) left running for more than %d s", count, timeout)
    return count


def backoff_delay(faults: int, *, base: float, maximum: float) -> float:
    """Seconds to wait after the ``faults``-th database error in a row: doubling from ``base``
    up to ``maximum``, the upper half drawn at random so that workers cut off together do not
    all come back in the same instant."""
    ceiling = min(maximum, base * 2 ** min(faults - 1, 32))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


def _schedule_runner():
    try:
        return import_string(SCHEDULE_RUNNER)
    except ImportError:
        return None  # no schedule installed


def _close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DatabaseError:
            pass  # broken already: closing it is all that was asked


def _database_caused(exc: BaseException) -> bool:
    """Whether a task's failure was its database connection's (the task itself is fine)."""
    original = getattr(exc, "original_class", type(exc))  # a TaskFailed names the original class
    return isinstance(original, type) and issubclass(original, CONNECTION_ERRORS)


class Worker(DatabaseWorker):
    """django_tasks_db's worker with the fault handling described in the module's docstring."""

    def __init__(
        self,
        *,
        running_timeout: float | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        **options,
    ):
        super().__init__(**options)
        self.running_timeout = settings.TASK_RUNNING_TIMEOUT if running_timeout is None else running_timeout
        # Often enough that a dead worker's task waits little longer than the timeout; rarely
        # enough that the UPDATE costs nothing next to the polling.
        self.reap_every = max(0.1, min(60.0, self.running_timeout / 4))
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.faults = 0
        self._last_reap: float | None = None
        self._last_beat: float | None = None
        self._to_release: dict[str, object] = {}  # task id -> the start time of our claim
        self._schedule = None

    # --- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names))
        self._schedule = _schedule_runner()
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # noqa: S311 - spreads workers started together
        while self.running:
            faults_before = self.faults
            doing = "connecting"
            try:
                close_old_connections()  # drops a connection the server closed while we slept
                doing = "putting back an interrupted task"
                self._release_interrupted()
                doing = "putting back tasks left running"
                self._reap_if_due()
                doing = "recording its heartbeat"
                self._beat_if_due()
                doing = "claiming a task"
                task_result = self._claim()
            except DatabaseError as exc:
                self._fault(doing, exc)
                continue
            self._run_schedule()
            if task_result is not None:
                self.run_task(task_result)
            elif self.batch:
                logger.info("No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id)
                return
            if self.faults == faults_before:
                self.faults = 0  # a whole turn without an error: the next one starts the back-off anew
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                logger.info("Ran the maximum of %d task(s) - exiting gracefully.", self._run_tasks)
                return
            if self.running and task_result is None:
                time.sleep(self.interval)

    def _claim(self) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        return task_result

    def _reap_if_due(self) -> None:
        now = time.monotonic()
        if self._last_reap is None or now - self._last_reap >= self.reap_every:
            stale_tasks_requeue(timeout=self.running_timeout, backend_name=self.backend_name)
            self._last_reap = now

    def _beat_if_due(self) -> None:
        """Tell ``/readyz`` this worker is alive (``WorkerHeartbeat``): at most every
        ``HEARTBEAT_EVERY`` seconds, well inside the readiness check's 5 minutes. A task that runs
        longer than those 5 minutes holds the loop, and a lone worker shows as unseen meanwhile."""
        now = time.monotonic()
        if self._last_beat is not None and now - self._last_beat < HEARTBEAT_EVERY:
            return
        seen_at = clock.now()
        WorkerHeartbeat.objects.update_or_create(worker_id=self.worker_id, defaults={"seen_at": seen_at})
        WorkerHeartbeat.objects.filter(seen_at__lt=seen_at - HEARTBEAT_FORGET).delete()
        self._last_beat = now

    def _run_schedule(self) -> None:
        if self._schedule is None:
            return
        try:
            self._schedule()
        except DatabaseError as exc:
            self._fault("running the schedule", exc)
        except Exception as exc:  # noqa: BLE001 - a broken job must not stop the task worker
            logger.error("The schedule failed: %s", sanitized(exc))

    def _fault(self, doing: str, exc: BaseException) -> None:
        """Log a database error (its class only), drop the connections and back off."""
        self.faults += 1
        delay = backoff_delay(self.faults, base=self.backoff_base, maximum=self.backoff_max)
        error = getattr(exc, "original_class", type(exc))
        logger.warning(
            "Database error while %s (%s.%s); reconnecting in %.1f s",
            doing,
            error.__module__,
            error.__qualname__,
            delay,
        )
        _close_connections()
        if self.running:
            time.sleep(delay)

    # --- one task ---------------------------------------------------------------------------
    def run_task(self, db_task_result: DBTaskResult) -> None:
        """Run a claimed task and record its outcome, as django_tasks_db's worker does, except
        that a task stopped by the database is put back to READY rather than recorded as
        failed, and an error while recording does not end the worker."""
        self.running_task = True
        try:
            self._run_and_record(db_task_result)
        except DatabaseError as exc:
            self._to_release[db_task_result.pk] = db_task_result.started_at
            self._fault("running a task", exc)
        except BaseException:
            # Stopped by force (a second Ctrl+C): hand the task back rather than leave it
            # RUNNING until the timeout. Best effort: the database may be why we stop.
            self._to_release[db_task_result.pk] = db_task_result.started_at
            try:
                self._release_interrupted()
            except DatabaseError:
                pass
            raise
        finally:
            self.running_task = False
            self._run_tasks += 1

    def _run_and_record(self, db_task_result: DBTaskResult) -> None:
        # The lines django_tasks writes as the task starts and ends carry the ID of the request
        # that queued it, like the task's own lines.
        queued_by = (db_task_result.args_kwargs or {}).get("kwargs", {}).get(REQUEST_ID_KWARG)
        with request_id.bound(queued_by):
            self._run_and_record_bound(db_task_result)

    def _run_and_record_bound(self, db_task_result: DBTaskResult) -> None:
        try:
            task = db_task_result.task
            task_result = db_task_result.task_result
        except (ImportError, SuspiciousOperation) as exc:
            # A row naming a task that no longer exists: nothing to run, ever.
            db_task_result.set_failed(exc)
            logger.error("Task id=%s cannot be loaded: %s", db_task_result.pk, sanitized(exc))
            return
        sender = type(task.get_backend())
        task_started.send(sender=sender, task_result=task_result)
        try:
            if task.takes_context:
                value = task.call(TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs)
            else:
                value = task.call(*task_result.args, **task_result.kwargs)
        except Exception as exc:  # noqa: BLE001 - recorded below, as django_tasks_db does
            if _database_caused(exc) and len(db_task_result.worker_ids) < MAX_ATTEMPTS:
                raise OperationalError("the task lost its database connection") from None
            self._record_failure(db_task_result, exc)
            return
        try:
            db_task_result.set_successful(value)
        except DatabaseError:
            raise
        except Exception as exc:  # noqa: BLE001 - a return value the row cannot hold, say
            self._record_failure(db_task_result, exc)
            return
        task_finished.send(sender=sender, task_result=db_task_result.task_result)

    @staticmethod
    def _record_failure(db_task_result: DBTaskResult, exc: BaseException) -> None:
        db_task_result.set_failed(exc)
        task_finished.send(sender=type(db_task_result.task.get_backend()), task_result=db_task_result.task_result)

    def _release_interrupted(self) -> None:
        """Put back to READY the tasks this worker could not finish because of the database,
        if they are still under our claim (the reaper may have handed them on already)."""
        for pk, started_at in list(self._to_release.items()):
            DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING, started_at=started_at).update(
                status=TaskResultStatus.READY, started_at=None
            )
            del self._to_release[pk]
