"""Emails leave through the real task queue: queued into the database with the registration,
picked up by two real worker processes (``run_worker``) sharing one database, and delivered by
SMTP. ``start_worker`` is shared with the worker's fault tests (test_worker_faults.py)."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from kirakira.accounts import services
from kirakira.common.smtp_testing import smtp_server

ROOT = Path(settings.BASE_DIR)
MEMBERS = 6
EMAIL_TASK = "kirakira.accounts.tasks.send_member_email"


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(
    smtp_port: int,
    worker_id: str,
    *,
    command: str = "run_worker",
    batch: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """A real worker process on the test database, mailing through ``smtp_port``. With
    ``batch`` it exits once no task is ready; without, it runs until it is stopped."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "SITE_URL": settings.SITE_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        **(env or {}),
    }
    arguments = ["--no-reload", "--no-startup-delay", "--interval", "0.1", "--worker-id", worker_id]
    return subprocess.Popen(
        [sys.executable, "manage.py", command, *(["--batch"] if batch else []), *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _start_worker(smtp_port: int, worker_id: str) -> subprocess.Popen:
    """django_tasks_db's own ``db_worker``, in batch mode: what test_task_privacy.py's bounce
    test starts (it reads the one task row, and ``run_worker`` also queues the schedule's)."""
    return start_worker(smtp_port, worker_id, command="db_worker")


@pytest.mark.django_db(transaction=True)
def test_two_real_workers_deliver_each_confirmation_email_once_over_smtp(settings, client):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    for n in range(MEMBERS):
        services.member_register(
            accept_terms=True,
            login_id=f"worker{n}",
            name=f"会員 {n}",
            email=f"worker{n}@example.com",
            password="correct-horse-battery-9",
            language="ja",
        )
    # Each registration queued one task with its row, in the database, not run yet.
    assert DBTaskResult.objects.count() == MEMBERS
    assert not DBTaskResult.objects.exclude(status="READY").exists()

    with smtp_server() as (port, received):
        workers = [start_worker(port, f"test-worker-{i}") for i in range(2)]
        outputs = []
        for worker in workers:
            out, _ = worker.communicate(timeout=120)
            outputs.append(out)
            assert worker.returncode == 0, out
        deadline = time.monotonic() + 5
        while len(received.messages) < MEMBERS and time.monotonic() < deadline:
            time.sleep(0.05)

    recipients = sorted(rcpt for _, rcpts in received.envelopes for rcpt in rcpts)
    assert recipients == sorted(f"worker{n}@example.com" for n in range(MEMBERS))
    # The workers also ran the schedule's jobs (when it is installed): only the emails are counted.
    emails = DBTaskResult.objects.filter(task_path=EMAIL_TASK)
    assert emails.count() == MEMBERS
    assert set(emails.values_list("status", flat=True)) == {"SUCCESSFUL"}
    # Each task was claimed by exactly one of the two workers: nothing ran twice.
    for worker_ids in emails.values_list("worker_ids", flat=True):
        assert len(worker_ids) == 1
        assert worker_ids[0] in {"test-worker-0", "test-worker-1"}

    # The link a worker mailed confirms the address in this process.
    message = next(m for m in received.messages if m["To"] == "worker0@example.com")
    assert "worker0" not in message["Subject"] and "会員" not in message["Subject"]
    link = next(line for line in message.get_content().splitlines() if "/accounts/confirm/" in line)
    response = client.post(urlsplit(link.strip()).path)  # the button of the page the link opens
    assert response.status_code == 302
    from kirakira.accounts.models import User

    assert User.objects.get(login_id="worker0").email_confirmed_at is not None
