"""Keeps emailed one-time links out of the logs.

Confirmation, password-reset and visitors' thread links carry a secret in their path; a log
line of such a request (Django logs every 4xx and 5xx with its path; ``runserver`` logs every
request) would hand that secret to whoever reads the logs. This filter, on every handler,
replaces the secret part of those paths with "[redacted]" before anything is written.
"""

import logging
import re

# Paths whose next segments are secrets (whatever language prefix comes before them): the
# email confirmation and password reset links (a user ID and a token), a visitor's
# confirmation and thread links (a signed token).
SECRET_PATHS = re.compile(
    r"(/accounts/confirm/|/accounts/password/reset/|/consultations/visitor/|/consultations/confirm/)"
    r"(?!(?:resend|sent|done|complete)/)[^\s\"'?#]+"
)


def redact(text: str) -> str:
    return SECRET_PATHS.sub(r"\1[redacted]", text)


class RedactSecretLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True
