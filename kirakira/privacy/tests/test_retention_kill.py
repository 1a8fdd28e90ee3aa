"""The sweep killed midway: a real ``enforce_retention`` process, SIGKILLed while it disposes of
expired rows (sessions row by row, the usage log by time range) in small batches. What it disposed of is counted in the ledger exactly (each
batch and its count commit together); the re-run finishes the work, marks the killed run
interrupted, and the two runs' counts add up to what was due."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.db.models import Sum

from kirakira.common import clock
from kirakira.common.tests.test_task_worker import _database_url
from kirakira.privacy.models import DisposalCount, DisposalRun
from kirakira.privacy.retention import sweep

EXPIRED = 20_000
BATCH = 50
SESSIONS = "sessions.Session"
USAGE = "usage.UsageRecord"


def _expired_sessions(count: int) -> None:
    past = clock.now() - timedelta(days=1)
    Session.objects.bulk_create(
        [Session(session_key=f"expired{n:033d}", session_data="", expire_date=past) for n in range(count)],
        batch_size=2000,
    )


def _expired_usage(count: int) -> None:
    from kirakira.common.testing import MemberFactory
    from kirakira.usage.models import UsageRecord

    member = MemberFactory()
    start = clock.now() - timedelta(days=400)
    UsageRecord.objects.bulk_create(
        [
            UsageRecord(
                member=member,
                occurred_at=start + timedelta(seconds=n),
                ip_address="203.0.113.9",
                method="GET",
                route="home",
                status_code=200,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )


def _remaining() -> dict[str, int]:
    from kirakira.usage.models import UsageRecord

    return {
        SESSIONS: Session.objects.filter(expire_date__lte=clock.now()).count(),
        USAGE: UsageRecord.objects.filter(occurred_at__lte=clock.now() - timedelta(days=200)).count(),
    }


def _counted(run_ids=None, model=None) -> int:
    rows = DisposalCount.objects.filter(model__in=[model] if model else [SESSIONS, USAGE], method=DisposalCount.Method.DELETED)
    if run_ids is not None:
        rows = rows.filter(run_id__in=run_ids)
    return rows.aggregate(n=Sum("count"))["n"] or 0


@pytest.mark.django_db(transaction=True)
def test_a_sweep_killed_midway_and_run_again_converges_with_a_correct_ledger(settings):
    _expired_sessions(EXPIRED)
    _expired_usage(EXPIRED)
    live = Session.objects.create(session_key="live" + "x" * 36, session_data="", expire_date=clock.now() + timedelta(days=1))
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": django_settings.SECRET_KEY,
        "RETENTION_LOG_BATCH_SIZE": str(BATCH),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "enforce_retention",
            "--only",
            "sessions.Session:until_purpose_met",
            "--only",
            "usage.UsageRecord:usage_log_6m",
            "--batch-size",
            str(BATCH),
        ],
        cwd=django_settings.BASE_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while _counted() < 10 * BATCH:
            assert process.poll() is None, f"the sweep ended before it could be killed: {process.stderr.read()}"
            assert time.monotonic() < deadline, "the sweep disposed of nothing in two minutes"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)

    killed = DisposalRun.objects.get()
    assert killed.status == DisposalRun.Status.RUNNING  # it had no chance to say otherwise
    remaining = _remaining()
    assert 0 < sum(remaining.values()) < 2 * EXPIRED, "the kill did not land midway"
    # Exactly what went is counted: each batch and its count committed together.
    for model in (SESSIONS, USAGE):
        assert _counted([killed.pk], model) == EXPIRED - remaining[model], model

    settings.RETENTION_LOG_BATCH_SIZE = BATCH
    again = sweep.run(only=("sessions.Session:until_purpose_met", "usage.UsageRecord:usage_log_6m"))
    killed.refresh_from_db()
    assert killed.status == DisposalRun.Status.INTERRUPTED
    assert again.run.status == DisposalRun.Status.FINISHED
    assert _remaining() == {SESSIONS: 0, USAGE: 0}
    assert Session.objects.filter(pk=live.pk).exists()
    for model in (SESSIONS, USAGE):
        assert _counted([again.run.pk], model) == remaining[model], model
        assert _counted(model=model) == EXPIRED, model
