"""The staff access log's monthly partitions on PostgreSQL, and the disposal of whole months.

Records are kept two years (rule ``staff_access_2y``) and only a prefix of the chain is ever
disposed of (``chain._dispose``, under the head row's lock). On PostgreSQL the records' table is
partitioned by month (UTC) with a default partition for any row no monthly partition takes
(migration 0009). A month whose every record lies in the prefix being disposed of is dropped:
its members (``StaffAccessSubject``, not partitioned) are deleted first, then the month is
detached and dropped, all in the disposal's transaction, so the database never holds members
without their record, nor a record without its members. Its cost does not grow with its records,
where a ``DELETE`` touches every row, writes each to the WAL and leaves it for VACUUM. The rest of
the prefix, in the boundary month or the default partition, is range-deleted by the chain as on
SQLite. Which months go is decided by sequence number (the month's highest number is within the
prefix), not by dates: a record dated out of order (a clock put right) never takes a month with
it that still holds kept records.

Detaching takes the table's strongest lock until the disposal commits: readers of the log (the
transparency page, reviews) wait that long; writers already wait for the head row. The schedule's
``maintain_log_partitions`` creates the coming months ahead of time; a record dated in a month
without its partition goes to the default partition, and moves into its month when that month's
partition is created.

Nothing here runs on SQLite.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connections, transaction

from ..models import StaffAccessRecord, StaffAccessSubject

TABLE = StaffAccessRecord._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"
SUBJECT_TABLE = StaffAccessSubject._meta.db_table
# Every column, in the table's order: rows moved out of the default partition keep their ids.
COLUMNS = tuple(field.column for field in StaffAccessRecord._meta.concrete_fields)


@dataclass(frozen=True)
class Partition:
    name: str  # as PostgreSQL names it in SQL, quoted where it must be
    lower: datetime
    upper: datetime


@dataclass(frozen=True)
class Dropped:
    """What the dropped months held: their records (with their oldest and newest times) and the
    member rows deleted with them."""

    count: int = 0
    subjects: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None


def _connection():
    return connections[StaffAccessRecord.objects.db]


# --- Months -------------------------------------------------------------------------------------


def month_start(moment: datetime) -> datetime:
    """The start of ``moment``'s month in UTC: partitions follow UTC months whatever TIME_ZONE
    says, so that changing it never makes new partitions overlap the old ones."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(start: datetime, months: int) -> datetime:
    years, month = divmod(start.month - 1 + months, 12)
    return start.replace(year=start.year + years, month=month + 1)


def partition_name(lower: datetime) -> str:
    return f"{TABLE}_p{lower:%Y_%m}"


# --- Partitions -----------------------------------------------------------------------------------


def is_partitioned() -> bool:
    connection = _connection()
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def partitions() -> list[Partition]:
    """The monthly (ranged) partitions, oldest first, with their bounds as PostgreSQL holds them;
    the default partition is not among them."""
    with _connection().cursor() as cursor:
        cursor.execute(
            r"""
            SELECT c.oid::regclass::text, bounds[1]::timestamptz, bounds[2]::timestamptz
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            CROSS JOIN LATERAL regexp_match(
                pg_get_expr(c.relpartbound, c.oid), $$FROM \('([^']+)'\) TO \('([^']+)'\)$$
            ) AS bounds
            WHERE i.inhparent = to_regclass(%s) AND bounds IS NOT NULL
            ORDER BY 2
            """,
            [TABLE],
        )
        return [Partition(name, lower, upper) for name, lower, upper in cursor.fetchall()]


def ensure_partitions(now: datetime, months_ahead: int = 3) -> list[str]:
    """Creates the monthly partitions of ``now``'s month and the ``months_ahead`` after it, where
    missing; returns the names of those it created. Nothing to do on SQLite."""
    if not is_partitioned():
        return []
    start = month_start(now)
    created = []
    for offset in range(months_ahead + 1):
        lower = add_months(start, offset)
        name = _create_partition(lower, add_months(lower, 1))
        if name is not None:
            created.append(name)
    return created


ensure_partitions.alters_data = True


def _lock_table(cursor) -> None:
    """Taken first by every change of partitions, after the head row's lock where the change
    takes it (the disposal): appends take the head row first too, so the two never wait on each
    other in opposite orders. It holds new appends until the commit while reads go on, and two
    changes of partitions never run at once (the mode conflicts with itself)."""
    quote = _connection().ops.quote_name
    cursor.execute(f"LOCK TABLE ONLY {quote(TABLE)} IN SHARE ROW EXCLUSIVE MODE")


def _has_default_partition(cursor) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_inherits WHERE inhparent = to_regclass(%s) AND inhrelid = to_regclass(%s)",
        [TABLE, DEFAULT_PARTITION],
    )
    return cursor.fetchone() is not None


def _overlapping(lower: datetime, upper: datetime) -> bool:
    return any(p.lower < upper and lower < p.upper for p in partitions())


def _create_partition(lower: datetime, upper: datetime) -> str | None:
    connection = _connection()
    quote = connection.ops.quote_name
    name = partition_name(lower)
    bounds = f"FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"  # computed, never typed in
    column_list = ", ".join(quote(column) for column in COLUMNS)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if _overlapping(lower, upper):  # the usual case, without taking any lock
            return None
        _lock_table(cursor)
        if _overlapping(lower, upper):
            return None
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            raise RuntimeError(f"a table named {name} exists but is not a partition of {TABLE}")
        stray = False
        if _has_default_partition(cursor):
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {quote(DEFAULT_PARTITION)} "  # noqa: S608 - our names
                "WHERE occurred_at >= %s AND occurred_at < %s)",
                [lower, upper],
            )
            stray = cursor.fetchone()[0]
        if not stray:
            cursor.execute(f"CREATE TABLE {quote(name)} PARTITION OF {quote(TABLE)} FOR VALUES {bounds}")
            return name
        # The default partition holds records of this month (the schedule did not run for
        # months): PostgreSQL would refuse the new partition, so they move into it, ids and
        # seals unchanged, before it is attached.
        cursor.execute(
            f"CREATE TABLE {quote(name)} (LIKE {quote(TABLE)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(
            f"WITH moved AS (DELETE FROM {quote(DEFAULT_PARTITION)} "  # noqa: S608 - our names
            f"WHERE occurred_at >= %s AND occurred_at < %s RETURNING {column_list}) "
            f"INSERT INTO {quote(name)} ({column_list}) SELECT {column_list} FROM moved",
            [lower, upper],
        )
        cursor.execute(f"ALTER TABLE {quote(TABLE)} ATTACH PARTITION {quote(name)} FOR VALUES {bounds}")
        return name


# --- Disposal -------------------------------------------------------------------------------------


def drop_months_through(last_seq: int, before: datetime) -> Dropped:
    """Drops every monthly partition that starts no later than ``before`` and whose records all
    have a sequence number up to ``last_seq``, with their member rows; returns what they held.

    For ``chain._dispose`` alone: it runs inside the disposal's transaction, with the head row
    locked, after ``last_seq`` was found to end the prefix of the chain to dispose of (so nothing
    is appended meanwhile, and the anchor moves in the same transaction). ``before`` (the newest
    disposed record's time) spares the recent months a look. Nothing on SQLite.
    """
    connection = _connection()
    if not connection.in_atomic_block:
        raise RuntimeError("drop_months_through runs inside the disposal's transaction")
    if not is_partitioned():
        return Dropped()
    quote = connection.ops.quote_name
    candidates = [p for p in partitions() if p.lower <= before]
    if not candidates:
        return Dropped()
    count = subjects = 0
    oldest = newest = None
    with connection.cursor() as cursor:
        _lock_table(cursor)
        for partition in candidates:
            name = partition.name
            cursor.execute(
                f"SELECT count(*), min(occurred_at), max(occurred_at), max(seq), min(id), max(id) FROM {name}"  # noqa: S608 - our names
            )
            n, first, last, top_seq, low_id, high_id = cursor.fetchone()
            if top_seq is not None and top_seq > last_seq:
                continue  # holds a kept record: the chain deletes this month's part of the prefix
            if n:
                # The id range lets the member rows' index do the work; the subquery keeps it
                # exact, whatever other records' ids fall in that range.
                cursor.execute(
                    f"DELETE FROM {quote(SUBJECT_TABLE)} WHERE record_id BETWEEN %s AND %s "  # noqa: S608
                    f"AND record_id IN (SELECT id FROM {name})",
                    [low_id, high_id],
                )
                subjects += cursor.rowcount
                count += n
                oldest = first if oldest is None else min(oldest, first)
                newest = last if newest is None else max(newest, last)
            # Rows written earlier in an enclosing transaction leave deferred checks (the staff
            # member's key) pending, and PostgreSQL alters or drops no table with pending checks.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {quote(TABLE)} DETACH PARTITION {name}")
            cursor.execute(f"DROP TABLE {name}")
    return Dropped(count=count, subjects=subjects, oldest=oldest, newest=newest)


drop_months_through.alters_data = True
