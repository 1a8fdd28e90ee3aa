"""``/healthz`` and ``/readyz``: is the process alive, and is the site ready to serve.

``/healthz`` answers 200 whenever the process can answer at all: for a service manager or a load
balancer deciding whether to restart the process. ``/readyz`` runs five checks and answers 200
when all pass, 503 otherwise, naming each check with ``ok`` or ``fail`` and a short reason:

- ``database``: a trivial query;
- ``migrations``: no migration of this release is left unapplied;
- ``master_keys``: the keyring loads and has its active master key;
- ``worker``: a task worker went round its loop in the last 5 minutes (``WorkerHeartbeat``,
  written by ``kirakira/common/worker.py``);
- ``schedule``: no scheduled job is overdue by more than its interval and a margin.

The reasons hold no secret, no personal data, no host name or DSN: an error is named by its class.

Both are answered by ``HealthMiddleware``, first in ``MIDDLEWARE``, before anything else runs: no
session, cookie, CSRF token, language negotiation, usage-log or access-log row, staff gate,
host check or HTTPS redirect, so that a probe over plain HTTP from the machine itself (a service
manager, the load balancer) gets the answer and leaves nothing behind. The same views are in the
URLconf too (``config/urls.py``), so they resolve and reverse like any other.
"""

from datetime import timedelta

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from . import clock

WORKER_SEEN_WITHIN = timedelta(minutes=5)
SCHEDULE_MARGIN = timedelta(minutes=5)

OK, FAIL = "ok", "fail"


def _error(exc: BaseException) -> str:
    # The class only: a database error's text may name a host, a user or a row's values.
    return f"error ({type(exc).__name__})"


def check_database() -> tuple[str, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return FAIL, _error(exc)
    return OK, "reachable"


# Once every migration of this release is applied it stays so until the next release, whose new
# processes start with this False: the migration files are then no longer read on every probe.
_migrations_applied = False


def check_migrations() -> tuple[str, str]:
    global _migrations_applied
    if _migrations_applied:
        return OK, "all applied"
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return FAIL, _error(exc)
    if plan:
        return FAIL, f"{len(plan)} unapplied"
    _migrations_applied = True
    return OK, "all applied"


def check_master_keys() -> tuple[str, str]:
    from kirakira.privacy.crypto.keyring import keyring

    try:
        ring = keyring()
        ring.active_key  # noqa: B018 - raises if the active key is missing
    except Exception as exc:  # noqa: BLE001 - any failure to load them means not ready
        # Never the message: it may quote a key ID or a malformed entry.
        return FAIL, _error(exc)
    return OK, "active key loaded"


def check_worker(now) -> tuple[str, str]:
    from .models import WorkerHeartbeat

    try:
        seen = WorkerHeartbeat.objects.filter(seen_at__gte=now - WORKER_SEEN_WITHIN).exists()
    except DatabaseError as exc:
        return FAIL, _error(exc)
    if not seen:
        return FAIL, f"no worker seen in the last {int(WORKER_SEEN_WITHIN.total_seconds() // 60)} minutes"
    return OK, "seen recently"


def check_schedule(now) -> tuple[str, str]:
    """A job is late when its due run has waited longer than its interval and a margin: one run
    may be missed (the worker busy with a long task), two may not. A job without a row has not
    run yet (a release that adds one, before its workers restart): not late."""
    try:
        from kirakira.schedule.jobs import SCHEDULE
        from kirakira.schedule.models import ScheduledJob
    except ImportError:
        return OK, "no schedule installed"
    every = {job.name: job.every for job in SCHEDULE}
    try:
        rows = ScheduledJob.objects.filter(name__in=every).values_list("name", "next_run_at")
        late = sorted(name for name, next_run_at in rows if now - next_run_at > every[name] + SCHEDULE_MARGIN)
    except DatabaseError as exc:
        return FAIL, _error(exc)
    if late:
        return FAIL, "late: " + ", ".join(late)
    return OK, "on time"


def _answer(payload: dict, status: int) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
def healthz(request):
    return _answer({"status": OK}, 200)


@never_cache
def readyz(request):
    now = clock.now()
    database = check_database()
    checks = {"database": database}
    if database[0] == OK:
        checks["migrations"] = check_migrations()
        checks["master_keys"] = check_master_keys()
        checks["worker"] = check_worker(now)
        checks["schedule"] = check_schedule(now)
    else:
        # Each of these needs the database: one failure named, not four.
        checks["master_keys"] = check_master_keys()
        for name in ("migrations", "worker", "schedule"):
            checks[name] = (FAIL, "database unreachable")
    ready = all(state == OK for state, _reason in checks.values())
    payload = {
        "status": OK if ready else FAIL,
        "checks": {name: {"status": state, "reason": reason} for name, (state, reason) in checks.items()},
    }
    return _answer(payload, 200 if ready else 503)


class HealthMiddleware:
    """Answers the two probes before any other middleware runs (see the module's docstring)."""

    views = {"/healthz": healthz, "/readyz": readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = self.views.get(request.path_info)
        if view is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        return view(request)
