"""Disposal of the usage log by time ranges, and its monthly partitions on PostgreSQL.

The usage log gets a row per member request and keeps it six months (rule ``usage_log_6m``). At
that volume the way rows go decides whether disposal takes seconds or hours: Django's deletion
collector loads every row to send its signals and follow cascades, and is tens of times slower
than a plain ``DELETE`` while holding hundreds of MiB; lists of primary keys are several times
slower. So rows go by time ranges in raw SQL. That is right only while nothing hangs off this
table: no model has a foreign key to it, and the one ``post_delete`` receiver (the staff access
log's) records deletions made during a staff request only, never the sweep's.
``tests/test_partitions.py`` fails if either changes.

SQLite: rows before the cutoff go oldest first, in windows of about ``batch_rows`` rows found on
the ``occurred_at`` index, each window in its own transaction. A run killed between two windows
has committed whole windows only, and the next run disposes of the rest.

PostgreSQL: the table is partitioned by month (UTC), with a default partition for any row no
monthly partition takes (migration 0002). A month wholly before the cutoff is detached and dropped
in one transaction: its cost does not grow with its rows, where a ``DELETE`` touches every row,
writes each to the WAL and leaves it for VACUUM. The rows of members under a legal hold are
copied back into the table first, in the same transaction; with their month gone they land in
the default partition. The part of the boundary month before the cutoff goes in windows, as on
SQLite. The schedule's ``maintain_log_partitions`` creates the coming months ahead of time
(``kirakira/common/partitions.py``, shared with the staff access log).

Counts and the oldest and newest times are exact: they go into the disposal ledger. The rows of
a held member are never disposed of, and are counted in ``kept_for_hold``.
"""

import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from kirakira.common.partitions import (  # noqa: F401 - also named from here
    MonthlyPartitions,
    Partition,
    add_months,
    month_start,
)

from .models import UsageRecord

# On the default database, like the deletions by range below.
MONTHLY = MonthlyPartitions.for_model(UsageRecord)
TABLE = MONTHLY.table
DEFAULT_PARTITION = MONTHLY.default_partition
# Every column, in the table's order: held rows are copied back with their own ids.
COLUMNS = MONTHLY.columns

is_partitioned = MONTHLY.is_partitioned
partitions = MONTHLY.partitions
partition_name = MONTHLY.partition_name
ensure_partitions = MONTHLY.ensure_partitions


@dataclass(frozen=True)
class Disposed:
    """What one call disposed of (or, in a dry run, would have)."""

    count: int
    oldest: datetime | None
    newest: datetime | None
    kept_for_hold: int


class _Tally:
    def __init__(self):
        self.count = 0
        self.oldest: datetime | None = None
        self.newest: datetime | None = None

    def add(self, count: int, oldest: datetime | None, newest: datetime | None) -> None:
        self.count += count
        if oldest is not None and (self.oldest is None or oldest < self.oldest):
            self.oldest = oldest
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest


def dispose_before(
    cutoff: datetime,
    *,
    keep_members: Collection[uuid.UUID] = (),
    batch_rows: int = 50_000,
    on_batch: Callable[[int], None] | None = None,
    counted: Callable[[int, datetime | None, datetime | None], None] | None = None,
    dry_run: bool = False,
) -> Disposed:
    """Deletes every usage record older than ``cutoff``, except those of ``keep_members``.

    ``counted(n, oldest, newest)`` is called inside each batch's transaction (the disposal
    ledger's count commits with the batch it counts); ``on_batch(n)`` after each committed
    batch that disposed of ``n`` rows. A dry run counts what would go and changes nothing.
    """
    if timezone.is_naive(cutoff):
        raise ValueError("dispose_before needs an aware cutoff")
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    held = _member_params(keep_members)
    kept = _count_held(cutoff, held)
    if dry_run:
        count, oldest, newest = _summary(cutoff, held)
        return Disposed(count=count, oldest=oldest, newest=newest, kept_for_hold=kept)

    tally = _Tally()
    if is_partitioned():
        for partition in partitions():
            if partition.upper <= cutoff:
                done = _drop_partition(partition, held, counted)
                if done is not None:
                    tally.add(*done)
                    if on_batch is not None and done[0]:
                        on_batch(done[0])
    for done in _delete_in_windows(cutoff, held, batch_rows, counted):
        tally.add(*done)
        if on_batch is not None:
            on_batch(done[0])
    return Disposed(count=tally.count, oldest=tally.oldest, newest=tally.newest, kept_for_hold=kept)


dispose_before.alters_data = True


# --- PostgreSQL partitions ----------------------------------------------------------------------


def _drop_partition(
    partition: Partition, held: list, counted=None
) -> tuple[int, datetime | None, datetime | None] | None:
    """Detaches and drops one month; its count and times, or None if another run took it."""
    quote = connection.ops.quote_name
    table, name = quote(TABLE), partition.name
    column_list = ", ".join(quote(column) for column in COLUMNS)
    not_held, in_held = _held_clauses(held)
    with transaction.atomic(), connection.cursor() as cursor:
        MONTHLY.lock_table(cursor)
        if partition not in partitions():
            return None
        cursor.execute(
            f"SELECT count(*), min(occurred_at), max(occurred_at) FROM {name} WHERE TRUE{not_held}",  # noqa: S608
            held,
        )
        count, oldest, newest = cursor.fetchone()
        cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {name}")
        if held:
            if not MONTHLY.has_default_partition(cursor):
                raise RuntimeError(f"{TABLE} has no default partition to keep held members' rows in")
            cursor.execute(
                f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {name} WHERE TRUE{in_held}",  # noqa: S608
                held,
            )
        # Rows written earlier in an enclosing transaction leave their deferred member checks
        # pending, and PostgreSQL drops no table with pending checks: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP TABLE {name}")
        if counted is not None and count:
            counted(count, _from_db(oldest), _from_db(newest))
    return count, oldest, newest


# --- Ranges (both databases) --------------------------------------------------------------------


def _member_params(members: Collection[uuid.UUID]) -> list:
    target = UsageRecord._meta.get_field("member").target_field
    return [target.get_db_prep_value(member, connection) for member in dict.fromkeys(members)]


def _held_clauses(held: list) -> tuple[str, str]:
    """SQL fragments (`` AND member_id NOT IN (…)`` and ``… IN (…)``) for the held members."""
    if not held:
        return "", " AND FALSE"
    marks = ", ".join(["%s"] * len(held))
    return f" AND member_id NOT IN ({marks})", f" AND member_id IN ({marks})"


def _to_db(moment: datetime):
    return connection.ops.adapt_datetimefield_value(moment)


def _from_db(value) -> datetime | None:
    if value is None or connection.vendor == "postgresql":
        return value
    # SQLite: text, or a naive datetime where the column's type survived, in UTC.
    return connection.ops.convert_datetimefield_value(value, None, connection)


def _count_held(cutoff: datetime, held: list) -> int:
    if not held:
        return 0
    _not_held, in_held = _held_clauses(held)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {connection.ops.quote_name(TABLE)} WHERE occurred_at < %s{in_held}",  # noqa: S608
            [_to_db(cutoff), *held],
        )
        return cursor.fetchone()[0]


def _summary(cutoff: datetime, held: list) -> tuple[int, datetime | None, datetime | None]:
    not_held, _in_held = _held_clauses(held)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), min(occurred_at), max(occurred_at) FROM {connection.ops.quote_name(TABLE)} "  # noqa: S608
            f"WHERE occurred_at < %s{not_held}",
            [_to_db(cutoff), *held],
        )
        count, oldest, newest = cursor.fetchone()
    return count, _from_db(oldest), _from_db(newest)


def _delete_in_windows(
    cutoff: datetime, held: list, batch_rows: int, counted=None
) -> Iterator[tuple[int, datetime | None, datetime | None]]:
    """Deletes the rows before ``cutoff`` oldest first, one transaction per window of about
    ``batch_rows`` rows; yields each window's count and times after its commit.

    A window ends at the time of the row ``batch_rows`` places on (exclusive), so a window is
    found by walking the index, and rows sharing one time are never split between windows; a
    window made only of one time holds all its rows.
    """
    table = connection.ops.quote_name(TABLE)
    not_held, _in_held = _held_clauses(held)
    upper = _to_db(cutoff)
    lower, lower_op = None, ">="
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            since = f" AND occurred_at {lower_op} %s" if lower is not None else ""
            since_params = [lower] if lower is not None else []
            cursor.execute(
                f"SELECT occurred_at FROM {table} WHERE occurred_at < %s{since} "  # noqa: S608
                "ORDER BY occurred_at LIMIT 1 OFFSET %s",
                [upper, *since_params, batch_rows],
            )
            row = cursor.fetchone()
            if row is None:
                end, end_op, last = upper, "<", True
            else:
                end, last = _to_db(_from_db(row[0])), False
                # All the window's rows share one time: take them all, or it would never move.
                end_op = "<=" if lower is not None and end == lower and lower_op == ">=" else "<"
            where = f"occurred_at {end_op} %s{since}{not_held}"
            params = [end, *since_params, *held]
            count, oldest, newest = _delete_where(cursor, table, where, params)
            if counted is not None and count:
                counted(count, _from_db(oldest), _from_db(newest))
        if count:
            yield count, oldest, newest
        if last:
            return
        lower, lower_op = end, (">" if end_op == "<=" else ">=")


def _delete_where(
    cursor, table: str, where: str, params: list
) -> tuple[int, datetime | None, datetime | None]:
    if connection.vendor == "postgresql":
        # One statement: the counted rows are exactly the deleted ones.
        cursor.execute(
            f"WITH gone AS (DELETE FROM {table} WHERE {where} RETURNING occurred_at) "  # noqa: S608
            "SELECT count(*), min(occurred_at), max(occurred_at) FROM gone",
            params,
        )
        return cursor.fetchone()
    # SQLite: the transaction holds the write lock from its start (IMMEDIATE), so nothing changes
    # between these statements; the ends come from the index, the count from the DELETE.
    ends = []
    for direction in ("ASC", "DESC"):
        cursor.execute(
            f"SELECT occurred_at FROM {table} WHERE {where} ORDER BY occurred_at {direction} LIMIT 1",  # noqa: S608
            params,
        )
        row = cursor.fetchone()
        ends.append(_from_db(row[0]) if row else None)
    if ends[0] is None:
        return 0, None, None
    cursor.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608
    return cursor.rowcount, ends[0], ends[1]
