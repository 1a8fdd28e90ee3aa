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
``maintain_log_partitions`` creates the coming months ahead of time (``kirakira/common/partitions.py``,
shared with the usage log); a record dated in a month without its partition goes to the default
partition, and moves into its month when that month's partition is created.

Nothing here runs on SQLite.
"""

from dataclasses import dataclass
from datetime import datetime

from kirakira.common.partitions import (  # noqa: F401 - also named from here
    MonthlyPartitions,
    Partition,
    add_months,
    month_start,
)

from ..models import StaffAccessRecord, StaffAccessSubject

# On the records' database, as the chain's appends (``chain.append``).
MONTHLY = MonthlyPartitions.for_model(StaffAccessRecord, db_alias=lambda: StaffAccessRecord.objects.db)
TABLE = MONTHLY.table
DEFAULT_PARTITION = MONTHLY.default_partition
SUBJECT_TABLE = StaffAccessSubject._meta.db_table

is_partitioned = MONTHLY.is_partitioned
partitions = MONTHLY.partitions
partition_name = MONTHLY.partition_name
ensure_partitions = MONTHLY.ensure_partitions


@dataclass(frozen=True)
class Dropped:
    """What the dropped months held: their records (with their oldest and newest times) and the
    member rows deleted with them."""

    count: int = 0
    subjects: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None


# --- Disposal -------------------------------------------------------------------------------------


def drop_months_through(last_seq: int, before: datetime) -> Dropped:
    """Drops every monthly partition that starts no later than ``before`` and whose records all
    have a sequence number up to ``last_seq``, with their member rows; returns what they held.

    For ``chain._dispose`` alone: it runs inside the disposal's transaction, with the head row
    locked, after ``last_seq`` was found to end the prefix of the chain to dispose of (so nothing
    is appended meanwhile, and the anchor moves in the same transaction). ``before`` (the newest
    disposed record's time) spares the recent months a look. Nothing on SQLite.
    """
    connection = MONTHLY.connection()
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
        # After the head row's lock, which the disposal holds: appends take the head row first
        # too, so the two never wait on each other in opposite orders.
        MONTHLY.lock_table(cursor)
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
