"""Separate storage: moving a withdrawn member's kept records out of the live tables, disposing
of them when their rule runs out, and destroying the member's key when nothing is left."""

import base64
import datetime
import decimal
import uuid

from django.db import models, transaction
from django.db.models import Count, Max, Min

from kirakira.privacy.catalog.vocabulary import Retention, RetentionRule
from kirakira.privacy.crypto import datakeys

from .ledger import Context, Method
from .models import RegistrationMatch, RetainedRecord


def plain(value):
    """A field's value as JSON can hold it."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def snapshot(instance, *, exclude=()) -> dict:
    """Every concrete field of a row, encrypted ones in clear (they are encrypted again, as one
    value, under the same member's key in separate storage)."""
    return {
        field.attname: plain(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
        if field.attname not in exclude
    }


def move(
    *,
    subject_id,
    source: str,
    source_id,
    rule: RetentionRule,
    started_at: datetime.datetime,
    data: dict,
    now: datetime.datetime,
    fraud_email: str | None = None,
) -> RetainedRecord:
    record = RetainedRecord(
        subject_id=subject_id,
        source=source,
        source_id=str(source_id),
        rule=rule.code,
        clock_started_at=started_at,
        dispose_after=rule.due(started_at),
        moved_at=now,
        data=data,
    )
    if fraud_email:
        record.fraud_index = fraud_index_of(fraud_email)
    record.save(force_insert=True)
    return record


def fraud_index_of(email: str) -> str | None:
    """The fraud check's own keyed hash of a (normalised) email address."""
    return RetainedRecord._meta.get_field("fraud_index").digest(email)


def registration_matches(*, user, email: str) -> int:
    """The fraud check: link a new account to withdrawn members' records with the same email
    address, for the privacy officer to look at. Never refuses the registration."""
    digest = fraud_index_of(email)
    if digest is None:
        return 0
    retained = list(RetainedRecord.objects.filter(fraud_index=digest).values_list("pk", flat=True))
    RegistrationMatch.objects.bulk_create([RegistrationMatch(retained_id=pk, user=user) for pk in retained])
    return len(retained)


# --- disposal ----------------------------------------------------------------------------------


def dispose_retained(disposal, context: Context) -> None:
    """Retained records whose rule has run out go, in batches; each counted under its rule and
    source ("privacy.RetainedRecord:orders.Order")."""
    due = RetainedRecord.objects.due(context.now)
    if context.held:
        kept = due.filter(subject_id__in=list(context.held))
        for row in kept.values("rule", "source").annotate(
            n=Count("pk"), oldest=Min("clock_started_at"), newest=Max("clock_started_at")
        ):
            with transaction.atomic():
                context.count(row["rule"], _label(row["source"]), Method.HELD, row["n"], row["oldest"], row["newest"])
        due = due.exclude(subject_id__in=list(context.held))
    if context.dry_run:
        for row in due.values("rule", "source").annotate(
            n=Count("pk"), oldest=Min("clock_started_at"), newest=Max("clock_started_at")
        ):
            context.count(row["rule"], _label(row["source"]), Method.DELETED, row["n"], row["oldest"], row["newest"])
        return
    while True:
        with transaction.atomic():
            ids = list(due.order_by().values_list("pk", flat=True)[: context.batch_size])
            if not ids:
                return
            batch = RetainedRecord.objects.filter(pk__in=ids)
            groups = list(
                batch.values("rule", "source").annotate(
                    n=Count("pk"), oldest=Min("clock_started_at"), newest=Max("clock_started_at")
                )
            )
            RegistrationMatch.objects.filter(retained_id__in=ids).delete()
            batch._raw_delete(batch.db)
            for row in groups:
                context.count(
                    row["rule"], _label(row["source"]), Method.DELETED, row["n"], row["oldest"], row["newest"]
                )
        if context.on_batch is not None:
            context.on_batch(disposal.key, len(ids))


def _label(source: str) -> str:
    return f"{RetainedRecord._meta.label}:{source}"


def dispose_withdrawn_members(disposal, context: Context) -> None:
    """A withdrawn member with nothing left in separate storage: their data key is destroyed
    (every copy of their encrypted values, backups included once the master key is retired,
    becomes unreadable) and the emptied account row is deleted once no kept record (a usage
    log row still in its six months) points to it."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    withdrawn = (
        User._base_manager.filter(withdrawn_at__isnull=False)
        .exclude(pk__in=RetainedRecord.objects.values("subject_id"))
        .exclude(pk__in=list(context.held))
    )
    rule = Retention.WITHDRAWN_MEMBER_5Y.code
    for user_id, withdrawn_at in withdrawn.values_list("pk", "withdrawn_at").iterator():
        if _live_encrypted_rows(user_id):
            continue  # an order still waiting for its refund: accounting must read it
        if context.dry_run:
            if not datakeys.is_destroyed(user_id):
                context.count(rule, "privacy.DataKey", Method.KEY_DESTROYED, 1, withdrawn_at, withdrawn_at)
            if not _still_referenced(User, user_id):
                context.count(rule, User._meta.label, Method.DELETED, 1, withdrawn_at, withdrawn_at)
            continue
        with transaction.atomic():
            user = User._base_manager.select_for_update().filter(pk=user_id, withdrawn_at__isnull=False).first()
            if user is None:
                continue
            if not datakeys.is_destroyed(user_id) and datakeys.shred(user_id):
                context.count(rule, "privacy.DataKey", Method.KEY_DESTROYED, 1, withdrawn_at, withdrawn_at)
            if not _still_referenced(User, user_id):
                User._base_manager.filter(pk=user_id).delete()
                context.count(rule, User._meta.label, Method.DELETED, 1, withdrawn_at, withdrawn_at)
        if context.on_batch is not None:
            context.on_batch(disposal.key, 1)


def _live_encrypted_rows(user_id) -> bool:
    # A withdrawn member's order stays live only while a refund is still to pay (it then moves
    # to separate storage): its values are encrypted under the member's key, which waits for it.
    from kirakira.orders.models import Order

    return Order._base_manager.filter(member_id=user_id).exists()


def _still_referenced(User, user_id) -> bool:
    for relation in _relations(User):
        if relation.related_model._base_manager.filter(**{relation.field.name: user_id}).exists():
            return True
    return False


def _relations(User):
    """The relations that keep an account row: every visible one, and the hidden ones
    (``related_name="+"``) that would refuse its deletion (the registers' PROTECT links)."""
    for relation in User._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete or relation.many_to_many:
            continue
        if relation.related_model is User:
            continue
        if relation.hidden and relation.on_delete not in (models.PROTECT, models.RESTRICT):
            continue
        yield relation
