"""Copying the whole database out and in: ``pg_dump``/``pg_restore`` on PostgreSQL, SQLite's
online backup API on SQLite. The data-key table's rows stay out of the copy: they travel in the
key-store archive (``keystore``), so that the two can be kept and destroyed apart."""

import os
import shutil
import sqlite3
import subprocess

from django.db import connection

from .container import ArchiveError

KEY_TABLE = "privacy_datakey"


def vendor() -> str:
    return connection.vendor


def is_empty() -> bool:
    return not connection.introspection.table_names()


def _pg_env() -> dict:
    # libpq reads these: the password never appears in a process list.
    db = connection.settings_dict
    env = {**os.environ, "PGDATABASE": db["NAME"]}
    for name, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if db.get(key):
            env[name] = str(db[key])
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ArchiveError(
            f"{name} is not installed: install the PostgreSQL client (apt-get install postgresql-client)."
        )
    return path


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv)
    if done.returncode != 0:
        # pg_dump's and pg_restore's messages name tables and options, not row values.
        raise ArchiveError(f"{what} failed: {done.stderr.strip()[-2000:]}")


def dump(path) -> None:
    """Write a consistent copy of the database, without the data keys' rows, to ``path``."""
    if vendor() == "postgresql":
        _run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--exclude-table-data={KEY_TABLE}",
                f"--file={path}",
            ],
            "pg_dump",
        )
        return
    if vendor() != "sqlite":
        raise ArchiveError(f"Backups support PostgreSQL and SQLite, not {vendor()}.")
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
        target.execute(f"DELETE FROM {KEY_TABLE}")  # noqa: S608 (a constant table name)
        target.commit()
        target.execute("VACUUM")  # the deleted key rows leave no trace in free pages
    finally:
        target.close()


def load(path) -> None:
    """Load a copy made by ``dump`` into the (empty) database."""
    if vendor() == "postgresql":
        _run(
            [
                _pg_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={connection.settings_dict['NAME']}",
                str(path),
            ],
            "pg_restore",
        )
        return
    connection.ensure_connection()
    source = sqlite3.connect(path)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
