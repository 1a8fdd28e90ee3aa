"""The task worker outlives faults and every task's effect happens once.

- A worker killed mid-task (SIGKILL while a task is RUNNING, its email unanswered by the SMTP
  server) leaves the task to the next worker, which takes it up after TASK_RUNNING_TIMEOUT and
  sends it once.
- A worker whose database connection is killed (``pg_terminate_backend``) or whose database is
  locked, while it claims, runs or records a task, carries on: every task completes once.
- Tasks left RUNNING are put back to READY after the timeout (on the controllable clock).
- Running an email task twice sends one email (the delivery ledger).
- An order and its email task are written in one transaction: both or neither.
"""

import asyncio
import sqlite3
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest
from django.core import mail
from django.db import OperationalError, connection, connections, transaction
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, DBTaskResultQuerySet

from kirakira.accounts import services as accounts_services
from kirakira.accounts.models import RoleRequest, User
from kirakira.accounts.tasks import send_member_email, send_role_request_notice
from kirakira.common import clock
from kirakira.common import worker as worker_module
from kirakira.common.models import EmailDelivery
from kirakira.common.roles import Role
from kirakira.common.smtp_testing import smtp_server
from kirakira.common.tasks import (
    TaskArgumentRefused,
    TaskFailed,
    email_send_once,
    enqueue_in_transaction,
    task,
)
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.common.tests.test_task_worker import start_worker
from kirakira.common.worker import MAX_ATTEMPTS, Worker, backoff_delay, stale_tasks_requeue
from kirakira.consultations import services as consultation_services
from kirakira.consultations.tasks import send_consultation_email, send_consultation_reply
from kirakira.consultations.testing import open_for_member, open_for_visitor
from kirakira.orders import emails as order_emails
from kirakira.orders import tasks as order_tasks
from kirakira.orders.models import Order, OrderEvent
from kirakira.orders.tasks import send_order_email, send_order_event_email
from kirakira.orders.testing import make_service, place_order, record_payment

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
REGISTRATION_EMAIL = "kirakira.accounts.tasks.send_member_email"
ORDER_EMAIL = "kirakira.orders.tasks.send_order_email"
PASSWORD = "correct-horse-battery-9"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POSTGRESQL_ONLY = (
    "pg_terminate_backend ends a PostgreSQL server's connection; SQLite has no server and no "
    "connection to end from outside. Its fault, the database locked by another connection while "
    "the worker runs or records a task, is test_the_worker_outlives_a_database_fault_and_the_task_"
    "runs_to_completion_once, which runs on both databases."
)


@pytest.fixture
def db_tasks(settings):
    settings.TASKS = DB_TASKS


@pytest.fixture
def no_schedule(monkeypatch):
    """In-process workers run only the test's tasks (the schedule's are tested where it lives)."""
    monkeypatch.setattr(worker_module, "SCHEDULE_RUNNER", f"{__name__}.no_such_runner")


def in_process_worker(**options) -> Worker:
    defaults = {
        "queue_names": ["default"],
        "interval": 0.01,
        "batch": True,
        "backend_name": "default",
        "startup_delay": False,
        "max_tasks": None,
        "worker_id": "in-process",
        "excluded_queue_names": [],
        "backoff_base": 0.01,
        "backoff_max": 0.05,
    }
    return Worker(**{**defaults, **options})


def wait_until(condition, *, seconds: float = 90, what: str = "the condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# --- faults the tests inject ---------------------------------------------------------------
def _in_another_thread(work) -> None:
    """Run ``work`` on a connection of its own (Django's connections are per thread)."""
    failure = []

    def run():
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            failure.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def terminate_backend(pid: int) -> None:
    def work():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])  # waits until it is gone

    _in_another_thread(work)


def the_database_stops_answering(hold: float = 2.0) -> None:
    """From now on this thread's database connection fails: on PostgreSQL the server ends it
    (``pg_terminate_backend`` from another connection); on SQLite another connection holds
    the write lock for ``hold`` seconds, and this one gives up waiting for it after 50 ms."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        terminate_backend(connection.connection.info.backend_pid)
        return
    locked = threading.Event()

    def hold_the_lock():
        other = sqlite3.connect(connection.settings_dict["NAME"], timeout=30, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            locked.set()
            time.sleep(hold)
            other.execute("COMMIT")
        finally:
            other.close()

    threading.Thread(target=hold_the_lock, daemon=True).start()
    assert locked.wait(30)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 50")


RUNS: list[str] = []


@task()
def deliver_with_a_fault(*, order_id: str, fault: Literal["before_send", "after_send"]) -> None:
    """Send one email through the ledger; on its first run the database stops answering
    before the send (the task's own query fails) or after it (recording the result fails)."""
    RUNS.append(order_id)
    first = len(RUNS) == 1
    if first and fault == "before_send":
        the_database_stops_answering()
    email_send_once(
        kind="tests.fault",
        ids=(order_id,),
        send=lambda: mail.send_mail("Fault test", "A test message.", None, ["someone@example.com"]),
    )
    if first and fault == "after_send":
        the_database_stops_answering()


@task()
def always_loses_its_connection(*, order_id: str) -> None:
    RUNS.append(order_id)
    raise OperationalError("server closed the connection unexpectedly")


@task()
def counts_its_runs(*, order_id: str) -> None:
    RUNS.append(order_id)


@pytest.fixture
def runs():
    RUNS.clear()
    yield RUNS
    RUNS.clear()


# --- the worker outlives database faults (in-process, both databases) -----------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", ["before_send", "after_send"])
def test_the_worker_outlives_a_database_fault_and_the_task_runs_to_completion_once(
    fault, db_tasks, no_schedule, runs, caplog
):
    order_id = str(uuid.uuid4())
    faulty = deliver_with_a_fault.enqueue(order_id=order_id, fault=fault)
    after = counts_its_runs.enqueue(order_id=str(uuid.uuid4()))

    in_process_worker().run()  # returns: the worker did not die

    row = DBTaskResult.objects.get(pk=faulty.id)
    assert row.status == "SUCCESSFUL"
    assert row.worker_ids == ["in-process", "in-process"]  # put back to READY and run again
    assert DBTaskResult.objects.get(pk=after.id).status == "SUCCESSFUL"
    assert len(mail.outbox) == 1  # once, although the task ran twice
    assert EmailDelivery.objects.filter(kind="tests.fault", key=order_id).count() == 1
    assert runs.count(order_id) == 2
    assert "Database error while running a task (django.db.utils" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_worker_outlives_a_connection_error_while_claiming(
    db_tasks, no_schedule, runs, monkeypatch, caplog
):
    """django_tasks_db's own worker lets any claim error but "database is locked" end it."""
    original = DBTaskResultQuerySet.get_locked
    failures = iter([OperationalError("server closed the connection unexpectedly")] * 2)

    def get_locked(self):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return original(self)

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", get_locked)
    result = counts_its_runs.enqueue(order_id=str(uuid.uuid4()))

    in_process_worker().run()

    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    assert caplog.text.count("Database error while claiming a task (django.db.utils.OperationalError)") == 2


@pytest.mark.django_db(transaction=True)
def test_a_task_that_loses_its_connection_every_time_is_failed_after_the_last_attempt(
    db_tasks, no_schedule, runs
):
    order_id = str(uuid.uuid4())
    result = always_loses_its_connection.enqueue(order_id=order_id)

    in_process_worker().run()

    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "FAILED"
    assert row.exception_class_path == "django.db.utils.OperationalError"
    assert len(row.worker_ids) == MAX_ATTEMPTS == runs.count(order_id)


def test_the_back_off_doubles_up_to_its_bound_with_jitter():
    for faults in range(1, 40):
        ceiling = min(30.0, 0.5 * 2 ** (faults - 1))
        delays = {backoff_delay(faults, base=0.5, maximum=30.0) for _ in range(20)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # spread, so that workers cut off together do not return together


# --- the schedule runs each turn, and its database errors are the worker's to survive --------
SCHEDULE_CALLS: list[int] = []


def flaky_schedule() -> None:
    SCHEDULE_CALLS.append(1)
    if len(SCHEDULE_CALLS) == 1:
        raise OperationalError("server closed the connection unexpectedly")


def broken_schedule() -> None:
    SCHEDULE_CALLS.append(1)
    raise ValueError("a job's bug")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("runner", "logged"),
    [
        ("flaky_schedule", "Database error while running the schedule (django.db.utils.OperationalError)"),
        ("broken_schedule", "The schedule failed: builtins.ValueError"),
    ],
)
def test_each_turn_runs_the_schedule_whose_errors_do_not_stop_the_worker(
    runner, logged, db_tasks, runs, monkeypatch, caplog
):
    SCHEDULE_CALLS.clear()
    monkeypatch.setattr(worker_module, "SCHEDULE_RUNNER", f"{__name__}.{runner}")
    results = [counts_its_runs.enqueue(order_id=str(uuid.uuid4())) for _ in range(2)]

    in_process_worker().run()

    assert len(SCHEDULE_CALLS) == 3  # a turn per task, and the last turn that found none
    assert {DBTaskResult.objects.get(pk=r.id).status for r in results} == {"SUCCESSFUL"}
    assert logged in caplog.text
    assert "a job's bug" not in caplog.text  # the class and the code locations, not the text


@pytest.mark.django_db(transaction=True)
def test_without_a_schedule_installed_the_worker_runs_tasks_alone(db_tasks, no_schedule, runs):
    assert worker_module._schedule_runner() is None
    result = counts_its_runs.enqueue(order_id=str(uuid.uuid4()))
    in_process_worker().run()
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"


# --- tasks left RUNNING by a dead worker -----------------------------------------------------
def _row(status: str, *, started_at=None, backend_name: str = "default") -> DBTaskResult:
    row = DBTaskResult.objects.create(
        task_path=f"{__name__}.counts_its_runs",
        args_kwargs={"args": [], "kwargs": {"order_id": str(uuid.uuid4())}},
        backend_name=backend_name,
        status=status,
        worker_ids=["dead-worker"] if started_at else [],
    )
    DBTaskResult.objects.filter(pk=row.pk).update(started_at=started_at)  # claim() would set it now
    return row


def _status(row) -> str:
    return DBTaskResult.objects.get(pk=row.pk).status


def test_a_task_running_longer_than_the_timeout_is_made_ready_again(db, settings):
    settings.TASK_RUNNING_TIMEOUT = 600
    with clock.frozen_at(START):
        stale = _row("RUNNING", started_at=START - timedelta(seconds=601))
        at_the_limit = _row("RUNNING", started_at=START - timedelta(seconds=600))
        recent = _row("RUNNING", started_at=START - timedelta(seconds=5))
        finished = _row("SUCCESSFUL", started_at=START - timedelta(hours=2))
        waiting = _row("READY")
        elsewhere = _row("RUNNING", started_at=START - timedelta(hours=1), backend_name="other")

        assert stale_tasks_requeue(backend_name="default") == 1
        assert _status(stale) == "READY"
        assert DBTaskResult.objects.get(pk=stale.pk).started_at is None
        assert [_status(r) for r in (at_the_limit, recent, finished, waiting, elsewhere)] == [
            "RUNNING",
            "RUNNING",
            "SUCCESSFUL",
            "READY",
            "RUNNING",
        ]

        clock.advance(timedelta(seconds=1))
        assert stale_tasks_requeue(backend_name="default") == 1
        assert _status(at_the_limit) == "READY" and _status(recent) == "RUNNING"


def test_the_running_timeout_comes_from_the_setting(db, settings):
    settings.TASK_RUNNING_TIMEOUT = 60
    with clock.frozen_at(START):
        stale = _row("RUNNING", started_at=START - timedelta(seconds=61))
        assert stale_tasks_requeue() == 1
        assert _status(stale) == "READY"


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_a_task_a_dead_worker_left_running(db_tasks, no_schedule, runs, settings):
    settings.TASK_RUNNING_TIMEOUT = 600
    left = counts_its_runs.enqueue(order_id=str(uuid.uuid4()))
    DBTaskResult.objects.filter(pk=left.id).update(
        status="RUNNING", started_at=clock.now() - timedelta(seconds=601), worker_ids=["dead-worker"]
    )

    in_process_worker().run()

    row = DBTaskResult.objects.get(pk=left.id)
    assert row.status == "SUCCESSFUL"
    assert row.worker_ids == ["dead-worker", "in-process"]
    assert len(runs) == 1


# --- every email task sends once, however often it runs -------------------------------------
def _order_placed():
    order = place_order()
    return order.member.email, lambda: send_order_email.call(order_id=str(order.pk), kind="order_placed")


def _order_event():
    order = place_order()
    record_payment(order)
    event = OrderEvent.objects.get(order=order, kind="paid")
    return order.member.email, lambda: send_order_event_email.call(order_id=str(order.pk), event_id=event.pk)


def _member_email():
    member = MemberFactory()
    email_id = str(uuid.uuid4())
    return member.email, lambda: send_member_email.call(
        user_id=str(member.pk), kind="password_reset", email_id=email_id
    )


def _visitor_received():
    consultation = open_for_visitor()
    return consultation.visitor_email, lambda: send_consultation_email.call(
        consultation_id=str(consultation.pk), kind="visitor_received"
    )


def _staff_reply():
    consultation = open_for_member()
    message = consultation_services.staff_reply(
        consultation_id=consultation.pk,
        actor=StaffFactory(roles=[Role.CUSTOMER_SERVICE]),
        body="ご回答です。",
    )
    return consultation.member.email, lambda: send_consultation_reply.call(
        consultation_id=str(consultation.pk), message_id=str(message.pk)
    )


def _role_request_notice():
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    request = RoleRequest.objects.create(
        account=StaffFactory(),
        requested_by=StaffFactory(),
        roles_added=[Role.CUSTOMER_SERVICE],
        roles_removed=[],
    )
    return officer.email, lambda: send_role_request_notice.call(request_id=str(request.pk))


@pytest.mark.parametrize(
    "email",
    [_order_placed, _order_event, _member_email, _visitor_received, _staff_reply, _role_request_notice],
)
def test_running_an_email_task_twice_sends_one_email(db, email):
    address, run_task = email()
    mail.outbox.clear()
    before = EmailDelivery.objects.count()

    run_task()
    run_task()

    assert [m.to for m in mail.outbox] == [[address]]
    assert EmailDelivery.objects.count() == before + 1


def test_each_request_for_a_member_email_is_an_email_of_its_own(db):
    member = MemberFactory()
    mail.outbox.clear()
    for email_id in (uuid.uuid4(), uuid.uuid4()):
        for _ in range(2):
            send_member_email.call(user_id=str(member.pk), kind="password_reset", email_id=str(email_id))
    assert len(mail.outbox) == 2


def test_a_send_that_fails_leaves_no_ledger_row_so_the_retry_sends(db, monkeypatch):
    order = place_order()
    mail.outbox.clear()

    def refused(order):
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setitem(order_tasks._SENDERS, "order_placed", refused)
    with pytest.raises(TaskFailed) as failed:
        send_order_email.call(order_id=str(order.pk), kind="order_placed")
    assert failed.value.original_class is ConnectionRefusedError
    assert not EmailDelivery.objects.exists()

    monkeypatch.setitem(order_tasks._SENDERS, "order_placed", order_emails.send_order_placed)
    send_order_email.call(order_id=str(order.pk), kind="order_placed")
    send_order_email.call(order_id=str(order.pk), kind="order_placed")
    assert len(mail.outbox) == 1
    assert list(EmailDelivery.objects.values_list("kind", "key")) == [("orders.order_placed", str(order.pk))]


def test_the_ledger_refuses_anything_but_ids(db):
    with pytest.raises(TaskArgumentRefused):
        email_send_once(kind="tests.fault", ids=("someone@example.com",), send=lambda: None)
    assert not EmailDelivery.objects.exists()


# --- a write and the task it queues: both or neither ----------------------------------------
@pytest.mark.django_db(transaction=True)
def test_an_order_is_committed_with_its_email_task(db_tasks):
    order = place_order()
    [row] = DBTaskResult.objects.filter(task_path=ORDER_EMAIL)
    assert row.status == "READY" and row.args_kwargs["kwargs"]["order_id"] == str(order.pk)


@pytest.mark.django_db(transaction=True)
def test_an_order_whose_transaction_rolls_back_leaves_no_task_row(db_tasks):
    member, service = MemberFactory(), make_service()
    with pytest.raises(RuntimeError), transaction.atomic():
        place_order(member=member, service=service)
        # Queued in the order's transaction, on its connection: not after the commit.
        assert DBTaskResult.objects.filter(task_path=ORDER_EMAIL).count() == 1
        raise RuntimeError("something later in the same transaction failed")
    assert not Order.objects.exists()
    assert not DBTaskResult.objects.exists()


def _queueing_fails(monkeypatch):
    def refuse(self, task, args, kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(DatabaseBackend, "_task_to_db_task", refuse)


@pytest.mark.django_db(transaction=True)
def test_an_order_whose_email_cannot_be_queued_is_not_stored(db_tasks, monkeypatch):
    """The observed case: the order was committed and answered 500, and its email never left."""
    member, service = MemberFactory(), make_service()
    _queueing_fails(monkeypatch)
    with pytest.raises(OperationalError):
        place_order(member=member, service=service)
    assert not Order.objects.exists()
    assert not OrderEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_registration_whose_email_cannot_be_queued_is_not_stored(db_tasks, monkeypatch):
    _queueing_fails(monkeypatch)
    with pytest.raises(OperationalError):
        accounts_services.member_register(
            accept_terms=True,
            login_id="queued",
            name="登録 花子",
            email="queued@example.com",
            password=PASSWORD,
            language="ja",
        )
    assert not User.objects.filter(login_id="queued").exists()


@pytest.mark.django_db(transaction=True)
def test_a_payment_whose_email_cannot_be_queued_is_not_recorded(db_tasks, monkeypatch):
    order = place_order()
    _queueing_fails(monkeypatch)
    with pytest.raises(OperationalError):
        record_payment(order)
    order.refresh_from_db()
    assert order.status == "awaiting_payment"
    assert not order.payments.exists()


@pytest.mark.django_db(transaction=True)
def test_with_a_backend_that_runs_tasks_at_once_the_email_waits_for_the_commit():
    member, service = MemberFactory(), make_service()
    mail.outbox.clear()
    with transaction.atomic():
        place_order(member=member, service=service)
        assert mail.outbox == []  # not sent about an order that may still roll back
    assert [m.to for m in mail.outbox] == [[member.email]]


def test_a_refused_task_argument_fails_inside_the_transaction_with_either_backend(db, settings):
    for tasks in (settings.TASKS, DB_TASKS):
        settings.TASKS = tasks
        with pytest.raises(TaskArgumentRefused):
            enqueue_in_transaction(send_order_email, order_id="someone@example.com", kind="order_placed")


# --- real worker processes ----------------------------------------------------------------
class StallingSmtp:
    """An SMTP server that leaves the first message's DATA unanswered until ``released`` is
    set. A message whose client went away meanwhile is not accepted: aiosmtpd cancels the
    handler when the connection drops, as a real server drops a message it never acknowledged."""

    def __init__(self):
        self.stalled = threading.Event()
        self.released = threading.Event()
        self.accepted: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if not self.stalled.is_set():
            self.stalled.set()
            while not self.released.is_set():
                await asyncio.sleep(0.02)
            if server.transport is None:
                return "451 4.4.2 Connection dropped"
        self.accepted.extend(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


def _register(count: int, prefix: str) -> list[str]:
    addresses = []
    for n in range(count):
        address = f"{prefix}{n}@example.com"
        accounts_services.member_register(
            accept_terms=True,
            login_id=f"{prefix}{n}",
            name=f"会員 {prefix} {n}",
            email=address,
            password=PASSWORD,
            language="ja",
        )
        addresses.append(address)
    return addresses


def _registration_emails():
    return DBTaskResult.objects.filter(task_path=REGISTRATION_EMAIL)


def _all_sent(count: int):
    return lambda: _registration_emails().filter(status="SUCCESSFUL").count() == count


def _stop(process) -> str:
    if process.poll() is None:
        process.terminate()
    output, _ = process.communicate(timeout=60)
    return output


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_leaves_the_task_to_the_next_worker_which_sends_it_once(db_tasks):
    addresses = _register(4, "killed")
    handler = StallingSmtp()
    with smtp_server(handler) as (port, _):
        first = start_worker(port, "first", batch=False)
        try:
            assert handler.stalled.wait(90), "the first worker never reached the SMTP server"
            [stuck] = _registration_emails().filter(status="RUNNING")
            first.kill()  # SIGKILL: no clean-up of any kind
            first.wait(timeout=30)
        finally:
            _stop(first)
        handler.released.set()
        assert handler.accepted == []  # the message the killed worker was sending never arrived
        assert _registration_emails().get(pk=stuck.pk).status == "RUNNING"  # left behind

        second = start_worker(port, "second", batch=False, env={"TASK_RUNNING_TIMEOUT": "2"})
        try:
            wait_until(_all_sent(len(addresses)), what="every email task to succeed")
        finally:
            output = _stop(second)
    assert second.returncode == 0, output

    assert Counter(handler.accepted) == dict.fromkeys(addresses, 1)
    assert EmailDelivery.objects.filter(kind="accounts.registration_confirmation").count() == len(addresses)
    stuck = _registration_emails().get(pk=stuck.pk)
    assert stuck.worker_ids == ["first", "second"]
    assert "Put back 1 task(s) left running for more than 2 s" in output


def _other_backends() -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, wait_event_type FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cursor.fetchall()


@pytest.mark.skipif(connection.vendor != "postgresql", reason=POSTGRESQL_ONLY)
@pytest.mark.django_db(transaction=True)
def test_a_worker_whose_connection_is_killed_carries_on_and_sends_each_email_once(db_tasks):
    handler = StallingSmtp()
    with smtp_server(handler) as (port, _):
        worker = start_worker(port, "survivor", batch=False)
        try:
            # 1. Killed while it waits for work.
            wait_until(lambda: len(_other_backends()) == 1, what="the worker's connection")
            [(pid, _)] = _other_backends()
            terminate_backend(pid)
            addresses = _register(4, "survivor")

            # 2. Killed while it records a result: the email is sent and in the ledger; the
            # worker's UPDATE of the task row waits on a lock this test holds, and dies there.
            assert handler.stalled.wait(90), "the worker never reached the SMTP server"
            [stuck] = _registration_emails().filter(status="RUNNING")
            with transaction.atomic():
                DBTaskResult.objects.select_for_update().get(pk=stuck.pk)
                handler.released.set()
                wait_until(
                    lambda: [w for _, w in _other_backends() if w == "Lock"],
                    what="the worker to wait on the lock",
                )
                [(pid, _)] = _other_backends()
                terminate_backend(pid)

            wait_until(_all_sent(len(addresses)), what="every email task to succeed")

            # 3. Killed once more, idle; it still takes the next task.
            wait_until(lambda: len(_other_backends()) == 1, what="the worker's new connection")
            [(pid, _)] = _other_backends()
            terminate_backend(pid)
            addresses += _register(1, "after")
            wait_until(_all_sent(len(addresses)), what="the last email task to succeed")
            assert worker.poll() is None, "the worker died"
        finally:
            output = _stop(worker)
    assert worker.returncode == 0, output

    assert Counter(handler.accepted) == dict.fromkeys(addresses, 1)
    assert EmailDelivery.objects.filter(kind="accounts.registration_confirmation").count() == len(addresses)
    assert _registration_emails().get(pk=stuck.pk).worker_ids == ["survivor", "survivor"]
    assert "Database error while running a task" in output
    for address in addresses:
        assert address not in output and address.split("@")[0] not in output
