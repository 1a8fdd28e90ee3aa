"""Two workers polling at the same instant start each due run once: the claim locks the job's
row (FOR UPDATE SKIP LOCKED on PostgreSQL, an IMMEDIATE write transaction on SQLite)."""

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from kirakira.common import clock
from kirakira.common.testing import at_once
from kirakira.schedule import jobs, runner
from kirakira.schedule.models import Outcome, ScheduledJob
from kirakira.schedule.runner import run_due_jobs

START = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
ALL = sorted(entry.name for entry in jobs.SCHEDULE)
HOURLY = sorted(entry.name for entry in jobs.SCHEDULE if entry.every == jobs.HOURLY)
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def queued_tasks() -> Counter:
    return Counter(path.rsplit(".", 1)[1] for path in DBTaskResult.objects.values_list("task_path", flat=True))


@pytest.mark.django_db(transaction=True)
def test_two_workers_polling_at_once_queue_each_due_run_once(settings, monkeypatch):
    settings.TASKS = DB_TASKS
    enqueue = runner._enqueue

    def slow_enqueue(entry):
        result = enqueue(entry)
        # A worker as quick as can be has already run it: only the claim's lock, not "the
        # previous run still waits", can keep the other worker from queueing it again.
        DBTaskResult.objects.filter(pk=result.id).update(status="SUCCESSFUL", finished_at=clock.now())
        # Hold the claim open, so that the other worker's claim meets it half-way.
        time.sleep(0.2)
        return result

    monkeypatch.setattr(runner, "_enqueue", slow_enqueue)
    with clock.frozen_at(START):
        # The schedule's first poll: the rows do not exist yet, both workers create them.
        first = at_once(run_due_jobs, run_due_jobs)
        assert not any(isinstance(result, Exception) for result in first), first
        assert sorted(first[0] + first[1]) == ALL
        assert queued_tasks() == Counter(ALL)
        assert ScheduledJob.objects.count() == len(ALL)

        # An hour later the hourly jobs are due again, and only they, each once.
        clock.advance(timedelta(hours=1))
        second = at_once(run_due_jobs, run_due_jobs, run_due_jobs)
        assert not any(isinstance(result, Exception) for result in second), second
        assert sorted(second[0] + second[1] + second[2]) == HOURLY
        assert queued_tasks() == Counter(ALL) + Counter(HOURLY)

    row = ScheduledJob.objects.get(name="purge_unconfirmed_consultations")
    assert row.last_started_at == START + timedelta(hours=1)
    assert row.next_run_at == START + timedelta(hours=2)
    assert row.last_outcome == Outcome.QUEUED
    assert DBTaskResult.objects.filter(pk=row.task_result_id).exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_polling_during_another_workers_claim_does_not_run_the_job_again(settings):
    """On PostgreSQL the row being claimed is passed over at once (SKIP LOCKED), never waited
    for; on SQLite the poll's write transaction waits for the claim's and then finds the run
    taken."""
    settings.TASKS = DB_TASKS
    with clock.frozen_at(START):
        run_due_jobs()
        DBTaskResult.objects.update(status="SUCCESSFUL", finished_at=clock.now())
        # Only the job the other worker is claiming falls due.
        ScheduledJob.objects.exclude(name="purge_unconfirmed_consultations").update(
            next_run_at=START + timedelta(days=30)
        )
        clock.advance(timedelta(hours=1))
        polled = []

        def poll():
            try:
                polled.append(run_due_jobs())
            finally:
                connection.close()

        other = threading.Thread(target=poll)
        with transaction.atomic():
            # Another worker's claim of the hourly job, still open.
            row = ScheduledJob.objects.select_for_update().get(name="purge_unconfirmed_consultations")
            row.next_run_at = START + timedelta(hours=2)
            row.save(update_fields=["next_run_at"])
            other.start()
            other.join(timeout=2)
            if connection.vendor == "postgresql":
                assert not other.is_alive(), "the poll waited for the locked row instead of skipping it"
                assert polled == [[]]
            else:
                assert other.is_alive(), "a second SQLite writer did not wait for the first"
        other.join(timeout=30)
        assert not other.is_alive()
    assert polled == [[]]
    assert queued_tasks() == Counter(ALL)  # the hourly job was not queued a second time
