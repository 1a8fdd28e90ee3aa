"""Frozen: used by the migrations that partition a log by month on PostgreSQL
(``usage/migrations/0002_partition_by_month.py``, ``privacy/migrations/0009_partition_access_log.py``).

A migration runs again on every new database, with whatever code is current then, so these
functions must keep doing exactly what they did when those migrations were written: never change
their behaviour. A new migration that needs something else gets a new function. They use nothing
but the cursor and ``schema_editor.execute`` they are given. What the running code does with the
partitions afterwards is in ``kirakira/common/partitions.py``, which may change.
"""

from datetime import UTC, datetime


def expect_indexes(cursor, table: str, indexes: set[str]) -> None:
    """Refuses to go on unless ``table`` has exactly these indexes: the migration remakes them by
    name, so a schema changed behind its back is stopped rather than half rebuilt."""
    cursor.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = %s AND schemaname = current_schema()", [table]
    )
    found = {row[0] for row in cursor.fetchall()}
    if found != indexes:
        raise RuntimeError(f"{table} has the indexes {sorted(found)}, expected {sorted(indexes)}")


def expect_partitioned(cursor, table: str) -> None:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
    if cursor.fetchone()[0] != "p":
        raise RuntimeError(f"{table} is not partitioned")


def month(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def months_to_create(cursor, table: str, now: datetime, months_ahead: int) -> set[datetime]:
    """The months (UTC) that hold rows of ``table``, and ``now``'s month and the ``months_ahead``
    after it."""
    cursor.execute(f"SELECT DISTINCT date_trunc('month', occurred_at, 'UTC') FROM {table}")  # noqa: S608
    months = {month(row[0]) for row in cursor.fetchall()}
    current = month(now)
    for _ in range(months_ahead + 1):
        months.add(current)
        current = next_month(current)
    return months


def create_partitions(execute, table: str, default_partition: str, months: set[datetime]) -> None:
    """The default partition, then one partition a month, named ``<table>_pYYYY_MM``."""
    execute(f"CREATE TABLE {default_partition} PARTITION OF {table} DEFAULT")
    for start in sorted(months):
        execute(
            f"CREATE TABLE {table}_p{start:%Y_%m} PARTITION OF {table} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{next_month(start).isoformat()}')"
        )


def restore_identity_sequence(cursor, execute, table: str) -> None:
    """After a table is made again and its rows copied in: its identity sequence gets back the
    name Django gave it and goes on after the highest id."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    if sequence.split(".")[-1].strip('"') != f"{table}_id_seq":
        execute(f"ALTER SEQUENCE {sequence} RENAME TO {table}_id_seq")
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(max(id), 0) + 1, false) FROM {table}",  # noqa: S608
        [table],
    )
