"""The schedule runs in the task worker, as ``make run`` and production start it: no other
process to install. Two real workers share one schedule and run each job once."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from kirakira.schedule import jobs
from kirakira.schedule.models import Outcome, ScheduledJob

ROOT = Path(settings.BASE_DIR)
ALL = sorted(entry.name for entry in jobs.SCHEDULE)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(worker_id: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    command = [sys.executable, "manage.py", "run_worker", "--no-reload", "--no-startup-delay"]
    command += ["--interval", "0.1", "--worker-id", worker_id]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


@pytest.mark.django_db(transaction=True)
def test_two_real_workers_run_the_schedule_each_job_once(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    workers = [_start_worker(f"schedule-worker-{n}", log) for n, log in enumerate(logs)]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            outcomes = list(ScheduledJob.objects.values_list("last_outcome", flat=True))
            if len(outcomes) == len(ALL) and set(outcomes) == {Outcome.SUCCEEDED}:
                break
            assert all(worker.poll() is None for worker in workers), [log.read_text() for log in logs]
            time.sleep(0.2)
        time.sleep(1)  # a few more turns of both loops: nothing more may be queued
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    output = "\n".join(log.read_text() for log in logs)
    state = {row.name: row for row in ScheduledJob.objects.all()}
    assert sorted(state) == ALL, output
    assert {row.last_outcome for row in state.values()} == {Outcome.SUCCEEDED}, output
    # Each job queued once, run once, by one of the two workers.
    tasks = DBTaskResult.objects.all()
    assert Counter(row.task_path.rsplit(".", 1)[1] for row in tasks) == Counter(ALL), output
    for row in tasks:
        assert row.status == "SUCCESSFUL"
        assert len(row.worker_ids) == 1 and row.worker_ids[0].startswith("schedule-worker-")
        assert str(row.pk) == state[row.task_path.rsplit(".", 1)[1]].task_result_id
