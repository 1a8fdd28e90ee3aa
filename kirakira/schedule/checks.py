"""``manage.py check`` holds the schedule's declarations to what the runner relies on."""

from datetime import timedelta

from django.conf import settings
from django.core import checks

from kirakira.common.tasks import GuardedTask

HINT_FILE = "kirakira/schedule/jobs.py"


@checks.register()
def check_schedule(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from .jobs import SCHEDULE

    problems = []
    names = [entry.name for entry in SCHEDULE]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(
            checks.Error(f"The schedule declares the job {name!r} twice.", hint=f"Rename one in {HINT_FILE}.", id="kirakira.schedule.E001")
        )
    for entry in SCHEDULE:
        if entry.every <= timedelta(0):
            problems.append(
                checks.Error(
                    f"The scheduled job {entry.name!r} has an interval that is not positive.",
                    hint=f"Give it a positive interval in {HINT_FILE}.",
                    id="kirakira.schedule.E002",
                )
            )
        if not isinstance(entry.task, GuardedTask):
            problems.append(
                checks.Error(
                    f"The scheduled job {entry.name!r} does not run a project task.",
                    hint=f"Declare its task with kirakira.common.tasks.task and name it in {HINT_FILE}.",
                    id="kirakira.schedule.E003",
                )
            )
    return problems + sqlite_problems(settings.DATABASES)


def sqlite_problems(databases: dict) -> list[checks.CheckMessage]:
    problems = []
    for alias, database in databases.items():
        mode = str(database.get("OPTIONS", {}).get("transaction_mode", "")).upper()
        if database["ENGINE"] == "django.db.backends.sqlite3" and mode not in ("IMMEDIATE", "EXCLUSIVE"):
            problems.append(
                checks.Error(
                    f"The SQLite database {alias!r} does not start write transactions IMMEDIATE: two "
                    "workers could both claim one scheduled run.",
                    hint="Set OPTIONS['transaction_mode'] = 'IMMEDIATE' (config/settings.py does).",
                    id="kirakira.schedule.E004",
                )
            )
    return problems
