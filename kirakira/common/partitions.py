"""Tables partitioned by month (UTC) on PostgreSQL, with a default partition.

The usage log and the staff access log are both kept this way (``kirakira/usage/partitions.py``,
``kirakira/privacy/access_log/partitions.py``), so that a month past its retention goes by
dropping its partition: a cost that does not grow with its rows, where a ``DELETE`` touches every
row, writes each to the WAL and leaves it for VACUUM. What is the same for both lives here: the
months, listing a table's partitions with their bounds, the lock every change of partitions takes
first, and creating the coming months (moving into a new month the rows the default partition
holds for it). Which months go, and what goes with them, differs and stays with each log.

Names put into SQL come from the models' metadata or are computed from dates, never from input.
Nothing here runs on SQLite: ``is_partitioned`` is false there and ``ensure_partitions`` does
nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import DEFAULT_DB_ALIAS, connections, transaction


def month_start(moment: datetime) -> datetime:
    """The start of ``moment``'s month in UTC: partitions follow UTC months whatever TIME_ZONE
    says, so that changing it never makes new partitions overlap the old ones."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(start: datetime, months: int) -> datetime:
    years, month = divmod(start.month - 1 + months, 12)
    return start.replace(year=start.year + years, month=month + 1)


@dataclass(frozen=True)
class Partition:
    name: str  # as PostgreSQL names it in SQL, quoted where it must be
    lower: datetime
    upper: datetime


def _default_database() -> str:
    return DEFAULT_DB_ALIAS


@dataclass(frozen=True)
class MonthlyPartitions:
    """A table partitioned by month of ``time_column``, with ``default_partition`` taking any row
    no monthly partition takes. ``columns`` are every column of the table (rows moved out of the
    default partition keep their ids); ``db_alias`` names the database, asked at each use rather
    than at import, as a router would answer then."""

    table: str
    default_partition: str
    columns: tuple[str, ...]
    time_column: str = "occurred_at"
    db_alias: Callable[[], str] = _default_database

    @classmethod
    def for_model(cls, model, **options) -> "MonthlyPartitions":
        """The model's table, under the names its migration gives the partitions."""
        table = model._meta.db_table
        columns = tuple(field.column for field in model._meta.concrete_fields)
        return cls(table=table, default_partition=f"{table}_default", columns=columns, **options)

    def connection(self):
        return connections[self.db_alias()]

    def partition_name(self, lower: datetime) -> str:
        return f"{self.table}_p{lower:%Y_%m}"

    def is_partitioned(self) -> bool:
        connection = self.connection()
        if connection.vendor != "postgresql":
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [self.table])
            row = cursor.fetchone()
        return row is not None and row[0] == "p"

    def partitions(self) -> list[Partition]:
        """The monthly (ranged) partitions, oldest first, with their bounds as PostgreSQL holds
        them; the default partition is not among them."""
        with self.connection().cursor() as cursor:
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
                [self.table],
            )
            return [Partition(name, lower, upper) for name, lower, upper in cursor.fetchall()]

    def has_default_partition(self, cursor) -> bool:
        cursor.execute(
            "SELECT 1 FROM pg_inherits WHERE inhparent = to_regclass(%s) AND inhrelid = to_regclass(%s)",
            [self.table, self.default_partition],
        )
        return cursor.fetchone() is not None

    def lock_table(self, cursor) -> None:
        """Taken first by every change of partitions, before any lock on a partition: it waits for
        writers already running and holds new ones until the commit; reads go on until the DETACH
        or CREATE, which need the table alone for the rest of that short transaction. So a writer
        never holds the table while waiting for a partition the change holds (a deletion that
        deletes in every partition, say), and two changes of partitions never run at once (the
        mode conflicts with itself). Where the table's writers take another lock before writing
        (the access log's head row), a change that takes that lock takes it before this one."""
        quote = self.connection().ops.quote_name
        cursor.execute(f"LOCK TABLE ONLY {quote(self.table)} IN SHARE ROW EXCLUSIVE MODE")

    def ensure_partitions(self, now: datetime, months_ahead: int = 3) -> list[str]:
        """Creates the monthly partitions of ``now``'s month and the ``months_ahead`` after it,
        where missing; returns the names of those it created. Nothing to do on SQLite."""
        if not self.is_partitioned():
            return []
        start = month_start(now)
        created = []
        for offset in range(months_ahead + 1):
            lower = add_months(start, offset)
            name = self._create_partition(lower, add_months(lower, 1))
            if name is not None:
                created.append(name)
        return created

    ensure_partitions.alters_data = True

    def _create_partition(self, lower: datetime, upper: datetime) -> str | None:
        connection = self.connection()
        quote = connection.ops.quote_name
        table, default, time = quote(self.table), quote(self.default_partition), quote(self.time_column)
        name = self.partition_name(lower)
        bounds = f"FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"  # computed, never typed in
        column_list = ", ".join(quote(column) for column in self.columns)
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if self._overlapping(lower, upper):  # the usual case, without taking any lock
                return None
            self.lock_table(cursor)
            if self._overlapping(lower, upper):
                return None
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
            if cursor.fetchone()[0]:
                raise RuntimeError(f"a table named {name} exists but is not a partition of {self.table}")
            stray = False
            if self.has_default_partition(cursor):
                cursor.execute(
                    f"SELECT EXISTS (SELECT 1 FROM {default} WHERE {time} >= %s AND {time} < %s)",  # noqa: S608 - our names
                    [lower, upper],
                )
                stray = cursor.fetchone()[0]
            if not stray:
                cursor.execute(f"CREATE TABLE {quote(name)} PARTITION OF {table} FOR VALUES {bounds}")
                return name
            # The default partition holds rows of this month (the schedule did not run for months,
            # or a log put rows back there, as the usage log does with held members' rows):
            # PostgreSQL would refuse the new partition, so they move into it, every column
            # unchanged (ids, and the access log's seals), before it is attached.
            cursor.execute(
                f"CREATE TABLE {quote(name)} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
            cursor.execute(
                f"WITH moved AS (DELETE FROM {default} "  # noqa: S608 - our names
                f"WHERE {time} >= %s AND {time} < %s RETURNING {column_list}) "
                f"INSERT INTO {quote(name)} ({column_list}) SELECT {column_list} FROM moved",
                [lower, upper],
            )
            cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {quote(name)} FOR VALUES {bounds}")
            return name

    def _overlapping(self, lower: datetime, upper: datetime) -> bool:
        return any(p.lower < upper and lower < p.upper for p in self.partitions())
