"""One ID per request, so that a member quoting the ID on an error page leads support to every log
line of that request, and of the tasks it queued.

The ID is taken from a well-formed incoming ``X-Request-ID`` (so that the proxy's access log and
ours agree) or made here; it is answered in the ``X-Request-ID`` header, shown on error pages, set
on every log record made while the request runs (:class:`RequestIdFilter`), and handed to the
tasks the request queues (``kirakira/common/tasks.py``). It is never personal data: an incoming
value that is not 8 to 64 letters, digits and dashes is replaced, so a header cannot smuggle text
into the logs.

The ID lives in a context variable. It is set by the middleware and cleared at
``request_finished`` (not when the middleware returns): Django logs a failed request's
"Not Found"/"Internal Server Error" line after the middleware chain has answered, and that line
must carry the ID too.
"""

import contextvars
import logging
import re
import uuid
from contextlib import contextmanager

from django.core.signals import request_finished

HEADER = "X-Request-ID"
WELL_FORMED = re.compile(r"[A-Za-z0-9-]{8,64}")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def is_well_formed(value) -> bool:
    return isinstance(value, str) and WELL_FORMED.fullmatch(value) is not None


def current() -> str | None:
    """The ID of the request (or task) running now, or None outside of one."""
    return _current.get()


def new() -> str:
    return uuid.uuid4().hex


@contextmanager
def bound(request_id: str | None):
    """Run the block with ``request_id`` as the current ID (a task run for a request)."""
    token = _current.set(request_id if is_well_formed(request_id) else None)
    try:
        yield
    finally:
        _current.reset(token)


class RequestIdMiddleware:
    """First in ``MIDDLEWARE``, so that every answer (also the error pages drawn for the other
    middleware) carries the header, and every log line of the request the ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER)
        request_id = incoming if is_well_formed(incoming) else new()
        request.request_id = request_id
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _clear(**kwargs) -> None:
    # A thread of a threaded server serves one request after another: the next request's early
    # lines (before the middleware) must not carry this one's ID.
    _current.set(None)


request_finished.connect(_clear, dispatch_uid="kirakira.common.request_id.clear")


class RequestIdFilter(logging.Filter):
    """Sets ``record.request_id`` (None outside a request or task) on every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True
