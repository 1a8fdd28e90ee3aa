"""``manage.py check`` refuses a schedule the runner could not keep."""

from datetime import timedelta

from django_tasks import task as bare_task

from kirakira.schedule import jobs
from kirakira.schedule.checks import check_schedule, sqlite_problems
from kirakira.schedule.jobs import Job


@bare_task()
def not_a_project_task() -> None:
    return None


def ids(problems) -> list[str]:
    return sorted(problem.id for problem in problems)


def test_the_declared_schedule_passes():
    assert check_schedule() == []


def test_a_job_declared_twice_a_zero_interval_and_a_bare_task_are_refused(monkeypatch):
    first = jobs.SCHEDULE[0]
    monkeypatch.setattr(
        jobs,
        "SCHEDULE",
        (
            *jobs.SCHEDULE,
            Job(first.name, first.task, timedelta(hours=2), first.description),
            Job("never", first.task, timedelta(0), first.description),
            Job("bare", not_a_project_task, timedelta(hours=1), first.description),
        ),
    )
    problems = check_schedule()
    assert ids(problems) == ["kirakira.schedule.E001", "kirakira.schedule.E002", "kirakira.schedule.E003"]
    assert all("kirakira/schedule/jobs.py" in problem.hint for problem in problems)


def test_sqlite_without_immediate_write_transactions_is_refused():
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": "x.sqlite3"}
    assert ids(sqlite_problems({"default": {**sqlite, "OPTIONS": {}}})) == ["kirakira.schedule.E004"]
    assert ids(sqlite_problems({"default": {**sqlite, "OPTIONS": {"transaction_mode": "DEFERRED"}}})) == [
        "kirakira.schedule.E004"
    ]
    assert sqlite_problems({"default": {**sqlite, "OPTIONS": {"transaction_mode": "IMMEDIATE"}}}) == []
