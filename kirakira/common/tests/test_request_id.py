"""Every request has an ID: answered in X-Request-ID, on every log line of the request and of the
tasks it queues, and on the error pages (in the page's language), for a member to quote."""

import json
import logging
import re
import uuid

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django_tasks_db.models import DBTaskResult

from config.urls import handler404, handler500  # noqa: F401 - this test URLconf's error pages
from kirakira.common import request_id
from kirakira.common.i18n_urls import i18n_patterns
from kirakira.common.json_logs import JsonFormatter
from kirakira.common.log_redaction import RedactSecretLinks
from kirakira.common.request_id import RequestIdFilter
from kirakira.common.tasks import REQUEST_ID_KWARG, task

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
GENERATED = re.compile(r"[0-9a-f]{32}")
logger = logging.getLogger("kirakira.tests.request_id")


@task()
def logs_a_line(*, order_id: str) -> None:
    logger.info("task ran for order %s", order_id)


def logging_view(request):
    logger.info("view ran")
    logs_a_line.enqueue(order_id=str(uuid.UUID(int=7)))
    return HttpResponse("ok")


def failing_view(request):
    raise RuntimeError("no mailbox for hanako.failing@example.com")


urlpatterns = i18n_patterns(path("logs/", logging_view), path("fails/", failing_view))


@pytest.fixture
def json_lines():
    """The lines the production console handler would write (LOG_FORMAT=json), parsed."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    keeper = Keep()
    keeper.addFilter(RedactSecretLinks())
    keeper.addFilter(RequestIdFilter())
    keeper.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(keeper)
    try:
        yield lines
    finally:
        root.removeHandler(keeper)


def parsed(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines]


# --- the header ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_each_answer_carries_a_new_request_id(client):
    first = client.get("/en/")["X-Request-ID"]
    second = client.get("/en/")["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second
    assert request_id.current() is None  # cleared once the request finished


@pytest.mark.django_db
def test_a_well_formed_incoming_id_is_kept(client):
    response = client.get("/en/", HTTP_X_REQUEST_ID="proxy-1234-ABCD")
    assert response["X-Request-ID"] == "proxy-1234-ABCD"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 65, "has space 12345", "hanako@example.com", "<script>alert(1)</script>", "abc_defgh123"],
)
def test_a_bad_incoming_id_is_replaced(client, json_lines, incoming):
    response = client.get("/en/no-such-page/", HTTP_X_REQUEST_ID=incoming)
    answered = response["X-Request-ID"]
    assert GENERATED.fullmatch(answered)
    assert incoming not in response.content.decode()
    assert all(incoming not in line for line in json_lines)


# --- log lines --------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_requests_log_lines_and_its_tasks_lines_carry_its_id(client, json_lines):
    response = client.get("/en/logs/")
    assert response.status_code == 200
    lines = parsed(json_lines)
    messages = {line["message"]: line for line in lines}
    assert "view ran" in messages
    assert f"task ran for order {uuid.UUID(int=7)}" in messages  # the task ran at once (ImmediateBackend)
    assert {line.get("request_id") for line in lines} == {response["X-Request-ID"]}


@pytest.mark.django_db
def test_the_not_found_line_django_writes_after_the_answer_carries_the_id(client, json_lines):
    response = client.get("/en/no-such-page/")
    [line] = [line for line in parsed(json_lines) if line["logger"] == "django.request"]
    assert line["message"].startswith("Not Found") and line["level"] == "WARNING"
    assert line["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_task_queued_in_a_request_runs_in_the_worker_with_the_requests_id(client, settings, json_lines):
    settings.TASKS = DB_TASKS
    response = client.get("/en/logs/")
    row = DBTaskResult.objects.get()
    assert row.status == "READY"
    assert row.args_kwargs["kwargs"][REQUEST_ID_KWARG] == response["X-Request-ID"]
    json_lines.clear()
    assert request_id.current() is None

    # What the worker does with a claimed row (kirakira/common/worker.py).
    task_result = row.task_result
    row.task.call(*task_result.args, **task_result.kwargs)

    [line] = [line for line in parsed(json_lines) if line["logger"] == logger.name]
    assert line["request_id"] == response["X-Request-ID"]
    assert request_id.current() is None  # not left behind for the worker's next task


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_the_workers_own_lines_about_a_task_carry_the_id_of_the_request_that_queued_it(
    client, settings, json_lines
):
    from kirakira.common.tests.test_worker_faults import in_process_worker

    settings.TASKS = DB_TASKS
    response = client.get("/en/logs/")
    json_lines.clear()
    worker = in_process_worker()
    claimed = DBTaskResult.objects.get()
    claimed.claim(worker.worker_id)
    worker.run_task(claimed)
    by_task = [line for line in parsed(json_lines) if line["logger"].startswith("django_tasks")]
    assert by_task, parsed(json_lines)  # "Task id=… state=RUNNING", "… state=SUCCESSFUL"
    assert {line.get("request_id") for line in by_task} == {response["X-Request-ID"]}
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert request_id.current() is None


def test_a_task_queued_outside_a_request_has_no_id(json_lines):
    result = logs_a_line.enqueue(order_id=str(uuid.UUID(int=8)))
    assert REQUEST_ID_KWARG not in result.kwargs
    [line] = [line for line in parsed(json_lines) if line["logger"] == logger.name]
    assert "request_id" not in line


@pytest.mark.parametrize("given", ["bad id!", "hanako@example.com", 12345678])
def test_a_malformed_request_id_given_to_a_task_is_dropped(json_lines, given):
    result = logs_a_line.enqueue(order_id=str(uuid.UUID(int=9)), **{REQUEST_ID_KWARG: given})
    assert REQUEST_ID_KWARG not in result.kwargs
    assert all("request_id" not in line for line in parsed(json_lines))


# --- error pages --------------------------------------------------------------------------------
LANGUAGES = [("", "ja"), ("/en", "en"), ("/ko", "ko")]


@pytest.mark.django_db
@pytest.mark.parametrize(("prefix", "language"), LANGUAGES)
def test_the_404_page_shows_the_request_id(client, prefix, language):
    response = client.get(f"{prefix}/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert f'lang="{language}"' in page
    assert response["X-Request-ID"] in page


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("prefix", "language"), LANGUAGES)
def test_the_500_page_shows_the_request_id_and_its_log_line_keeps_only_the_exceptions_class(
    prefix, language, json_lines
):
    client = Client(raise_request_exception=False)
    response = client.get(f"{prefix}/fails/")
    assert response.status_code == 500
    page = response.content.decode()
    assert f'lang="{language}"' in page
    assert response["X-Request-ID"] in page

    [line] = [line for line in parsed(json_lines) if line["logger"] == "django.request"]
    assert line["request_id"] == response["X-Request-ID"]
    assert line["exception"]["class"] == "builtins.RuntimeError"
    assert any("failing_view" in frame for frame in line["exception"]["frames"])
    assert "hanako.failing" not in json_lines[-1]


@pytest.mark.django_db
def test_the_csrf_failure_page_shows_the_request_id():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/en/accounts/register/", {"login_id": "someone"})
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()
    assert response["X-Request-ID"] in response.content.decode()


def test_the_label_goes_through_gettext():
    from django.template.loader import get_template
    from django.utils import translation

    with translation.override("en"):
        page = get_template("common/500.html").render({"request_id": "abcd1234"})
    assert "Request ID: abcd1234" in page
