"""Log lines in production are JSON objects, one a line, with the request ID and without personal
data; the optional Sentry reporting sends nothing personal either."""

import json
import logging
import sys

import pytest
from django.conf import settings

from kirakira.common import request_id
from kirakira.common.error_reporting import WITHHELD, scrub
from kirakira.common.json_logs import JsonFormatter, TextFormatter
from kirakira.common.log_redaction import RedactSecretLinks
from kirakira.common.request_id import RequestIdFilter
from kirakira.common.testing import PASSWORD

from .test_request_id import json_lines, parsed  # noqa: F401 - the fixture

NAME = "山田 花子"
EMAIL = "hanako.logs@example.com"


def _record(msg, *args, exc_info=None, name="kirakira.somewhere", level=logging.WARNING):
    record = logging.LogRecord(name, level, __file__, 10, msg, args, exc_info)
    RequestIdFilter().filter(record)
    return record


def test_a_line_is_one_json_object_with_the_expected_fields():
    with request_id.bound("abcdef12-3456"):
        line = JsonFormatter().format(_record("order %s paid\nsecond line", 12))
    assert "\n" not in line
    data = json.loads(line)
    assert data.pop("time").endswith("+00:00")
    assert data == {
        "level": "WARNING",
        "logger": "kirakira.somewhere",
        "message": "order 12 paid\nsecond line",
        "request_id": "abcdef12-3456",
    }


def test_a_line_outside_a_request_has_no_request_id():
    assert "request_id" not in json.loads(JsonFormatter().format(_record("started")))


def test_secret_links_are_redacted_even_without_the_filter():
    line = JsonFormatter().format(_record("Not Found: %s", "/accounts/confirm/MTIz/c2k-abcdef/"))
    assert json.loads(line)["message"] == "Not Found: /accounts/confirm/[redacted]"


def test_an_exception_keeps_its_class_and_frames_and_never_its_text():
    def fails():
        try:
            raise KeyError(EMAIL)
        except KeyError as exc:
            raise ValueError(f"no mailbox for {NAME}") from exc

    try:
        fails()
    except ValueError:
        line = JsonFormatter().format(_record("Internal Server Error", exc_info=sys.exc_info()))
    assert EMAIL not in line and NAME not in line
    exception = json.loads(line)["exception"]
    assert exception["class"] == "builtins.ValueError"
    assert exception["while_handling"] == ["builtins.KeyError"]
    assert any(frame.endswith(" in fails") for frame in exception["frames"])


def test_development_lines_are_text_with_the_request_id():
    with request_id.bound("abcdef12-3456"):
        assert TextFormatter().format(_record("hello")) == "[abcdef12-3456] hello"
    assert TextFormatter().format(_record("hello")) == "hello"


def test_the_console_handler_uses_the_configured_format():
    console = logging.getLogger().handlers
    assert settings.LOG_FORMAT == "text"  # development's default; production's is json
    [handler] = [h for h in console if any(isinstance(f, RequestIdFilter) for f in h.filters)]
    assert isinstance(handler.formatter, TextFormatter)
    assert any(isinstance(f, RedactSecretLinks) for f in handler.filters)
    assert settings.LOGGING["formatters"]["json"]["()"] == "kirakira.common.json_logs.JsonFormatter"


@pytest.mark.django_db
def test_a_registration_logs_no_personal_data_and_every_line_carries_its_id(
    client,
    json_lines,  # noqa: F811 - the fixture imported above
    mailoutbox,
    django_capture_on_commit_callbacks,
    personal_data_capture,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/en/accounts/register/",
            {
                "login_id": "hanakologs",
                "name": NAME,
                "email": EMAIL,
                "password1": PASSWORD,
                "password2": PASSWORD,
                "accept_terms": "on",
            },
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1  # the confirmation task ran, after the commit
    lines = parsed(json_lines)
    tasks = [line for line in lines if line["logger"] == "django_tasks"]
    assert tasks, "the task's started/finished lines"
    assert {line.get("request_id") for line in lines} == {response["X-Request-ID"]}
    for text in json_lines:
        assert EMAIL not in text and NAME not in text and "hanakologs" not in text
    # And the suite's capture (conftest.py) saw the same records and their personal data values.
    assert personal_data_capture.values.found_in(EMAIL)
    assert personal_data_capture.leaks() == []


# --- Sentry ---------------------------------------------------------------------------------------
def _event() -> dict:
    return {
        "event_id": "e1",
        "level": "error",
        "platform": "python",
        "server_name": "web-1",
        "release": "1.0",
        "transaction": "/accounts/confirm/MTIz/c2k-abcdef/",
        "request": {
            "method": "POST",
            "url": f"https://kirakira.example/en/orders/?q={EMAIL}",
            "query_string": f"q={EMAIL}",
            "data": {"name": NAME, "email": EMAIL},
            "cookies": {"sessionid": "secret-session"},
            "headers": {"Cookie": "sessionid=secret-session", "X-Forwarded-For": "203.0.113.9"},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"id": 12, "email": EMAIL, "ip_address": "203.0.113.9"},
        "exception": {
            "values": [
                {
                    "type": "SMTPRecipientsRefused",
                    "module": "smtplib",
                    "value": f"{{'{EMAIL}': (550, b'unknown')}}",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "kirakira/accounts/emails.py",
                                "function": "send",
                                "lineno": 40,
                                "vars": {"address": EMAIL},
                                "context_line": f"send_mail(to='{EMAIL}')",
                                "pre_context": [NAME],
                            }
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {
            "values": [
                {"category": "query", "message": f"SELECT ... WHERE email = '{EMAIL}'", "data": {"p": EMAIL}},
                {"category": "django.request", "level": "warning", "message": f"Not Found: /?n={NAME}"},
            ]
        },
        "extra": {"name": NAME},
        "contexts": {"runtime": {"name": "CPython"}, "response": {"body": EMAIL}},
        "tags": {"request_id": "abcdef12", "email": EMAIL},
        "logentry": {"message": "Internal Server Error: %s", "params": [EMAIL]},
    }


def test_the_sentry_scrubber_leaves_no_personal_data():
    event = _event()
    with request_id.bound("abcdef12-3456"):
        scrubbed = scrub(event, {})
    text = json.dumps(scrubbed, ensure_ascii=False)
    for value in (EMAIL, NAME, "secret-session", "203.0.113.9", "c2k-abcdef"):
        assert value not in text, value
    assert scrubbed["request"] == {"method": "POST", "url": "https://kirakira.example/en/orders/"}
    assert "user" not in scrubbed and "extra" not in scrubbed
    [exception] = scrubbed["exception"]["values"]
    assert exception["type"] == "SMTPRecipientsRefused" and exception["value"] == WITHHELD
    assert exception["stacktrace"] == {
        "frames": [{"filename": "kirakira/accounts/emails.py", "function": "send", "lineno": 40}]
    }
    assert scrubbed["breadcrumbs"]["values"] == [
        {"category": "query"},
        {"category": "django.request", "level": "warning"},
    ]
    assert scrubbed["contexts"] == {"runtime": {"name": "CPython"}}
    assert scrubbed["tags"] == {"request_id": "abcdef12-3456"}
    assert scrubbed["logentry"] == {"message": "Internal Server Error: %s"}
    assert scrubbed["transaction"] == "/accounts/confirm/[redacted]"


def test_sentry_starts_only_with_a_dsn_and_without_personal_data(monkeypatch):
    import sentry_sdk

    from kirakira.common import error_reporting

    assert settings.SENTRY_DSN == ""  # not set here: nothing was started
    seen = {}
    monkeypatch.setattr(sentry_sdk, "init", lambda **options: seen.update(options))
    error_reporting.init("https://key@sentry.example/1")
    assert seen["send_default_pii"] is False
    assert seen["include_local_variables"] is False
    assert seen["before_send"] is scrub
    assert seen["max_request_body_size"] == "never"
