"""Log lines as JSON, one object a line, for a log collector (``LOG_FORMAT=json``, production's
default).

A small Formatter rather than python-json-logger: what matters here is what is *left out*, and
that library writes every extra attribute of a record and the full exception text. A line holds
``time``, ``level``, ``logger``, ``message`` (after the secret-link redaction of
``log_redaction``, which runs as a filter before any formatter), ``request_id`` when known, and
for an exception only its class and frames (file, line, function): an exception's text routinely
quotes the values it refused (an email address, a name), so it is withheld, as the task guard
withholds it (``kirakira/common/tasks.py``).
"""

import json
import logging
import traceback
from datetime import UTC, datetime

from .log_redaction import redact


def exception_outline(exc_info) -> dict:
    """The class of the exception and its frames, never its text or local values."""
    exc_type, exc, tb = exc_info
    frames = traceback.StackSummary.extract(traceback.walk_tb(tb), lookup_lines=False)
    out = {
        "class": f"{exc_type.__module__}.{exc_type.__qualname__}",
        "frames": [f"{f.filename}:{f.lineno} in {f.name}" for f in frames],
    }
    chain, seen, link = [], {id(exc)}, exc
    while link is not None:
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
        if link is None or id(link) in seen:
            break
        seen.add(id(link))
        chain.append(f"{type(link).__module__}.{type(link).__qualname__}")
    if chain:
        out["while_handling"] = chain
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = exception_outline(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Development's console lines, with the request ID when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"[{request_id}] {text}" if request_id else text
