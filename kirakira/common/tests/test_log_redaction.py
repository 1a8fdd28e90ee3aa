"""Secrets of emailed links never reach the logs: the filter on the console handler redacts
them from every record, including the ones Django writes for failed requests."""

import logging

import pytest

from kirakira.common.log_redaction import RedactSecretLinks, redact


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/consultations/visitor/3f1c:1xW:abc-_/", "/consultations/visitor/[redacted]"),
        ("/en/consultations/confirm/3f1c:1xW:abc/", "/en/consultations/confirm/[redacted]"),
        ("/accounts/confirm/MTIz/c2k-abcdef/", "/accounts/confirm/[redacted]"),
        ("/ko/accounts/password/reset/MTIz/set-password/", "/ko/accounts/password/reset/[redacted]"),
        ("/accounts/password/reset/sent/", "/accounts/password/reset/sent/"),
        ("/accounts/confirm/resend/", "/accounts/confirm/resend/"),
        ("/consultations/new/", "/consultations/new/"),
    ],
)
def test_redact(path, expected):
    assert redact(path) == expected


def test_the_console_handler_redacts_what_django_logs_for_a_failed_request(client, db, settings):
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, RedactSecretLinks) for h in handlers for f in h.filters)
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keeper = Keep()
    keeper.addFilter(RedactSecretLinks())
    logger = logging.getLogger("django.request")
    logger.addHandler(keeper)
    try:
        response = client.get("/consultations/visitor/not-a-real-token:1xW:sig/")
    finally:
        logger.removeHandler(keeper)
    assert response.status_code == 404
    assert records, "Django logged nothing for the failed request"
    for record in records:
        assert "not-a-real-token" not in record.getMessage()
        assert "[redacted]" in record.getMessage()
