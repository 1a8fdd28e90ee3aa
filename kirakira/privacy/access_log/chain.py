"""The access log's seal: each row carries an HMAC-SHA256 of its content and the previous row's
seal, so changing, removing or inserting a row breaks the chain at that row.

Threat model: an insider with write access to the database (not to the server's keys) who
wants an access to disappear or to look different. A plain hash chain could be recomputed by
them after the edit; the seal is keyed with the privacy keyring's blind-index key (domain
separated), which lives in the server's configuration, not in the database. The head row keeps
the newest row's number and seal, so removing the newest rows is seen too, and the sequence
numbers are consecutive (they are given under the head's lock, in the record's transaction), so
a removed row is named by the gap it leaves.

Appending takes the head row's lock, so records are chained in one order on every database; the
lock is held until the recording transaction ends, which for a page view is the log write
itself and for a change is the change's own transaction.
"""

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connections, models, transaction

from kirakira.common import clock
from kirakira.privacy.crypto.keyring import keyring

from ..models import AccessLogHead, StaffAccessRecord, StaffAccessSubject
from . import partitions

GENESIS = "0" * 64
_DOMAIN = b"kirakira staff access log v1\x00"


def _canonical(record: StaffAccessRecord, subjects: Iterable) -> bytes:
    content = {
        "seq": record.seq,
        "at": record.occurred_at.isoformat(),
        "staff": str(record.staff_id),
        "roles": record.roles,
        "ip": record.ip_address or "",
        "request": record.request_id,
        "action": record.action,
        "model": record.model,
        "object": record.object_id,
        "fields": list(record.fields),
        "reason": record.reason,
        "path": record.path,
        "subjects": sorted(str(subject) for subject in subjects),
        "prev": record.prev_hash,
    }
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def seal(record: StaffAccessRecord, subjects: Iterable) -> str:
    return hmac.digest(
        keyring().blind_index_key, _DOMAIN + _canonical(record, subjects), hashlib.sha256
    ).hex()


def _locked_head() -> AccessLogHead:
    head = AccessLogHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    try:  # the first append ever creates the head; two at once: one creates, both then lock it
        with transaction.atomic():
            AccessLogHead.objects.create(pk=1, last_hash=GENESIS, anchor_hash=GENESIS)
    except IntegrityError:
        pass
    return AccessLogHead.objects.select_for_update().get(pk=1)


def append(record: StaffAccessRecord, subjects: Iterable) -> StaffAccessRecord:
    """Seal and store ``record`` (unsaved) naming ``subjects`` (data subject IDs). Must run inside
    the transaction of what it records. Whatever the number of subjects: on PostgreSQL two
    statements (lock the head; one statement inserting the row and its subjects and moving the
    head), elsewhere four (lock, row, subjects in one multi-row insert, head)."""
    subjects = sorted({str(subject) for subject in subjects})
    head = _locked_head()
    record.seq = head.last_seq + 1
    record.prev_hash = head.last_hash
    if record.occurred_at is None:
        record.occurred_at = clock.now()
    record.hash = seal(record, subjects)
    connection = connections[StaffAccessRecord.objects.db]
    if connection.vendor == "postgresql":
        _append_postgresql(connection, record, subjects)
        return record
    record.save()
    StaffAccessSubject.objects.bulk_create(
        [StaffAccessSubject(record=record, subject_id=subject) for subject in subjects]
    )
    AccessLogHead.objects.filter(pk=head.pk).update(last_seq=record.seq, last_hash=record.hash)
    return record


def _append_postgresql(connection, record: StaffAccessRecord, subjects: list[str]) -> None:
    # One round trip instead of three: every staff page pays this (bench/staff_access.py), and on
    # PostgreSQL the round trips, not the work, are most of its cost. The values go through each
    # field's own ``get_db_prep_save``, as ``save()`` would convert them.
    quote = connection.ops.quote_name
    fields = [field for field in StaffAccessRecord._meta.concrete_fields if not field.primary_key]
    subject_table = StaffAccessSubject._meta.db_table
    statement = (
        f"WITH r AS (INSERT INTO {quote(StaffAccessRecord._meta.db_table)} "  # noqa: S608 - names from the models, values as parameters
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id), "
        f"s AS (INSERT INTO {quote(subject_table)} ({quote('record_id')}, {quote('subject_id')}) "
        "SELECT r.id, subject FROM r, unnest(%s::uuid[]) AS subject) "
        f"UPDATE {quote(AccessLogHead._meta.db_table)} SET last_seq = %s, last_hash = %s WHERE id = 1 "
        "RETURNING (SELECT id FROM r)"
    )
    values = [field.get_db_prep_save(getattr(record, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            statement, [*values, [uuid.UUID(subject) for subject in subjects], record.seq, record.hash]
        )
        record.pk = cursor.fetchone()[0]
    record._state.adding = False
    record._state.db = connection.alias


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    seq: int
    problem: str

    def __str__(self):
        return f"record #{self.seq}: {self.problem}"


def verify(*, batch: int = 2000) -> tuple[int, Break | None]:
    """Walks the kept rows in order: how many held, and the first broken link if any."""
    head = AccessLogHead.objects.filter(pk=1).first()
    expected_seq = (head.anchor_seq if head else 0) + 1
    expected_prev = head.anchor_hash if head else GENESIS
    last_seq = head.last_seq if head else 0
    checked = 0
    after = expected_seq - 1
    while True:
        rows = list(StaffAccessRecord.objects.filter(seq__gt=after).order_by("seq")[:batch])
        if not rows:
            break
        subjects: dict[int, list[str]] = {row.pk: [] for row in rows}
        for record_id, subject_id in StaffAccessSubject.objects.filter(record__in=rows).values_list(
            "record_id", "subject_id"
        ):
            subjects[record_id].append(str(subject_id))
        for row in rows:
            if row.seq > last_seq:
                return checked, Break(row.seq, "added after the newest record the log wrote")
            if row.seq != expected_seq:
                missing = (
                    f"#{expected_seq}" if row.seq == expected_seq + 1 else f"#{expected_seq}–#{row.seq - 1}"
                )
                return checked, Break(expected_seq, f"missing ({missing} removed)")
            if row.prev_hash != expected_prev:
                return checked, Break(row.seq, "does not chain to the record before it")
            if not hmac.compare_digest(row.hash, seal(row, subjects[row.pk])):
                return checked, Break(row.seq, "its content does not match its seal (changed)")
            checked += 1
            expected_seq += 1
            expected_prev = row.hash
            after = row.seq
    if last_seq != expected_seq - 1 or (head and head.last_hash != expected_prev):
        return checked, Break(expected_seq, f"missing (the newest records up to #{last_seq} removed)")
    return checked, None


def dispose_expired(now=None, *, keep_subjects=()) -> int:
    """Deletes the rows past their two years, oldest first, and moves the anchor to the last
    one removed so that the kept chain still verifies. Only a prefix of the chain can go, so a
    record naming a member under a legal hold (``keep_subjects``) stops the disposal before it.
    Returns how many records went. The retention sweep is the one caller (``dispose_for_sweep``)."""
    return _dispose(now, keep_subjects)[0]


def _prefix(now, keep_subjects, anchor_seq):
    """The expired prefix of the chain: its last record (or None) and how many expired records
    a legal hold keeps (the first record naming a held member ends the prefix)."""
    expired = StaffAccessRecord.objects.expired(now).filter(seq__gt=anchor_seq)
    held = 0
    if keep_subjects:
        first_held = (
            StaffAccessSubject.objects.filter(subject_id__in=list(keep_subjects), record__in=expired)
            .order_by("record__seq")
            .values_list("record__seq", flat=True)
            .first()
        )
        if first_held is not None:
            held = expired.filter(seq__gte=first_held).count()
            expired = expired.filter(seq__lt=first_held)
    return expired.order_by("-seq").values("seq", "hash", "occurred_at").first(), held


def _dispose(now, keep_subjects):
    with transaction.atomic():
        head = _locked_head()
        last, held = _prefix(now, keep_subjects, head.anchor_seq)
        if last is None:
            return 0, 0, None, None, held
        # PostgreSQL: the months wholly within the prefix are dropped with their members first.
        months = partitions.drop_months_through(last["seq"], last["occurred_at"])
        # Only a prefix of the chain goes: rows are appended in time order under the lock.
        doomed = StaffAccessRecord.objects.filter(seq__lte=last["seq"])
        stats = doomed.aggregate(n=models.Count("pk"), oldest=models.Min("occurred_at"), newest=models.Max("occurred_at"))
        subjects = StaffAccessSubject.objects.filter(record__seq__lte=last["seq"])
        subjects_count = subjects.count()
        # By range in SQL, never through Django's deletion collector (which loads every row to
        # send signals: 44 s and 135 MiB for 100,000 records). The queryset refuses ``delete``;
        # the disposal is the one deletion there is.
        subjects._raw_delete(subjects.db)
        doomed._raw_delete(doomed.db)
        AccessLogHead.objects.filter(pk=head.pk).update(anchor_seq=last["seq"], anchor_hash=last["hash"])
        oldest = min((t for t in (months.oldest, stats["oldest"]) if t is not None), default=None)
        newest = max((t for t in (months.newest, stats["newest"]) if t is not None), default=None)
        return months.count + stats["n"], months.subjects + subjects_count, oldest, newest, held


def dispose_for_sweep(disposal, context) -> None:
    """The retention sweep's disposal of the access log: one transaction that deletes the
    expired prefix and counts it in the ledger."""
    from kirakira.privacy.retention.ledger import Method

    code = disposal.rule.code
    if context.dry_run:
        anchor = _anchor_seq()
        last, held = _prefix(context.now, context.held, anchor)
        if last is not None:
            prefix = StaffAccessRecord.objects.filter(seq__gt=anchor, seq__lte=last["seq"])
            stats = prefix.aggregate(
                n=models.Count("pk"), oldest=models.Min("occurred_at"), newest=models.Max("occurred_at")
            )
            context.count(code, StaffAccessRecord._meta.label, Method.DELETED, stats["n"], stats["oldest"], stats["newest"])
        context.count(code, StaffAccessRecord._meta.label, Method.HELD, held)
        return
    with transaction.atomic():
        count, subjects, oldest, newest, held = _dispose(context.now, context.held)
        context.count(code, StaffAccessRecord._meta.label, Method.DELETED, count, oldest, newest)
        context.count(code, StaffAccessSubject._meta.label, Method.DELETED, subjects)
        context.count(code, StaffAccessRecord._meta.label, Method.HELD, held)
    if context.on_batch is not None and count:
        context.on_batch(disposal.key, count)


def _anchor_seq() -> int:
    head = AccessLogHead.objects.first()
    return head.anchor_seq if head else 0
