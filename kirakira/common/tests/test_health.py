"""/healthz and /readyz: each readiness check passes and fails on its own, the answers carry no
secret and set nothing, and the worker's loop writes the heartbeat that /readyz reads."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError
from django.urls import reverse

from kirakira.common import clock, health
from kirakira.common import worker as worker_module
from kirakira.common.models import WorkerHeartbeat
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.common.tests.test_worker_faults import DB_TASKS, in_process_worker
from kirakira.privacy.crypto import keyring as keyring_module
from kirakira.schedule.jobs import HOURLY
from kirakira.schedule.models import ScheduledJob
from kirakira.usage.models import UsageRecord

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
CHECKS = {"database", "migrations", "master_keys", "worker", "schedule"}


@pytest.fixture(autouse=True)
def _frozen():
    health._migrations_applied = False
    with clock.frozen_at(NOW):
        yield
    health._migrations_applied = False


@pytest.fixture
def worker_seen():
    return WorkerHeartbeat.objects.create(worker_id="w1", seen_at=NOW - timedelta(minutes=1))


def _ready(client, **extra):
    response = client.get("/readyz", **extra)
    return response, response.json()


def test_healthz_answers_ok_without_cookies_or_language_prefix(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.cookies == {}
    assert reverse("healthz") == "/healthz"
    assert reverse("readyz") == "/readyz"
    assert client.get("/en/healthz").status_code == 404  # outside the language prefix


def test_readyz_is_200_when_every_check_passes(client, worker_seen):
    ScheduledJob.objects.create(name="purge_unconfirmed_consultations", next_run_at=NOW - timedelta(minutes=30))
    response, body = _ready(client)
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_503_without_a_worker_seen_in_five_minutes(client):
    WorkerHeartbeat.objects.create(worker_id="w1", seen_at=NOW - timedelta(minutes=5, seconds=1))
    response, body = _ready(client)
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["worker"]["status"] == "fail"
    assert {name for name, check in body["checks"].items() if check["status"] == "fail"} == {"worker"}


def test_readyz_is_503_when_a_job_is_late_by_more_than_its_interval_and_the_margin(client, worker_seen):
    job = ScheduledJob.objects.create(
        name="purge_unconfirmed_consultations", next_run_at=NOW - HOURLY - health.SCHEDULE_MARGIN
    )
    assert _ready(client)[0].status_code == 200  # exactly at the limit: not late yet
    job.next_run_at -= timedelta(seconds=1)
    job.save()
    response, body = _ready(client)
    assert response.status_code == 503
    assert body["checks"]["schedule"] == {"status": "fail", "reason": "late: purge_unconfirmed_consultations"}


def test_a_job_not_run_yet_and_a_row_of_a_job_no_longer_scheduled_are_not_late(client, worker_seen):
    ScheduledJob.objects.create(name="a_job_removed_from_the_schedule", next_run_at=NOW - timedelta(days=30))
    assert _ready(client)[0].status_code == 200


def test_readyz_is_503_with_a_migration_unapplied(client, worker_seen, monkeypatch):
    class Executor:
        def __init__(self, connection):
            self.loader = type("Loader", (), {"graph": type("Graph", (), {"leaf_nodes": lambda self: []})()})()

        def migration_plan(self, targets):
            return [("common", "9999_new"), ("usage", "9999_new")]

    monkeypatch.setattr(health, "MigrationExecutor", Executor)
    response, body = _ready(client)
    assert response.status_code == 503
    assert body["checks"]["migrations"] == {"status": "fail", "reason": "2 unapplied"}


def test_the_real_migration_plan_is_empty_in_the_test_database(client, worker_seen):
    assert health.check_migrations() == ("ok", "all applied")


def test_readyz_is_503_without_master_keys_and_says_nothing_of_them(client, worker_seen, settings):
    spec = settings.PRIVACY_MASTER_KEYS
    settings.PRIVACY_ACTIVE_MASTER_KEY = "missing-key-id"
    keyring_module.reset_keyring()
    try:
        response, body = _ready(client)
    finally:
        keyring_module.reset_keyring()
    assert response.status_code == 503
    assert body["checks"]["master_keys"]["status"] == "fail"
    text = response.content.decode()
    assert "missing-key-id" not in text
    for entry in spec.split(","):
        key_id, _sep, secret = entry.partition(":")
        assert secret not in text and key_id not in text


def test_readyz_is_503_when_the_database_is_unreachable_and_names_the_error_class_only(
    client, worker_seen, monkeypatch
):
    class Cursor:
        def __enter__(self):
            raise OperationalError('could not connect to server at "db.internal" (10.0.0.5), user "kirakira"')

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(health.connection, "cursor", Cursor)
    response, body = _ready(client)
    assert response.status_code == 503
    assert body["checks"]["database"] == {"status": "fail", "reason": "error (OperationalError)"}
    assert set(body["checks"]) == CHECKS
    assert "db.internal" not in response.content.decode()
    assert "10.0.0.5" not in response.content.decode()


def test_the_probes_set_no_cookie_and_log_no_use_even_for_a_logged_in_member_or_staff(client, worker_seen):
    member = MemberFactory()
    client.force_login(member)
    before = UsageRecord.objects.count()
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.cookies == {}
        assert "Vary" not in response
    assert UsageRecord.objects.count() == before
    client.force_login(StaffFactory())
    response = client.get("/readyz")
    assert response.status_code == 200  # no staff gate, no redirect to the second factor
    assert response.cookies == {}


def test_the_probes_answer_over_plain_http_with_any_host_when_https_is_required(client, worker_seen, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["kirakira.example"]
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/", HTTP_HOST="kirakira.example").status_code == 301  # other pages still redirect


def test_the_views_answer_through_the_urlconf_too(rf, worker_seen):
    from django.urls import resolve

    assert resolve("/healthz").func is health.healthz
    assert health.readyz(rf.get("/readyz")).status_code == 200


@pytest.mark.django_db(transaction=True)  # the worker's loop commits, as in production
def test_the_worker_loop_writes_its_heartbeat_and_forgets_workers_gone_a_day(settings, monkeypatch):
    settings.TASKS = DB_TASKS
    monkeypatch.setattr(worker_module, "SCHEDULE_RUNNER", "kirakira.common.tests.test_health.no_such_runner")
    WorkerHeartbeat.objects.create(worker_id="gone", seen_at=NOW - timedelta(days=1, seconds=1))
    WorkerHeartbeat.objects.create(worker_id="other", seen_at=NOW - timedelta(hours=23))
    in_process_worker(worker_id="beating").run()
    assert dict(WorkerHeartbeat.objects.values_list("worker_id", "seen_at")) == {
        "beating": NOW,
        "other": NOW - timedelta(hours=23),
    }


def test_the_heartbeat_is_written_at_most_every_thirty_seconds(settings):
    settings.TASKS = DB_TASKS
    beating = in_process_worker(worker_id="beating")
    beating._beat_if_due()
    WorkerHeartbeat.objects.filter(worker_id="beating").update(seen_at=NOW - timedelta(minutes=10))
    beating._beat_if_due()  # within 30 s of the last: no write
    assert WorkerHeartbeat.objects.get(worker_id="beating").seen_at == NOW - timedelta(minutes=10)
    beating._last_beat -= worker_module.HEARTBEAT_EVERY
    beating._beat_if_due()
    assert WorkerHeartbeat.objects.get(worker_id="beating").seen_at == NOW
