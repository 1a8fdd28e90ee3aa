"""The staff access log's disposal counts exactly and leaves a chain that verifies (both
databases); on PostgreSQL the records' table is partitioned by month, whole months within the
disposed-of prefix are dropped with their members, and a record kept for a legal hold keeps its
month."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from kirakira.common import clock
from kirakira.common.testing import StaffFactory
from kirakira.privacy.access_log import chain, partitions
from kirakira.privacy.access_log.partitions import ensure_partitions
from kirakira.privacy.catalog.vocabulary import Retention
from kirakira.privacy.models import StaffAccessRecord, StaffAccessSubject
from kirakira.privacy.retention import sweep
from kirakira.privacy.retention.models import LegalHold

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the access log is partitioned by month on PostgreSQL only"
)
ONLY = ("privacy.StaffAccessRecord:staff_access_2y",)
RULE = "staff_access_2y"
RECORD = "privacy.StaffAccessRecord"
SUBJECT = "privacy.StaffAccessSubject"
# Years that no partition made by the migration reaches (it makes the months around today).
JANUARY = datetime(2020, 1, 1, tzinfo=UTC)
# Two years on, the cutoff falls in the middle of March 2020.
SWEEP_AT = datetime(2022, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def staff():
    return StaffFactory()


def _append(staff, at: datetime, *subjects) -> StaffAccessRecord:
    with transaction.atomic():
        return chain.append(
            StaffAccessRecord(staff=staff, occurred_at=at, action="view", model="accounts.User"),
            subjects or [uuid.uuid4()],
        )


def _sweep(now: datetime) -> dict:
    with clock.frozen_at(now):
        result = sweep.run(only=ONLY)
    return {key: (t.count, t.oldest, t.newest) for key, t in result.totals.items() if t.count}


def _seqs() -> list[int]:
    return sorted(StaffAccessRecord.objects.values_list("seq", flat=True))


def _relation_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def _partition_of(record: StaffAccessRecord) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {partitions.TABLE} WHERE id = %s", [record.pk])  # noqa: S608
        return cursor.fetchone()[0]


def _hold(subject_id, placed_by) -> LegalHold:
    return LegalHold.objects.create(
        subject_id=subject_id,
        reason="dispute over a refund",
        reference="case 12",
        starts_at=datetime(2019, 1, 1, tzinfo=UTC),
        placed_by=placed_by,
    )


# --- Both databases -------------------------------------------------------------------------------


def test_the_disposal_counts_exactly_and_the_kept_chain_verifies(staff):
    cutoff = Retention.STAFF_ACCESS_2Y.cutoff(SWEEP_AT)
    assert datetime(2020, 3, 2, tzinfo=UTC) < cutoff < datetime(2020, 3, 30, tzinfo=UTC)
    ensure_partitions(JANUARY, months_ahead=2)  # January to March 2020 (PostgreSQL)
    times = [
        datetime(2019, 12, 31, 23, 59, tzinfo=UTC),  # no month of its own: the default partition
        JANUARY,
        datetime(2020, 1, 31, 23, 59, tzinfo=UTC),
        datetime(2020, 2, 10, tzinfo=UTC),
        datetime(2020, 3, 1, tzinfo=UTC),
        cutoff,  # "on or before" the cutoff: goes
        cutoff + timedelta(microseconds=1),
        datetime(2020, 3, 31, tzinfo=UTC),
        datetime(2021, 6, 1, tzinfo=UTC),
    ]
    members = [2, 1, 3, 1, 2, 1, 1, 2, 1]
    for at, count in zip(times, members, strict=True):
        _append(staff, at, *(uuid.uuid4() for _ in range(count)))
    assert chain.verify() == (9, None)

    disposed = _sweep(SWEEP_AT)

    assert disposed == {
        (RULE, RECORD, "deleted"): (6, times[0], cutoff),
        (RULE, SUBJECT, "deleted"): (10, None, None),
    }
    assert _seqs() == [7, 8, 9]
    assert StaffAccessSubject.objects.count() == 4
    assert chain.verify() == (3, None)
    # The next record chains on; a second run finds nothing.
    _append(staff, SWEEP_AT)
    assert chain.verify() == (4, None)
    assert _sweep(SWEEP_AT) == {}
    if partitions.is_partitioned():
        assert not _relation_exists("privacy_staffaccessrecord_p2020_01")
        assert not _relation_exists("privacy_staffaccessrecord_p2020_02")
        assert _relation_exists("privacy_staffaccessrecord_p2020_03")


def test_a_held_members_record_stops_the_disposal_before_it(staff):
    held = uuid.uuid4()
    _hold(held, staff)
    ensure_partitions(JANUARY, months_ahead=2)
    first = _append(staff, datetime(2020, 1, 5, tzinfo=UTC))
    _append(staff, datetime(2020, 1, 20, tzinfo=UTC), held, uuid.uuid4())
    _append(staff, datetime(2020, 2, 5, tzinfo=UTC))

    disposed = _sweep(SWEEP_AT)

    assert disposed == {
        (RULE, RECORD, "deleted"): (1, first.occurred_at, first.occurred_at),
        (RULE, SUBJECT, "deleted"): (1, None, None),
        (RULE, RECORD, "held"): (2, None, None),
    }
    assert _seqs() == [2, 3]
    assert chain.verify() == (2, None)
    if partitions.is_partitioned():  # January holds the held record: range-deleted, not dropped
        assert _relation_exists("privacy_staffaccessrecord_p2020_01")


def test_ensure_partitions_twice_creates_nothing_the_second_time():
    moment = datetime(2090, 5, 10, tzinfo=UTC)
    first = ensure_partitions(moment)
    assert ensure_partitions(moment) == []
    assert first == (
        []
        if connection.vendor == "sqlite"
        else [f"privacy_staffaccessrecord_p2090_{m:02d}" for m in range(5, 9)]
    )


# --- PostgreSQL: monthly partitions ---------------------------------------------------------------


@postgresql_only
def test_the_migration_partitioned_the_records_by_month_with_a_default_partition():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'privacy_staffaccessrecord'::regclass")
        assert cursor.fetchone()[0] == "p"
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'privacy_staffaccessrecord'::regclass ORDER BY contype, conname"
        )
        constraints = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = 'privacy_staffaccesssubject'::regclass"
        )
        subject_foreign_keys = cursor.fetchone()[0]
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'privacy_staffaccessrecord'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert constraints == [
        "CHECK ((seq >= 0))",
        "FOREIGN KEY (staff_id) REFERENCES accounts_user(id) DEFERRABLE INITIALLY DEFERRED",
        "PRIMARY KEY (id, occurred_at)",
        "UNIQUE (seq, occurred_at)",
    ]
    # A foreign key can point at a partitioned table's whole primary key only.
    assert subject_foreign_keys == 0
    assert {
        "privacy_staffaccessrecord_pkey",
        "privacy_staffaccessrecord_seq_key",
        "privacy_access_staff_idx",
        "privacy_staffaccessrecord_occurred_at_fd0d4541",
        "privacy_staffaccessrecord_staff_id_6a528d05",
    } <= indexes
    assert _relation_exists(partitions.DEFAULT_PARTITION)
    this_month = partitions.month_start(clock.now())
    months = {partitions.add_months(this_month, i) for i in range(4)}
    assert {p.lower for p in partitions.partitions()} >= months


@postgresql_only
def test_a_record_written_now_lands_in_this_months_partition_in_one_statement(staff):
    _append(staff, clock.now())  # the first record ever also creates the head
    record = _append(staff, clock.now(), uuid.uuid4(), uuid.uuid4())

    assert isinstance(record.pk, int)
    assert _partition_of(record) == partitions.partition_name(partitions.month_start(clock.now()))
    assert StaffAccessRecord.objects.get(pk=record.pk).seq == 2
    assert StaffAccessSubject.objects.filter(record_id=record.pk).count() == 2
    assert chain.verify() == (2, None)


@postgresql_only
def test_ensure_partitions_creates_this_month_and_the_next_ones_once():
    moment = datetime(2090, 12, 31, 23, 0, tzinfo=UTC)

    assert ensure_partitions(moment) == [
        "privacy_staffaccessrecord_p2090_12",
        "privacy_staffaccessrecord_p2091_01",
        "privacy_staffaccessrecord_p2091_02",
        "privacy_staffaccessrecord_p2091_03",
    ]
    assert ensure_partitions(moment) == []
    assert ensure_partitions(moment, months_ahead=4) == ["privacy_staffaccessrecord_p2091_04"]
    bounds = {p.name: (p.lower, p.upper) for p in partitions.partitions()}
    assert bounds["privacy_staffaccessrecord_p2091_01"] == (
        datetime(2091, 1, 1, tzinfo=UTC),
        datetime(2091, 2, 1, tzinfo=UTC),
    )


@postgresql_only
def test_a_new_month_takes_its_records_from_the_default_partition_and_the_chain_holds(staff):
    early = _append(staff, datetime(2090, 5, 1, tzinfo=UTC), uuid.uuid4())
    later = _append(staff, datetime(2090, 6, 1, tzinfo=UTC), uuid.uuid4())
    assert {_partition_of(early), _partition_of(later)} == {partitions.DEFAULT_PARTITION}

    assert ensure_partitions(datetime(2090, 5, 20, tzinfo=UTC), months_ahead=0) == [
        "privacy_staffaccessrecord_p2090_05"
    ]

    assert _partition_of(early) == "privacy_staffaccessrecord_p2090_05"
    assert _partition_of(later) == partitions.DEFAULT_PARTITION
    assert chain.verify() == (2, None)  # ids, seals and members unchanged


@postgresql_only
def test_an_old_month_is_dropped_with_its_members_and_the_chain_still_verifies(staff):
    ensure_partitions(JANUARY, months_ahead=1)
    january = [
        _append(staff, JANUARY + timedelta(days=day), uuid.uuid4(), uuid.uuid4()) for day in (1, 9, 30)
    ]
    february = _append(staff, datetime(2020, 2, 3, tzinfo=UTC))
    kept = _append(staff, datetime(2021, 1, 1, tzinfo=UTC), uuid.uuid4())
    assert _partition_of(january[0]) == "privacy_staffaccessrecord_p2020_01"
    january_ids = [record.pk for record in january]

    disposed = _sweep(SWEEP_AT)

    assert disposed == {
        (RULE, RECORD, "deleted"): (4, january[0].occurred_at, february.occurred_at),
        (RULE, SUBJECT, "deleted"): (7, None, None),
    }
    assert not _relation_exists("privacy_staffaccessrecord_p2020_01")
    assert not _relation_exists("privacy_staffaccessrecord_p2020_02")
    assert not StaffAccessSubject.objects.filter(record_id__in=january_ids).exists()
    assert StaffAccessSubject.objects.filter(record_id=kept.pk).count() == 1
    assert _seqs() == [kept.seq]
    assert chain.verify() == (1, None)


@postgresql_only
def test_a_held_members_record_keeps_its_month_until_the_hold_ends(staff):
    held = uuid.uuid4()
    hold = _hold(held, staff)
    ensure_partitions(JANUARY, months_ahead=2)
    january = _append(staff, datetime(2020, 1, 10, tzinfo=UTC))
    held_record = _append(staff, datetime(2020, 2, 10, tzinfo=UTC), held)
    march = _append(staff, datetime(2020, 3, 1, tzinfo=UTC))

    assert _sweep(SWEEP_AT) == {
        (RULE, RECORD, "deleted"): (1, january.occurred_at, january.occurred_at),
        (RULE, SUBJECT, "deleted"): (1, None, None),
        (RULE, RECORD, "held"): (2, None, None),
    }
    assert not _relation_exists("privacy_staffaccessrecord_p2020_01")
    assert _partition_of(held_record) == "privacy_staffaccessrecord_p2020_02"
    assert _relation_exists("privacy_staffaccessrecord_p2020_03")
    assert chain.verify() == (2, None)

    LegalHold.objects.filter(pk=hold.pk).update(released_at=SWEEP_AT, released_by=staff)
    later = SWEEP_AT + timedelta(days=1)
    assert _sweep(later) == {
        (RULE, RECORD, "deleted"): (2, held_record.occurred_at, march.occurred_at),
        (RULE, SUBJECT, "deleted"): (2, None, None),
    }
    assert not _relation_exists("privacy_staffaccessrecord_p2020_02")
    # March 2020 is past its two years by now too, and wholly within the prefix.
    assert not _relation_exists("privacy_staffaccessrecord_p2020_03")
    assert _seqs() == []
    assert chain.verify() == (0, None)


@postgresql_only
def test_a_month_holding_a_record_beyond_the_prefix_is_not_dropped(staff):
    """Sequence numbers decide, not dates: a record dated back into an old month (a clock put
    right) after a kept one keeps that month, and only the prefix goes."""
    ensure_partitions(JANUARY, months_ahead=0)
    first = _append(staff, datetime(2020, 1, 5, tzinfo=UTC))
    held = uuid.uuid4()
    _hold(held, staff)
    _append(staff, datetime(2020, 1, 6, tzinfo=UTC), held)
    _append(staff, datetime(2020, 1, 2, tzinfo=UTC))  # dated before the others

    assert _sweep(SWEEP_AT)[(RULE, RECORD, "deleted")] == (1, first.occurred_at, first.occurred_at)
    assert _relation_exists("privacy_staffaccessrecord_p2020_01")
    assert _seqs() == [2, 3]
    assert chain.verify() == (2, None)
