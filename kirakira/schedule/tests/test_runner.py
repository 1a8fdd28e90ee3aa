"""The schedule runs each job once per interval as time passes, once after a long gap, again
after a failure, and records every outcome with the exception's class only."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from kirakira.common import clock
from kirakira.consultations import services as consultations_services
from kirakira.orders.models import IdempotencyKey
from kirakira.orders.testing import place_order
from kirakira.schedule import jobs, runner, tasks
from kirakira.schedule.models import Outcome, ScheduledJob
from kirakira.schedule.runner import next_run_after, run_due_jobs

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
HOURLY = [
    "purge_unconfirmed_consultations",
    "prune_idempotency_keys",
    "order_payment_deadlines",
    "remind_rights_requests",
    "breach_clocks",
]
DAILY = [
    "retention_sweep",
    "prune_task_results",
    "prune_logins",
    "maintain_log_partitions",
]
ALL = sorted(HOURLY + DAILY)
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def rows() -> dict[str, ScheduledJob]:
    return {row.name: row for row in ScheduledJob.objects.all()}


def test_the_schedule_declares_the_housekeeping_jobs_and_how_often():
    assert {entry.name: entry.every for entry in jobs.SCHEDULE} == {
        "purge_unconfirmed_consultations": timedelta(hours=1),
        "retention_sweep": timedelta(days=1),
        "prune_task_results": timedelta(days=1),
        "prune_logins": timedelta(days=1),
        "prune_idempotency_keys": timedelta(hours=1),
        "maintain_log_partitions": timedelta(days=1),
        "order_payment_deadlines": timedelta(hours=1),
        "remind_rights_requests": timedelta(hours=1),
        "breach_clocks": timedelta(hours=1),
    }


def test_is_scheduled_answers_for_the_declared_jobs_only():
    # The policy page's capability probes look the function up by its dotted path.
    is_scheduled = import_string("kirakira.schedule.is_scheduled")
    assert all(is_scheduled(name) for name in ALL)
    assert not is_scheduled("dispose_staff_access_records")  # the retention sweep does it
    assert not is_scheduled("")


def test_each_job_runs_once_per_interval_as_the_clock_advances():
    runs = {name: 0 for name in ALL}
    with clock.frozen_at(START):
        # A worker polling every ten minutes for three days.
        for _ in range(3 * 24 * 6 + 1):
            for name in run_due_jobs():
                runs[name] += 1
            clock.advance(timedelta(minutes=10))
    # At the start (the jobs are new, so due at once), then at every hour / day after it.
    assert runs == {**{name: 3 * 24 + 1 for name in HOURLY}, **{name: 3 + 1 for name in DAILY}}
    state = rows()
    assert set(state) == set(ALL)
    for name in ALL:
        assert state[name].last_outcome == Outcome.SUCCEEDED
        assert state[name].last_error_class == ""
    assert state["purge_unconfirmed_consultations"].last_started_at == START + timedelta(days=3)
    assert state["purge_unconfirmed_consultations"].next_run_at == START + timedelta(days=3, hours=1)
    assert state["prune_logins"].next_run_at == START + timedelta(days=4)


def test_a_poll_with_nothing_due_is_one_read_and_runs_nothing(django_assert_num_queries):
    with clock.frozen_at(START):
        assert sorted(run_due_jobs()) == ALL
        with django_assert_num_queries(1) as captured:
            assert run_due_jobs() == []
    assert captured.captured_queries[0]["sql"].lstrip().upper().startswith("SELECT")


def test_missed_intervals_run_once_when_the_worker_comes_back():
    with clock.frozen_at(START):
        run_due_jobs()
        clock.advance(timedelta(days=5, minutes=30))  # the worker was down for five days
        assert sorted(run_due_jobs()) == ALL
        assert run_due_jobs() == []
        state = rows()
        # Back on the job's own cadence, not five days of catching up.
        assert state["purge_unconfirmed_consultations"].next_run_at == START + timedelta(days=5, hours=1)
        assert state["retention_sweep"].next_run_at == START + timedelta(days=6)
        clock.advance(timedelta(minutes=30))
        assert run_due_jobs() == HOURLY


def test_next_run_keeps_the_cadence_and_is_always_later_than_now():
    every = timedelta(hours=1)
    assert next_run_after(START, every, START) == START + every
    assert next_run_after(START, every, START + timedelta(minutes=59)) == START + every
    assert next_run_after(START, every, START + every) == START + 2 * every
    assert next_run_after(START, every, START + timedelta(days=2, minutes=1)) == START + timedelta(days=2, hours=1)
    assert next_run_after(START + every, every, START) == START + every  # not due yet: unchanged
    with pytest.raises(ValueError):
        next_run_after(START, timedelta(0), START)


def test_a_failed_run_records_its_exception_class_only_and_runs_again_at_the_next_interval(monkeypatch):
    real_run = tasks.retention_sweep_module.run

    def broken(**kwargs):
        if kwargs.get("only"):  # the hourly purge; the daily sweep goes on
            raise ValueError("visitor hanako@example.com could not be purged")
        return real_run(**kwargs)

    monkeypatch.setattr(tasks.retention_sweep_module, "run", broken)
    with clock.frozen_at(START):
        run_due_jobs()
        failed = ScheduledJob.objects.get(name="purge_unconfirmed_consultations")
        assert failed.last_outcome == Outcome.FAILED
        assert failed.last_error_class == "builtins.ValueError"
        assert failed.last_started_at == failed.last_finished_at == START
        assert failed.next_run_at == START + timedelta(hours=1)
        for value in ScheduledJob.objects.values_list():
            assert "hanako" not in str(value)
        # One job failing does not stop the others.
        assert {row.last_outcome for name, row in rows().items() if name != failed.name} == {Outcome.SUCCEEDED}

        clock.advance(timedelta(minutes=59))
        assert run_due_jobs() == []  # a failure is not retried before its next run
        monkeypatch.undo()
        clock.advance(timedelta(minutes=1))
        assert run_due_jobs() == HOURLY
    again = ScheduledJob.objects.get(name="purge_unconfirmed_consultations")
    assert again.last_outcome == Outcome.SUCCEEDED
    assert again.last_error_class == ""
    assert again.last_started_at == START + timedelta(hours=1)


def test_the_claim_and_the_queued_task_are_written_together_or_not_at_all(settings, monkeypatch):
    settings.TASKS = DB_TASKS

    def database_gone(entry):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(runner, "_enqueue", database_gone)
    with clock.frozen_at(START):
        with pytest.raises(DatabaseError):
            run_due_jobs()
        # Nothing queued, so nothing claimed: the job is still due.
        assert not DBTaskResult.objects.exists()
        assert ScheduledJob.objects.get(name=ALL[0]).next_run_at == START
        assert ScheduledJob.objects.get(name=ALL[0]).last_started_at is None
        monkeypatch.undo()
        assert sorted(run_due_jobs()) == ALL
    assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == sorted(
        f"kirakira.schedule.tasks.{name}" for name in ALL
    )


def test_with_the_database_backend_the_worker_runs_the_task_and_its_end_records_the_outcome(settings, monkeypatch):
    """The task is queued, not run, by run_due_jobs; the worker's run of it records the outcome
    through django_tasks' task_finished signal (here the worker's own code, in this process)."""
    from django_tasks_db.management.commands.db_worker import Worker

    settings.TASKS = DB_TASKS
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="schedule-test",
        excluded_queue_names=[],
    )

    def broken():
        raise PermissionError("/var/lib/kirakira/hanako@example.com")

    monkeypatch.setattr(tasks.common_tasks, "task_results_prune", broken)
    with clock.frozen_at(START):
        assert sorted(run_due_jobs()) == ALL
        assert {row.last_outcome for row in rows().values()} == {Outcome.QUEUED}
        for task_row in DBTaskResult.objects.all():
            task_row.claim("schedule-test")
            worker.run_task(task_row)
        clock.advance(timedelta(minutes=5))
        # A task of the schedule queued by hand is not a scheduled run: it records nothing.
        tasks.prune_logins.enqueue()
        worker.run_task(DBTaskResult.objects.get(status="READY"))

    state = rows()
    assert state["prune_task_results"].last_outcome == Outcome.FAILED
    assert state["prune_task_results"].last_error_class == "builtins.PermissionError"
    assert state["prune_task_results"].last_finished_at == START
    for name in ("purge_unconfirmed_consultations", "retention_sweep", "prune_logins"):
        assert state[name].last_outcome == Outcome.SUCCEEDED
        assert state[name].last_finished_at == START


def test_a_run_is_not_queued_again_while_the_previous_one_still_waits(settings):
    settings.TASKS = DB_TASKS
    with clock.frozen_at(START):
        run_due_jobs()
        clock.advance(timedelta(hours=1))
        # The queue is backed up: the hourly job's first run has not even started.
        assert run_due_jobs() == []
        assert DBTaskResult.objects.filter(task_path__endswith="purge_unconfirmed_consultations").count() == 1
        row = ScheduledJob.objects.get(name="purge_unconfirmed_consultations")
        assert row.next_run_at == START + timedelta(hours=2)
        assert row.last_started_at == START

        DBTaskResult.objects.update(status="SUCCESSFUL", finished_at=clock.now())  # the worker catches up
        clock.advance(timedelta(hours=1))
        assert run_due_jobs() == HOURLY
        assert DBTaskResult.objects.filter(task_path__endswith="purge_unconfirmed_consultations").count() == 2


# --- the observations: nobody runs a command any more ------------------------------------------
def test_the_housekeeping_nobody_ran_now_happens_on_its_own(settings):
    """Observed: nothing scheduled the consultations' purge and idle close, so a consultation's
    retention period never started; finished task rows and expired tokens were never pruned."""
    from django_tasks_db.models import DBTaskResult
    from knox.models import AuthToken

    from kirakira.common.roles import Role
    from kirakira.common.testing import MemberFactory, StaffFactory
    from kirakira.consultations.models import Consultation, Status
    from kirakira.consultations.testing import open_for_member, open_for_visitor

    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    member = MemberFactory()
    with clock.frozen_at(START):
        run_due_jobs()  # the worker starts: nothing to do yet
        unconfirmed = open_for_visitor()
        answered = open_for_member()
        consultations_services.staff_reply(consultation_id=answered.pk, actor=staff, body="回答")
        old_task = DBTaskResult.objects.create(
            task_path="kirakira.accounts.tasks.send_member_email",
            args_kwargs={"args": [], "kwargs": {}},
            backend_name="default",
            status="SUCCESSFUL",
            finished_at=START - timedelta(days=settings.TASK_RESULT_RETENTION_DAYS + 1),
        )
        token, _key = AuthToken.objects.create(member)
        AuthToken.objects.filter(pk=token.pk).update(expiry=START + timedelta(hours=2))
        spent_key = IdempotencyKey.objects.create(
            member=member,
            scope=IdempotencyKey.Scope.ORDER_API,
            key_digest="a" * 64,
            request_digest="b" * 64,
            order=place_order(member=member),
        )

        # The worker keeps polling; nobody runs any command.
        # The worker polls every few hours here (each hourly job then runs once per poll, as
        # after a pause): a month of hourly polls would run a sweep 744 times for nothing.
        for _ in range((settings.CONSULTATION_IDLE_CLOSE_DAYS * 24 + 25) // 3 + 1):
            clock.advance(timedelta(hours=3))
            run_due_jobs()

        assert not Consultation.objects.filter(pk=unconfirmed.pk).exists()
        answered.refresh_from_db()
        assert answered.status == Status.CLOSED
        assert answered.closed_at is not None  # its retention period has started
        assert not DBTaskResult.objects.filter(pk=old_task.pk).exists()
        assert not AuthToken.objects.filter(pk=token.pk).exists()
        assert not IdempotencyKey.objects.filter(pk=spent_key.pk).exists()
