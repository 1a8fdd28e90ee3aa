"""What every benchmark here shares: one child process per database, each on a throwaway
database (a fresh SQLite file in a temporary ``KIRAKIRA_VAR_DIR``, or a PostgreSQL database whose
name starts with ``bench``, created and dropped again), its result passed back as one JSON line."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH-RESULT "


def postgres_reachable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(maintenance_url(url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def maintenance_url(url: str) -> str:
    """The same server, but the ``postgres`` database (to create and drop the bench database)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))


def run_child(script: str, database_url: str | None, child_args: list[str]) -> dict | None:
    """Runs ``script --child <child_args>`` on one database; its printed lines pass through, its
    result line is returned (``None`` when it failed)."""
    label = "PostgreSQL" if database_url else "SQLite"
    print(f"\n=== {label} ===", flush=True)
    with tempfile.TemporaryDirectory(prefix="kirakira-bench-") as var_dir:
        env = dict(os.environ)
        env.update(KIRAKIRA_VAR_DIR=var_dir, DEBUG="0", DJANGO_SETTINGS_MODULE="config.settings")
        env.pop("KIRAKIRA_PRODUCTION", None)
        if database_url:
            env["DATABASE_URL"] = database_url
        else:
            env.pop("DATABASE_URL", None)
        result = None
        with subprocess.Popen(  # noqa: S603 - our own script, with our own interpreter
            [sys.executable, script, "--child", *child_args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        ) as proc:
            for line in proc.stdout:
                if line.startswith(RESULT_PREFIX):
                    result = json.loads(line[len(RESULT_PREFIX) :])
                else:
                    print(line, end="", flush=True)
    if proc.returncode != 0 or result is None:
        print(f"{label}: the benchmark failed (exit code {proc.returncode})", file=sys.stderr)
        return None
    result["label"] = label
    return result


def child_args(args) -> list[str]:
    """The parent's measuring options, passed on to the child."""
    names = ("rounds", "requests", "block", "warmup", "prefill")
    return [f"--{name}={getattr(args, name)}" for name in names] + (["--profile"] if args.profile else [])


def report(result: dict) -> None:
    """The child's result, for its parent."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def targets(args, default_pg_url: str) -> list[str | None]:
    """The databases to measure, from the command line (``None`` is SQLite)."""
    env_url = os.environ.get("DATABASE_URL", "")
    if args.database_url:
        return [args.database_url]
    if args.sqlite:
        return [None]
    if args.all:
        return [None, args.pg_url]
    if env_url and not env_url.startswith("sqlite"):
        return [env_url]
    if postgres_reachable(default_pg_url):
        return [None, default_pg_url]
    print(f"PostgreSQL is not reachable at {default_pg_url}: measuring SQLite only.")
    return [None]


def _create_postgres_database(url: str) -> str:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("bench"):
        raise SystemExit("the PostgreSQL database must be a throwaway one whose name starts with 'bench'")
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def _drop_postgres_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def in_throwaway_database(measure, args) -> int:
    """Runs ``measure(args)`` in the child, on a PostgreSQL database made for it and dropped
    afterwards when ``DATABASE_URL`` names one."""
    database_url = os.environ.get("DATABASE_URL")
    pg_name = _create_postgres_database(database_url) if database_url else None
    try:
        return measure(args)
    finally:
        if pg_name:
            from django.db import connections

            connections.close_all()
            _drop_postgres_database(database_url, pg_name)
