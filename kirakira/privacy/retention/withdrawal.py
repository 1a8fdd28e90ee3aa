"""Withdrawal (退会): a member ends their membership.

At once: the account cannot log in and every session and token ends; open orders are
cancelled (a refund of what was paid follows the usual flow and is still paid); what nothing
requires any more is deleted; what a rule keeps moves to separate storage, out of every list,
search and API; the account row stays, emptied, while records kept under their own rules (the
usage log's six months, an order whose refund is still to pay) point to it. The email address
is free at once for a new registration.

Under a legal hold the member is withdrawn all the same, but nothing is deleted: the records
move to separate storage whole.
"""

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from kirakira.common import clock
from kirakira.privacy.catalog.vocabulary import Retention
from kirakira.privacy.rights.services import requests_close_on_withdrawal

from . import journal, storage
from .ledger import Context, Method
from .models import DisposalRun, LegalHold
from .tasks import enqueue_withdrawal_notice


@dataclass(frozen=True)
class Withdrawal:
    cancelled_orders: int
    refunds_due_yen: int  # still to be paid to the member, after the withdrawal
    moved: int


def refund_needed(user) -> int:
    """What cancelling the member's open orders would refund (a refund account is then needed)."""
    from kirakira.orders.lifecycle import CANCELLABLE, cancellation_refund
    from kirakira.orders.models import Order

    return sum(cancellation_refund(order) for order in Order.objects.filter(member=user, status__in=CANCELLABLE))


def member_withdraw(*, user, checked_hash: str, refund_account=None, now=None) -> Withdrawal:
    """Withdraw ``user``, whose password was just checked (``checked_hash``: the hash it matched,
    so that a password changed meanwhile refuses). Raises ``ValidationError`` (code
    ``already_withdrawn``, ``stale``, ``staff``, or field errors of the refund account); on any
    error nothing changes."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    now = now or clock.now()
    with transaction.atomic():
        locked = User._base_manager.select_for_update().filter(pk=user.pk).first()
        if locked is None or locked.withdrawn_at is not None:
            raise ValidationError(_("This membership has already been withdrawn."), code="already_withdrawn")
        if not locked.is_active or locked.password != checked_hash:
            raise ValidationError(
                _("Your account changed while you were withdrawing. Please start again."), code="stale"
            )
        if locked.is_staff:
            raise ValidationError(
                _("Staff accounts are closed by the administrator, not withdrawn."), code="staff"
            )
        if refund_needed(locked) > 0 and not refund_account:
            raise ValidationError(
                {
                    "refund_account": [
                        _("You have paid for an order that withdrawing cancels: tell us where to refund it.")
                    ]
                }
            )
        return _withdraw(locked, now=now, refund_account=refund_account)


def _withdraw(locked, *, now, refund_account, replay: bool = False) -> Withdrawal:
    """Withdraw the locked member (in the caller's transaction). A replay (after a restore) tells
    nobody again: the member had their notice when they withdrew."""
    from kirakira.accounts.services import member_logins_end
    from kirakira.orders.lifecycle import CANCELLABLE, cancellation_refund, order_cancel
    from kirakira.orders.models import Order, Refund, RefundStatus

    with override(locked.language):
        reason = _("Cancelled by withdrawal from membership.")
    cancelled = 0
    for order in Order.objects.select_for_update().filter(member=locked, status__in=CANCELLABLE):
        account = refund_account if cancellation_refund(order) > 0 else None
        order_cancel(order_id=order.pk, member=locked, reason=reason, refund_account=account)
        cancelled += 1
    requests_close_on_withdrawal(locked, now)

    held = LegalHold.objects.active(now).filter(subject_id=locked.pk).exists()
    trigger = DisposalRun.Trigger.RESTORE if replay else DisposalRun.Trigger.WITHDRAWAL
    run = DisposalRun.objects.create(trigger=trigger, started_at=now)
    context = Context(now=now, held=frozenset([locked.pk]) if held else frozenset(), run=run)
    moved = _move_consultations(locked, context)
    for order in Order.objects.filter(member=locked).exclude(refunds__status=RefundStatus.DUE):
        moved += _move_order(order, context)
    moved += _move_membership(locked, context, notify=not replay)
    _dispose_logins(locked, context, member_logins_end)
    DisposalRun.objects.filter(pk=run.pk).update(status=DisposalRun.Status.FINISHED, finished_at=clock.now())
    due = sum(Refund.objects.filter(member=locked, status=RefundStatus.DUE).values_list("amount_yen", flat=True))
    if not replay:
        journal.append_on_commit(journal.MEMBER_WITHDRAWN, subject_id=locked.pk, at=now)
    return Withdrawal(cancelled_orders=cancelled, refunds_due_yen=due, moved=moved)


def withdrawal_replay(*, subject_id, at) -> bool:
    """Withdraw again a member who withdrew after the backup a restore came from. Open orders
    are cancelled without a refund account (the one the member gave is not in the backup: a
    refund due shows on the cancellation for staff to settle). False if there is nothing to do."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    with transaction.atomic():
        locked = User._base_manager.select_for_update().filter(pk=subject_id).first()
        if locked is None or locked.withdrawn_at is not None:
            return False
        _withdraw(locked, now=at, refund_account=None, replay=True)
    return True


def _move_consultations(user, context: Context) -> int:
    from kirakira.consultations.models import Consultation, Status

    moved = 0
    for consultation in Consultation.objects.filter(member=user).prefetch_related("messages__attachments"):
        if consultation.status != Status.CLOSED:
            consultation.status = Status.CLOSED
            consultation.closed_at = context.now
        rule = (
            Retention.COMPLAINT_RECORD_5Y if consultation.category == "complaint" else Retention.CONSULTATION_ANSWERED_1Y
        )
        data = storage.snapshot(consultation)
        data["messages"] = [
            {
                **storage.snapshot(message),
                "attachments": [storage.snapshot(a) for a in message.attachments.all()],
            }
            for message in consultation.messages.all()
        ]
        storage.move(
            subject_id=user.pk,
            source=Consultation._meta.label,
            source_id=consultation.pk,
            rule=rule,
            started_at=consultation.closed_at,
            data=data,
            now=context.now,
        )
        _total, per_model = Consultation._base_manager.filter(pk=consultation.pk).delete()
        for label, count in per_model.items():
            context.count(rule.code, label, Method.MOVED, count, consultation.closed_at, consultation.closed_at)
        moved += 1
    return moved


def _move_order(order, context: Context) -> int:
    from kirakira.orders import retention as order_retention

    end = order_retention.contract_end_of(order.pk) or context.now
    storage.move(
        subject_id=order.member_id,
        source=order._meta.label,
        source_id=order.pk,
        rule=Retention.CONTRACT_RECORD_5Y,
        started_at=end,
        data=order_retention.order_snapshot(order),
        now=context.now,
    )
    for label, count in order_retention.orders_delete([order.pk]).items():
        context.count(Retention.CONTRACT_RECORD_5Y.code, label, Method.MOVED, count, end, end)
    return 1


def _move_membership(user, context: Context, *, notify: bool = True) -> int:
    from kirakira.legal.models import TermsAgreement
    from kirakira.privacy.models import PolicyAcknowledgement

    data = storage.snapshot(user, exclude=("password", "pending_email", "email_index"))
    acknowledgements = PolicyAcknowledgement.objects.filter(member=user)
    data["policy_acknowledgements"] = [storage.snapshot(a) for a in acknowledgements]
    agreements = TermsAgreement.objects.filter(member=user)
    data["terms_agreements"] = [storage.snapshot(a) for a in agreements]
    rule = Retention.WITHDRAWN_MEMBER_5Y
    record = storage.move(
        subject_id=user.pk,
        source=user._meta.label,
        source_id=user.pk,
        rule=rule,
        started_at=context.now,
        data=data,
        now=context.now,
        fraud_email=user.email,
    )
    if notify:
        enqueue_withdrawal_notice(record)
    for moved in (acknowledgements, agreements):
        _total, per_model = moved.delete()
        for label, count in per_model.items():
            context.count(rule.code, label, Method.MOVED, count)
    context.count(rule.code, user._meta.label, Method.MOVED, 1)

    user.login_id = f"withdrawn-{secrets.token_hex(6)}"
    user.name = ""
    user.email = ""
    user.pending_email = ""
    user.set_unusable_password()
    user.is_active = False
    user.withdrawn_at = context.now
    user.save(
        update_fields=[
            "login_id",
            "name",
            "email",
            "email_index",
            "pending_email",
            "password",
            "is_active",
            "withdrawn_at",
        ]
    )
    return 1


def _dispose_logins(user, context: Context, member_logins_end) -> None:
    """Sessions and tokens end (the member cannot log in); the security records that only
    served the account (its familiar login addresses, its order keys) go, unless held."""
    from knox.models import AuthToken

    from kirakira.accounts.models import BrowserSession, KnownLoginAddress
    from kirakira.orders.models import IdempotencyKey

    code = Retention.UNTIL_PURPOSE_MET.code
    sessions = BrowserSession.objects.filter(user=user).count()
    tokens = AuthToken.objects.filter(user=user).count()
    member_logins_end(user=user)
    context.count(code, BrowserSession._meta.label, Method.DELETED, sessions)
    context.count(code, AuthToken._meta.label, Method.DELETED, tokens)
    if context.held:
        return
    for queryset in (
        KnownLoginAddress.objects.filter(user=user),
        IdempotencyKey.objects.filter(member=user),
    ):
        _total, per_model = queryset.delete()
        for label, count in per_model.items():
            context.count(code, label, Method.DELETED, count)


def move_settled(context: Context) -> None:
    """Orders of withdrawn members that stayed live for a refund still to pay, and whose
    refund has since been paid, move to separate storage (the sweep calls this first)."""
    from kirakira.orders.models import Order, RefundStatus

    settled = Order.objects.filter(member__withdrawn_at__isnull=False).exclude(refunds__status=RefundStatus.DUE)
    for order_id in settled.values_list("pk", flat=True):
        with transaction.atomic():
            order = Order.objects.select_for_update().filter(pk=order_id).first()
            if order is None or order.refunds.filter(status=RefundStatus.DUE).exists():
                continue
            _move_order(order, context)
