"""Disposal of the usage log by time ranges (both databases) and by dropping whole months
(PostgreSQL's monthly partitions): exactly the rows before the cutoff go, held members' rows
stay, and what went is counted exactly for the disposal ledger."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_delete, pre_delete

from kirakira.common import clock
from kirakira.common.testing import MemberFactory
from kirakira.usage import partitions
from kirakira.usage.models import UsageRecord
from kirakira.usage.partitions import Disposed, dispose_before, ensure_partitions

pytestmark = pytest.mark.django_db

# Years no partition made by the migration can reach (it makes the months around the real date).
CUTOFF = datetime(2020, 3, 10, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="monthly partitions exist on PostgreSQL only"
)


def _records(member, *times):
    return UsageRecord.objects.bulk_create(
        UsageRecord(
            member=member,
            occurred_at=moment,
            ip_address="203.0.113.7",
            method="GET",
            route="home",
            status_code=200,
        )
        for moment in times
    )


def _left() -> list[datetime]:
    return sorted(UsageRecord.objects.values_list("occurred_at", flat=True))


def _relation_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def _partition_of(record_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM usage_usagerecord WHERE id = %s", [record_id])
        return cursor.fetchone()[0]


# --- Both databases ---------------------------------------------------------------------------


def test_exactly_the_rows_before_the_cutoff_go_and_are_counted_exactly():
    alice, bob = MemberFactory(), MemberFactory()
    before = [datetime(2019, 11, 30, 23, 59, tzinfo=UTC), datetime(2020, 1, 15, tzinfo=UTC), CUTOFF - TICK]
    after = [CUTOFF, CUTOFF + TICK, datetime(2020, 4, 1, tzinfo=UTC)]
    _records(alice, before[0], after[0], before[2])
    _records(bob, before[1], after[1], after[2])

    disposed = dispose_before(CUTOFF)

    assert disposed == Disposed(count=3, oldest=before[0], newest=CUTOFF - TICK, kept_for_hold=0)
    assert _left() == after


def test_held_members_rows_are_never_disposed_of_and_are_counted_as_kept():
    held, other = MemberFactory(), MemberFactory()
    _records(held, datetime(2019, 6, 1, tzinfo=UTC), datetime(2020, 2, 1, tzinfo=UTC), CUTOFF + TICK)
    _records(other, datetime(2019, 7, 1, tzinfo=UTC), datetime(2020, 2, 2, tzinfo=UTC), CUTOFF + TICK)

    disposed = dispose_before(CUTOFF, keep_members=[held.pk])

    assert disposed == Disposed(
        count=2,
        oldest=datetime(2019, 7, 1, tzinfo=UTC),
        newest=datetime(2020, 2, 2, tzinfo=UTC),
        kept_for_hold=2,
    )
    assert UsageRecord.objects.filter(member=held).count() == 3
    assert list(UsageRecord.objects.filter(member=other).values_list("occurred_at", flat=True)) == [
        CUTOFF + TICK
    ]


def test_a_dry_run_counts_what_would_go_and_changes_nothing():
    held, other = MemberFactory(), MemberFactory()
    _records(held, datetime(2019, 6, 1, tzinfo=UTC))
    _records(other, datetime(2019, 7, 1, tzinfo=UTC), CUTOFF - TICK, CUTOFF)
    everything = _left()
    calls = []

    dry = dispose_before(CUTOFF, keep_members=[held.pk], dry_run=True, on_batch=calls.append)

    assert _left() == everything
    assert calls == []
    assert dry == Disposed(
        count=2, oldest=datetime(2019, 7, 1, tzinfo=UTC), newest=CUTOFF - TICK, kept_for_hold=1
    )
    assert dispose_before(CUTOFF, keep_members=[held.pk]) == dry


def test_small_batches_reach_the_same_end_and_report_each_batch():
    held, other = MemberFactory(), MemberFactory()
    times = [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=i) for i in range(11)]
    crowded = datetime(2020, 2, 1, tzinfo=UTC)  # more rows at one time than a batch holds
    _records(other, *times, *[crowded] * 5, CUTOFF, CUTOFF + timedelta(days=1))
    _records(held, times[0], crowded)
    batches = []

    disposed = dispose_before(CUTOFF, keep_members=[held.pk], batch_rows=3, on_batch=batches.append)

    assert disposed == Disposed(count=16, oldest=times[0], newest=crowded, kept_for_hold=2)
    assert sum(batches) == 16
    assert len(batches) >= 5
    assert max(batches) == 5  # the five rows of one time go together
    assert _left() == [times[0], crowded, CUTOFF, CUTOFF + timedelta(days=1)]
    assert dispose_before(CUTOFF, keep_members=[held.pk], batch_rows=3) == Disposed(0, None, None, 2)


def test_batches_end_where_one_big_batch_ends():
    member = MemberFactory()
    times = [datetime(2019, 12, 1, tzinfo=UTC) + timedelta(minutes=7 * i) for i in range(40)]
    _records(member, *times, CUTOFF)

    in_small = dispose_before(CUTOFF, batch_rows=4)
    left_small = _left()
    _records(member, *times)
    in_one = dispose_before(CUTOFF, batch_rows=1_000)

    assert in_small == in_one == Disposed(count=40, oldest=times[0], newest=times[-1], kept_for_hold=0)
    assert left_small == _left() == [CUTOFF]


class Interrupted(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_run_stopped_between_batches_has_committed_whole_batches_and_a_rerun_finishes():
    member = MemberFactory()
    times = [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(10)]
    _records(member, *times, CUTOFF)

    def stop(count):
        raise Interrupted(count)

    with pytest.raises(Interrupted):
        dispose_before(CUTOFF, batch_rows=3, on_batch=stop)

    # The first batch was committed before the stop; nothing of the second one was touched.
    assert not connection.in_atomic_block
    assert _left() == [*times[3:], CUTOFF]
    assert dispose_before(CUTOFF, batch_rows=3) == Disposed(
        count=7, oldest=times[3], newest=times[-1], kept_for_hold=0
    )
    assert _left() == [CUTOFF]


def test_the_cutoff_must_be_aware_and_batches_not_empty():
    with pytest.raises(ValueError):
        dispose_before(datetime(2020, 3, 10))
    with pytest.raises(ValueError):
        dispose_before(CUTOFF, batch_rows=0)


def test_nothing_hangs_off_the_usage_log():
    """Rows go by raw ranges, which skip Django's cascades and delete signals: this holds only
    while nothing depends on them. The staff access log's receiver records deletions made in a
    staff request only, which disposal never is."""
    assert list(UsageRecord._meta.related_objects) == []
    assert _receivers(pre_delete) == set()
    assert _receivers(post_delete) <= {"kirakira.privacy.access_log.signals._deleted"}


def _receivers(signal) -> set[str]:
    sync, asynchronous = signal._live_receivers(UsageRecord)
    return {f"{receiver.__module__}.{receiver.__qualname__}" for receiver in [*sync, *asynchronous]}


def test_ensure_partitions_twice_creates_nothing_the_second_time():
    moment = datetime(2090, 5, 10, tzinfo=UTC)
    first = ensure_partitions(moment)
    assert ensure_partitions(moment) == []
    if connection.vendor == "sqlite":
        assert first == []


# --- PostgreSQL: monthly partitions -----------------------------------------------------------


@postgresql_only
def test_the_migration_partitioned_the_table_by_month_with_a_default_partition():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'usage_usagerecord'::regclass")
        assert cursor.fetchone()[0] == "p"
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'usage_usagerecord'::regclass ORDER BY contype"
        )
        constraints = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'usage_usagerecord'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert constraints == [
        "CHECK ((status_code >= 0))",
        "FOREIGN KEY (member_id) REFERENCES accounts_user(id) DEFERRABLE INITIALLY DEFERRED",
        "PRIMARY KEY (id, occurred_at)",
    ]
    assert {"usage_occurred_at_idx", "usage_member_time_idx", "usage_usagerecord_pkey"} <= indexes
    assert _relation_exists(partitions.DEFAULT_PARTITION)
    this_month = partitions.month_start(clock.now())
    months = [partitions.add_months(this_month, i) for i in range(4)]
    assert {p.lower for p in partitions.partitions()} >= set(months)


@postgresql_only
def test_ids_still_come_from_the_table_for_inserts_and_bulk_create():
    member = MemberFactory()
    single = UsageRecord.objects.create(
        member=member,
        occurred_at=clock.now(),
        ip_address="203.0.113.7",
        method="GET",
        route="home",
        status_code=200,
    )
    many = _records(member, clock.now(), datetime(2019, 1, 1, tzinfo=UTC))

    ids = [single.pk, *(record.pk for record in many)]
    assert all(isinstance(pk, int) for pk in ids)
    assert ids == sorted(set(ids))
    assert UsageRecord.objects.get(pk=many[1].pk).occurred_at == datetime(2019, 1, 1, tzinfo=UTC)
    assert _partition_of(many[1].pk) == partitions.DEFAULT_PARTITION
    assert _partition_of(single.pk) == partitions.partition_name(partitions.month_start(clock.now()))


@postgresql_only
def test_ensure_partitions_creates_this_month_and_the_next_ones_once():
    moment = datetime(2090, 12, 31, 23, 0, tzinfo=UTC)

    created = ensure_partitions(moment)

    assert created == [
        "usage_usagerecord_p2090_12",
        "usage_usagerecord_p2091_01",
        "usage_usagerecord_p2091_02",
        "usage_usagerecord_p2091_03",
    ]
    assert ensure_partitions(moment) == []
    assert ensure_partitions(moment, months_ahead=5) == [
        "usage_usagerecord_p2091_04",
        "usage_usagerecord_p2091_05",
    ]
    bounds = {p.name: (p.lower, p.upper) for p in partitions.partitions()}
    assert bounds["usage_usagerecord_p2091_01"] == (
        datetime(2091, 1, 1, tzinfo=UTC),
        datetime(2091, 2, 1, tzinfo=UTC),
    )


@postgresql_only
def test_a_new_month_takes_its_rows_from_the_default_partition():
    member = MemberFactory()
    early, late, later = _records(
        member,
        datetime(2090, 5, 1, tzinfo=UTC),
        datetime(2090, 5, 31, 23, 59, tzinfo=UTC),
        datetime(2090, 6, 1, tzinfo=UTC),
    )
    assert {_partition_of(r.pk) for r in (early, late, later)} == {partitions.DEFAULT_PARTITION}

    assert ensure_partitions(datetime(2090, 5, 20, tzinfo=UTC), months_ahead=0) == [
        "usage_usagerecord_p2090_05"
    ]

    assert _partition_of(early.pk) == _partition_of(late.pk) == "usage_usagerecord_p2090_05"
    assert _partition_of(later.pk) == partitions.DEFAULT_PARTITION
    assert UsageRecord.objects.filter(member=member).count() == 3


@postgresql_only
def test_whole_old_months_are_dropped_and_the_boundary_month_deleted_by_range():
    member = MemberFactory()
    ensure_partitions(datetime(2020, 1, 15, tzinfo=UTC), months_ahead=2)
    january = datetime(2020, 1, 1, tzinfo=UTC)
    rows = _records(
        member,
        datetime(2019, 6, 1, tzinfo=UTC),  # no month of its own: in the default partition
        january,
        datetime(2020, 1, 31, 23, 59, tzinfo=UTC),
        datetime(2020, 2, 14, tzinfo=UTC),
        datetime(2020, 3, 1, tzinfo=UTC),
        CUTOFF - TICK,
        CUTOFF,
        datetime(2020, 3, 31, tzinfo=UTC),
    )
    assert _partition_of(rows[1].pk) == "usage_usagerecord_p2020_01"
    batches = []

    disposed = dispose_before(CUTOFF, on_batch=batches.append)

    assert disposed == Disposed(
        count=6, oldest=datetime(2019, 6, 1, tzinfo=UTC), newest=CUTOFF - TICK, kept_for_hold=0
    )
    assert not _relation_exists("usage_usagerecord_p2020_01")
    assert not _relation_exists("usage_usagerecord_p2020_02")
    assert _relation_exists("usage_usagerecord_p2020_03")
    assert _left() == [CUTOFF, datetime(2020, 3, 31, tzinfo=UTC)]
    # January (two rows) and February (one) dropped, then one range: March's two and the default's one.
    assert batches == [2, 1, 3]
    assert sum(1 for p in partitions.partitions() if p.upper <= CUTOFF) == 0


@postgresql_only
def test_held_members_rows_survive_the_drop_of_their_month():
    held, other = MemberFactory(), MemberFactory()
    ensure_partitions(datetime(2020, 1, 15, tzinfo=UTC), months_ahead=0)
    kept = _records(held, datetime(2020, 1, 2, tzinfo=UTC), datetime(2020, 1, 20, tzinfo=UTC))
    _records(other, datetime(2020, 1, 3, tzinfo=UTC))
    before = list(UsageRecord.objects.filter(member=held).order_by("id").values())

    disposed = dispose_before(CUTOFF, keep_members=[held.pk])

    assert disposed == Disposed(
        count=1,
        oldest=datetime(2020, 1, 3, tzinfo=UTC),
        newest=datetime(2020, 1, 3, tzinfo=UTC),
        kept_for_hold=2,
    )
    assert not _relation_exists("usage_usagerecord_p2020_01")
    # The same rows, ids included, now in the default partition.
    assert list(UsageRecord.objects.filter(member=held).order_by("id").values()) == before
    assert {_partition_of(record.pk) for record in kept} == {partitions.DEFAULT_PARTITION}
    assert not UsageRecord.objects.filter(member=other).exists()

    # The hold ends: the next run disposes of them.
    assert dispose_before(CUTOFF) == Disposed(
        count=2,
        oldest=datetime(2020, 1, 2, tzinfo=UTC),
        newest=datetime(2020, 1, 20, tzinfo=UTC),
        kept_for_hold=0,
    )
    assert not UsageRecord.objects.exists()


@postgresql_only
def test_a_dry_run_drops_no_partition():
    member = MemberFactory()
    ensure_partitions(datetime(2020, 1, 15, tzinfo=UTC), months_ahead=0)
    _records(member, datetime(2020, 1, 2, tzinfo=UTC), datetime(2020, 1, 3, tzinfo=UTC))

    dry = dispose_before(CUTOFF, dry_run=True)

    assert dry == Disposed(
        count=2,
        oldest=datetime(2020, 1, 2, tzinfo=UTC),
        newest=datetime(2020, 1, 3, tzinfo=UTC),
        kept_for_hold=0,
    )
    assert _relation_exists("usage_usagerecord_p2020_01")
    assert UsageRecord.objects.count() == 2
