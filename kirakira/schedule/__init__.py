"""Periodic jobs: declared in ``jobs.py``, started by the task worker through
``runner.run_due_jobs``, shown to the privacy roles in the back office."""


def is_scheduled(name: str) -> bool:
    """Whether the schedule runs a job of this name (``kirakira.schedule.jobs.is_scheduled``)."""
    from .jobs import is_scheduled as scheduled  # not at the top: the app package loads first

    return scheduled(name)
