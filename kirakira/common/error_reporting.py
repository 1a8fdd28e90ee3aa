"""Optional error reporting to Sentry, only when ``SENTRY_DSN`` is set, with personal data left out.

``send_default_pii=False`` keeps the SDK from attaching users, cookies and bodies on its own, but
an event still carries what the integrations gather: the request's headers, query string and
body, breadcrumbs (log messages, SQL, URLs), the exception's text (which routinely quotes the
value it refused: an email address, a name) and local variables. :func:`scrub` is the
``before_send`` that keeps only what tells *where* it failed: the exception's class and frames,
the method and the path (with emailed links' secrets redacted), the request ID, the release and
runtime. It is a plain function so that the tests call it without a network.
"""

from .log_redaction import redact

# An event's top-level keys that are kept as they are; every other key is dropped.
KEPT = {
    "event_id",
    "timestamp",
    "level",
    "platform",
    "logger",
    "transaction",
    "transaction_info",
    "server_name",
    "release",
    "environment",
    "sdk",
    "modules",
    "fingerprint",
    "type",
    "start_timestamp",
    "spans",
    "measurements",
}
# Contexts that describe the process, not the person.
KEPT_CONTEXTS = {"runtime", "os", "trace", "device"}
BREADCRUMB_KEYS = {"timestamp", "type", "category", "level"}
FRAME_KEYS = {"filename", "abs_path", "module", "function", "lineno", "in_app"}
WITHHELD = "[withheld: it may quote personal data]"


def _frames(stacktrace: dict | None) -> dict | None:
    if not isinstance(stacktrace, dict):
        return None
    return {
        "frames": [{k: v for k, v in f.items() if k in FRAME_KEYS} for f in stacktrace.get("frames") or []]
    }


def _exception(exception: dict) -> dict:
    values = []
    for value in exception.get("values") or []:
        kept = {k: value[k] for k in ("type", "module", "mechanism") if k in value}
        kept["value"] = WITHHELD
        if value.get("stacktrace"):
            kept["stacktrace"] = _frames(value["stacktrace"])
        values.append(kept)
    return {"values": values}


def scrub(event: dict, hint: dict | None = None) -> dict:
    """The ``before_send`` hook: ``event`` without anything that may hold personal data."""
    from . import request_id

    out = {k: v for k, v in event.items() if k in KEPT}
    if isinstance(out.get("transaction"), str):
        out["transaction"] = redact(out["transaction"])
    request = event.get("request")
    if isinstance(request, dict):
        kept = {}
        if "method" in request:
            kept["method"] = request["method"]
        if isinstance(request.get("url"), str):
            # No query string: search words and filters are typed by members.
            kept["url"] = redact(request["url"].split("?", 1)[0])
        out["request"] = kept
    if isinstance(event.get("exception"), dict):
        out["exception"] = _exception(event["exception"])
    if isinstance(event.get("threads"), dict):
        out["threads"] = {
            "values": [
                {k: v for k, v in t.items() if k in ("id", "name", "crashed", "current")}
                | ({"stacktrace": _frames(t.get("stacktrace"))} if t.get("stacktrace") else {})
                for t in event["threads"].get("values") or []
            ]
        }
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs = breadcrumbs.get("values")
    if isinstance(breadcrumbs, list):
        out["breadcrumbs"] = {
            "values": [{k: v for k, v in b.items() if k in BREADCRUMB_KEYS} for b in breadcrumbs]
        }
    contexts = event.get("contexts")
    if isinstance(contexts, dict):
        out["contexts"] = {k: v for k, v in contexts.items() if k in KEPT_CONTEXTS}
    tags = {k: v for k, v in (event.get("tags") or {}).items() if k in ("request_id", "logger", "level")}
    if request_id.current():
        tags["request_id"] = request_id.current()
    if tags:
        out["tags"] = tags
    # A log record sent as an event: its message is the project's own text (kept free of personal
    # data by the capture tests), its formatting arguments are not kept.
    logentry = event.get("logentry") or event.get("message")
    if isinstance(logentry, dict) and isinstance(logentry.get("message"), str):
        out["logentry"] = {"message": redact(logentry["message"])}
    return out


def init(dsn: str, *, environment: str | None = None, release: str | None = None) -> None:
    """Start the SDK (called from settings when ``SENTRY_DSN`` is set)."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub,
        # Transactions carry spans with SQL and URLs: no performance tracing is sent.
        traces_sample_rate=0,
        environment=environment,
        release=release,
    )
