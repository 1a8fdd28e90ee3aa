"""One sweep at a time. On PostgreSQL a session advisory lock (every web and worker process
shares the database, and the server releases the lock when a killed sweep's connection
drops); on SQLite, whose processes share one machine, an exclusive ``flock`` on a file next to
the database, which the kernel releases when the process dies."""

import contextlib
import fcntl

from django.conf import settings
from django.db import connection

# Any constant unique within the database: "kirakira retention" in the 63 bits pg takes.
_ADVISORY_KEY = 0x6B69726172657400


class SweepRunning(Exception):
    """Another retention sweep holds the lock."""


@contextlib.contextmanager
def sweep_lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ADVISORY_KEY])
            if not cursor.fetchone()[0]:
                raise SweepRunning
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_ADVISORY_KEY])
        return
    path = settings.VAR_DIR / "retention-sweep.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepRunning from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
