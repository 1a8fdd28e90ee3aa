"""Nothing personal where the catalog says there is none: task arguments are IDs and codes, a
failed task's row and log hold the exception's class and code path only (a mail server's
refusal names the address it refused), finished rows are pruned, and the suite's own capture
of logs and task rows sees a planted address."""

import importlib
import importlib.util
import inspect
import logging
import smtplib
import traceback
import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Literal, get_args, get_origin, get_type_hints

import pytest
from asgiref.sync import async_to_sync
from django.apps import apps
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from kirakira.accounts import services
from kirakira.common import clock
from kirakira.common import tasks as common_tasks
from kirakira.common.pii_capture import Capture, PersonalValues, find_personal_data
from kirakira.common.smtp_testing import smtp_server
from kirakira.common.tasks import CODE, GuardedTask, TaskArgumentRefused, TaskFailed, task, task_results_prune
from kirakira.common.testing import PASSWORD, MemberFactory
from kirakira.common.tests.test_task_worker import _start_worker

ADDRESS = "bounce.hanako@example.com"
NAME = "跳返 花子"
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


# --- a real SMTP server that refuses every recipient ------------------------------------------
class _Refusing:
    """Answers RCPT as a real server does for an unknown mailbox: 550, repeating the address."""

    def __init__(self):
        self.refused: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        self.refused.append(address)
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"


def refusing_smtp_server():
    return smtp_server(_Refusing())


# --- tasks of this module, to test the wrapper itself -----------------------------------------
@task()
def refused_delivery(*, user_id: str) -> None:
    try:
        raise ConnectionResetError(f"connection to the mailbox of {ADDRESS} reset")
    except ConnectionResetError as exc:
        raise smtplib.SMTPRecipientsRefused({ADDRESS: (550, f"<{ADDRESS}> unknown".encode())}) from exc


@task()
def does_nothing(*, order_id: str, event_id: int, kind: Literal["order_placed", "reply"]) -> None:
    return None


# --- every task takes IDs and codes -----------------------------------------------------------
def project_tasks() -> dict[str, Task]:
    """Every django_tasks Task defined in a tasks module of a Kirakira app."""
    found = {}
    for config in apps.get_app_configs():
        name = f"{config.name}.tasks"
        if not config.name.startswith("kirakira.") or importlib.util.find_spec(name) is None:
            continue
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, Task) and value.func.__module__ == name:
                found[value.module_path] = value
    return found


def test_every_project_task_takes_only_ids_and_codes():
    tasks = project_tasks()
    assert {
        "kirakira.accounts.tasks.send_member_email",
        "kirakira.orders.tasks.send_order_email",
        "kirakira.orders.tasks.send_order_event_email",
        "kirakira.consultations.tasks.send_consultation_email",
        "kirakira.consultations.tasks.send_consultation_reply",
    } <= set(tasks)
    for path, found in tasks.items():
        assert isinstance(found, GuardedTask), f"{path} is declared with django_tasks' bare @task"
        hints = get_type_hints(found.func)
        for name in inspect.signature(found.func).parameters:
            hint = hints.get(name)
            if get_origin(hint) is Literal:
                codes = get_args(hint)
                assert codes and all(isinstance(c, str) and CODE.fullmatch(c) for c in codes), (path, name)
            else:
                assert name != "login_id", f"{path}: a login ID is personal data, not an ID"
                assert name.endswith("_id") and hint in (str, int, uuid.UUID), (
                    f"{path}: parameter {name!r} is neither an ID (named *_id, a UUID's text or an int) "
                    "nor a code typed Literal[...]"
                )


@pytest.mark.parametrize(
    "value",
    [
        "hanako@example.com",
        "090-1234-5678",
        "09012345678",
        "山田 花子",
        "Hanako",
        "hanako yamada",
        "yamada_hanako",  # a login ID is a lowercase word too
        "order_placed",  # a code, but this parameter names no closed set
        "x" * 65,
        True,
        None,
        3.5,
        ["order_placed"],
        {"id": 1},
        b"order_placed",
    ],
)
def test_enqueueing_refuses_an_argument_that_is_not_an_id_or_a_code(value):
    with pytest.raises(TaskArgumentRefused) as refused:
        does_nothing.enqueue(order_id=value, event_id=1, kind="reply")
    assert "'order_id'" in str(refused.value)
    if isinstance(value, str):
        assert value not in str(refused.value)


def test_enqueueing_from_async_code_is_checked_too():
    with pytest.raises(TaskArgumentRefused):
        async_to_sync(does_nothing.aenqueue)(order_id="hanako@example.com", event_id=1, kind="reply")


def test_enqueueing_refuses_a_code_outside_the_parameters_closed_set():
    with pytest.raises(TaskArgumentRefused, match="'kind' must be one of order_placed, reply"):
        does_nothing.enqueue(order_id=str(uuid.uuid4()), event_id=1, kind="password_reset")


def test_enqueueing_refuses_unknown_or_missing_arguments():
    with pytest.raises(TaskArgumentRefused, match="unexpected keyword argument 'email'"):
        does_nothing.enqueue(order_id=str(uuid.uuid4()), event_id=1, kind="reply", email="a@b.example")
    with pytest.raises(TaskArgumentRefused, match="missing a required argument: 'kind'"):
        does_nothing.enqueue(order_id=str(uuid.uuid4()), event_id=1)


def test_enqueueing_takes_ints_uuids_and_their_text_and_the_codes_of_a_closed_set():
    order_id = uuid.uuid4()
    result = does_nothing.enqueue(order_id=order_id, event_id=12, kind="order_placed")
    assert result.status == TaskResultStatus.SUCCESSFUL
    # A UUID is stored as its text (the task table holds JSON).
    assert result.kwargs == {"order_id": str(order_id), "event_id": 12, "kind": "order_placed"}
    assert (
        does_nothing.enqueue(order_id=str(order_id), event_id=1, kind="reply").status
        == TaskResultStatus.SUCCESSFUL
    )


def test_the_project_tasks_refuse_an_email_address_at_enqueue_time(db):
    from kirakira.accounts.tasks import send_member_email

    with pytest.raises(TaskArgumentRefused):
        send_member_email.enqueue(user_id="hanako@example.com", kind="password_reset")
    with pytest.raises(TaskArgumentRefused):
        send_member_email.enqueue(user_id=str(uuid.uuid4()), kind="hanako")


# --- failures keep the class and the code path, nothing the exception said ---------------------
def test_a_failure_keeps_the_class_and_the_code_path_and_nothing_the_exception_said():
    with pytest.raises(TaskFailed) as raised:
        refused_delivery.call(user_id=str(uuid.uuid4()))
    failure = raised.value
    text = "".join(traceback.format_exception(failure))
    assert "bounce.hanako" not in text
    # Not chained: neither a traceback printer nor an error tracker reaches the original.
    assert failure.__cause__ is None and failure.__context__ is None and failure.__suppress_context__
    # The class stays recognisable, in the text and as a class.
    assert f"{type(failure).__module__}.{type(failure).__qualname__}" == "smtplib.SMTPRecipientsRefused"
    assert failure.original_class is smtplib.SMTPRecipientsRefused
    assert "smtplib.SMTPRecipientsRefused: smtplib.SMTPRecipientsRefused (its text is withheld" in text
    assert 'test_task_privacy.py", line' in text and "in refused_delivery" in text
    assert "while handling builtins.ConnectionResetError" in text


def test_a_task_failing_under_the_immediate_backend_keeps_no_address_in_its_result_or_log(caplog):
    with caplog.at_level(logging.DEBUG):
        result = refused_delivery.enqueue(user_id=str(uuid.uuid4()))
    assert result.status == TaskResultStatus.FAILED
    [error] = result.errors
    assert error.exception_class_path == "smtplib.SMTPRecipientsRefused"
    assert error.exception_class is smtplib.SMTPRecipientsRefused  # what a retry policy reads
    assert "bounce.hanako" not in error.traceback and "in refused_delivery" in error.traceback
    logged = caplog.text
    assert "state=FAILED" in logged and "SMTPRecipientsRefused" in logged
    assert "bounce.hanako" not in logged


def test_a_bounced_email_sent_in_process_leaves_no_address_in_the_task_result(db, settings):
    from kirakira.accounts.tasks import send_member_email

    member = MemberFactory(email=ADDRESS, name=NAME)
    with refusing_smtp_server() as (port, server):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        result = send_member_email.enqueue(user_id=str(member.pk), kind="registration_confirmation")
    assert server.refused == [ADDRESS]
    assert result.status == TaskResultStatus.FAILED
    [error] = result.errors
    assert error.exception_class is smtplib.SMTPRecipientsRefused
    assert ADDRESS not in error.traceback and NAME not in error.traceback
    assert "send_registration_confirmation" in error.traceback
    # The log record of the failure is checked by the suite's capture (conftest.py).


@pytest.mark.django_db(transaction=True)
def test_a_bounced_registration_email_leaves_no_address_in_the_task_row_or_the_worker_output(settings):
    """The observed case: a real worker process, a real SMTP server answering 550 on RCPT."""
    settings.TASKS = DB_TASKS
    services.member_register(
        accept_terms=True, login_id="bounced", name=NAME, email=ADDRESS, password=PASSWORD, language="ja"
    )
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    with refusing_smtp_server() as (port, server):
        worker = _start_worker(port, "test-worker-bounce")
        output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output
    assert server.refused == [ADDRESS]

    row = DBTaskResult.objects.get()
    assert row.status == "FAILED"
    assert row.exception_class_path == "smtplib.SMTPRecipientsRefused"
    assert "send_registration_confirmation" in row.traceback
    assert "SMTPRecipientsRefused" in output and "state=FAILED" in output  # the failure was logged
    for where, text in {
        "traceback": row.traceback,
        "exception": row.exception_class_path,
        "output": output,
    }.items():
        for value in (ADDRESS, "bounce.hanako", NAME):
            assert value not in text, f"{value!r} in the worker's {where}"


# --- finished rows are pruned ----------------------------------------------------------------
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _row(status: str, finished_at: datetime | None) -> DBTaskResult:
    return DBTaskResult.objects.create(
        task_path="kirakira.accounts.tasks.send_member_email",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        status=status,
        finished_at=finished_at,
    )


def test_finished_task_rows_are_deleted_once_the_retention_period_has_passed(db, settings):
    assert settings.TASK_RESULT_RETENTION_DAYS == 7
    with clock.frozen_at(START):
        succeeded = _row("SUCCESSFUL", START - timedelta(days=8))
        failed = _row("FAILED", START - timedelta(days=7, seconds=1))
        on_the_day = _row("SUCCESSFUL", START - timedelta(days=7))
        recent = _row("FAILED", START - timedelta(days=1))
        waiting = _row("READY", None)
        running = _row("RUNNING", None)

        assert task_results_prune() == 2
        remaining = set(DBTaskResult.objects.values_list("pk", flat=True))
        assert remaining == {on_the_day.pk, recent.pk, waiting.pk, running.pk}
        assert succeeded.pk not in remaining and failed.pk not in remaining

        clock.advance(timedelta(days=6, seconds=1))
        assert task_results_prune() == 2
        # Work still to do is never pruned, however old.
        assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"READY", "RUNNING"}


def test_the_retention_period_comes_from_the_setting(db, settings):
    settings.TASK_RESULT_RETENTION_DAYS = 30
    with clock.frozen_at(START):
        _row("SUCCESSFUL", START - timedelta(days=29))
        old = _row("FAILED", START - timedelta(days=31))
        assert task_results_prune() == 1
        assert not DBTaskResult.objects.filter(pk=old.pk).exists()


def test_pruning_deletes_a_backlog_in_chunks(db, monkeypatch):
    monkeypatch.setattr(common_tasks, "PRUNE_CHUNK", 2)
    with clock.frozen_at(START):
        for _ in range(5):
            _row("SUCCESSFUL", START - timedelta(days=10))
        assert task_results_prune() == 5
    assert not DBTaskResult.objects.exists()


def test_prune_task_results_command(db):
    with clock.frozen_at(START):
        _row("SUCCESSFUL", START - timedelta(days=10))
        out = StringIO()
        call_command("prune_task_results", stdout=out)
    assert out.getvalue().strip() == "Deleted 1 finished task row(s) older than 7 day(s)."
    assert not DBTaskResult.objects.exists()


def test_the_catalog_declares_how_long_task_rows_are_kept(settings):
    from kirakira.privacy.catalog import catalog

    declaration = catalog.for_model("django_tasks_database.DBTaskResult")
    for column in ("traceback", "exception_class_path", "args_kwargs"):
        reason = declaration.not_personal[column]
        assert f"deleted {settings.TASK_RESULT_RETENTION_DAYS} days after they finish" in reason


# --- the suite's capture can see a leak ------------------------------------------------------
def test_the_checker_reports_a_members_value_in_any_form_a_log_may_show_it():
    values = PersonalValues()
    values.add(ADDRESS, "email (accounts.User.email)")
    values.add(NAME, "name (accounts.User.name)")
    values.add("090-1234-5678", "phone (orders.Order.phone)")
    values.add("kira", "sns_account_id (orders.Order.sns_account_id)")
    values.add("Ann", "name (accounts.User.name)")  # too short to mean anything: not watched
    texts = [
        ("plain", f"mail to {ADDRESS.upper()} refused"),
        ("url", "GET /search?q=bounce.hanako%40example.com"),
        ("json", '{"name": "\\u8df3\\u8fd4 \\u82b1\\u5b50"}'),
        ("bytes", repr(NAME.encode())),
        ("digits", "call 09012345678"),
        ("sns", "no account @KIRA on x"),
        ("clean", "Annual report for order 5f0c; Ann; path=kirakira.orders.tasks id=Xkira9"),
    ]
    assert find_personal_data(texts, values) == [
        "plain holds the email (accounts.User.email) of a test member",
        "url holds the email (accounts.User.email) of a test member",
        "json holds the name (accounts.User.name) of a test member",
        "bytes holds the name (accounts.User.name) of a test member",
        "digits holds the phone (orders.Order.phone) of a test member",
        "sns holds the sns_account_id (orders.Order.sns_account_id) of a test member",
    ]


def test_the_suites_capture_sees_a_members_email_in_a_debug_log_record(
    db, personal_data_capture, monkeypatch
):
    member = MemberFactory(email=ADDRESS)
    # A logger set to errors only, that does not pass its records on to the root's handlers.
    quiet = logging.getLogger("kirakira.somewhere")
    monkeypatch.setattr(quiet, "propagate", False)
    quiet.setLevel(logging.ERROR)
    try:
        quiet.debug("sent the confirmation to %s", member.email)
    finally:
        quiet.setLevel(logging.NOTSET)
    assert personal_data_capture.leaks() == [
        "log record of 'kirakira.somewhere' (DEBUG) holds the email (accounts.User.email) of a test member"
    ]
    personal_data_capture.texts.clear()  # planted on purpose: seen, and not a leak of this test


def test_the_suites_capture_sees_a_members_name_in_a_task_row(db, personal_data_capture):
    member = MemberFactory(name=NAME)
    row = _row("READY", None)
    row.traceback = f"ValueError: no mailbox for {member.name}"
    row.save()
    assert personal_data_capture.leaks() == [
        "task row kirakira.accounts.tasks.send_member_email (READY), traceback holds the name (accounts.User.name) "
        "of a test member"
    ]
    personal_data_capture.texts.clear()  # planted on purpose: seen, and not a leak of this test


def test_the_capture_leaves_what_other_handlers_print_unchanged(caplog):
    printed = []

    class Keep(logging.Handler):
        def emit(self, record):
            printed.append(record.getMessage())

    logger = logging.getLogger("kirakira.capture_test")
    logger.setLevel(logging.INFO)
    keep = Keep()
    logger.addHandler(keep)
    capture = Capture()
    try:
        capture.start()
        logger.debug("debug record")
        logger.info("info record")
        # A level the test itself lowers is honoured, as pytest's caplog.at_level needs.
        with caplog.at_level(logging.DEBUG, logger="kirakira.capture_test"):
            logger.debug("asked-for debug record")
    finally:
        capture.stop()
        logger.removeHandler(keep)
        logger.setLevel(logging.NOTSET)
    assert printed == ["info record", "asked-for debug record"]
    assert [r.getMessage() for r in caplog.records] == ["info record", "asked-for debug record"]
    assert [text for _where, text in capture.texts if "record" in text] == [
        "debug record",
        "info record",
        "asked-for debug record",
    ]
