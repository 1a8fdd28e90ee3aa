"""Payments and the order's status lifecycle (policy C2).

    awaiting_payment ──(payments reach the price)──▶ paid ──(start)──▶ in_progress ──(complete)──▶ completed
          │                       ▲  (a reversal brings it back)         │
          └──(cancel: no refund)──┴─────────────── cancel: refund due ───┘──▶ cancelled

Cancelling from paid or in progress makes a refund of everything paid due; accounting pays it
and marks it paid. Every change locks the order row first (``select_for_update``; on SQLite the IMMEDIATE
transaction does the same), re-reads its state and checks the transition, so two staff acting
at once cannot both succeed. Each step writes an ``OrderEvent`` the member sees and queues the
member's email, in the same transaction.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kirakira.common import clock
from kirakira.common.text import clean_text

from .models import (
    NOTE_MAX,
    Cancellation,
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    Refund,
    RefundKind,
    RefundStatus,
)
from .normalization import clean_refund_account
from .tasks import enqueue_order_email

PAYER_NAME_MAX = 100
AMOUNT_MAX = 100_000_000  # one hundred million yen: far above any order, far below the column's limit
EARLIEST_RECEIPT_DAYS = 400  # a transfer older than this is a typing mistake, not a late booking


def _locked(order_id) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise ValidationError(_("This order does not exist."), code="not_found")
    return order


def _record_event(order: Order, kind: str, amount_yen: int | None = None) -> OrderEvent:
    event = OrderEvent.objects.create(order=order, kind=kind, status=order.status, amount_yen=amount_yen)
    enqueue_order_email(order, f"event:{event.pk}")  # in the step's transaction, with the event
    return event


def _set_status(order: Order, status: str, kind: str, amount_yen: int | None = None) -> None:
    order.status = status
    order.updated_at = clock.now()
    order.save(update_fields=["status", "updated_at"])
    _record_event(order, kind, amount_yen)


def paid_total(order: Order) -> int:
    return Payment.objects.filter(order=order).aggregate(total=Sum("amount_yen"))["total"] or 0


def refunded_total(order: Order) -> int:
    """Everything already set aside for refund on this order (due or paid)."""
    return Refund.objects.filter(order=order).aggregate(total=Sum("amount_yen"))["total"] or 0


def excess_due(order: Order, *, paid: int | None = None, refunded: int | None = None) -> int:
    """What the member paid beyond the price and has not yet been set aside for refund
    (``paid`` and ``refunded``: the totals, when the caller has them already)."""
    paid = paid_total(order) if paid is None else paid
    refunded = refunded_total(order) if refunded is None else refunded
    if order.status == OrderStatus.CANCELLED:
        # Nothing is owed on a cancelled order: a transfer arriving after the cancellation (an
        # order cancelled for want of payment, paid late) is refunded whole.
        return max(paid - refunded, 0)
    return max(paid - order.price_yen - refunded, 0)


def cancellation_refund(order: Order, *, paid: int | None = None, refunded: int | None = None) -> int:
    """What cancelling the order now would refund: everything paid, less what an earlier
    overpayment refund already returns."""
    paid = paid_total(order) if paid is None else paid
    refunded = refunded_total(order) if refunded is None else refunded
    return max(paid - refunded, 0)


def _require(actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(_("Your role may not do this."))


def _check_amount(amount) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError({"amount_yen": [_("Give the amount as a whole number of yen.")]})
    if amount <= 0:
        raise ValidationError({"amount_yen": [_("A received amount must be at least 1 yen.")]})
    if amount > AMOUNT_MAX:
        raise ValidationError(
            {
                "amount_yen": [
                    _("An amount over %(max)s yen is surely a typing mistake; check it.")
                    % {"max": f"{AMOUNT_MAX:,}"}
                ]
            }
        )
    return amount


def _check_received_on(received_on) -> datetime.date:
    if not isinstance(received_on, datetime.date) or isinstance(received_on, datetime.datetime):
        raise ValidationError({"received_on": [_("Give the date the transfer was received.")]})
    today = timezone.localdate(clock.now())
    if received_on > today:
        raise ValidationError({"received_on": [_("The date cannot be in the future.")]})
    if received_on < today - datetime.timedelta(days=EARLIEST_RECEIPT_DAYS):
        raise ValidationError({"received_on": [_("The date is too far in the past; check it.")]})
    return received_on


def _check_payer_name(payer_name) -> str:
    payer_name = payer_name.strip() if isinstance(payer_name, str) else ""
    if not payer_name:
        raise ValidationError({"payer_name": [_("Give the payer's name as it appears on the statement.")]})
    try:
        payer_name = clean_text(payer_name, multiline=False)
    except ValidationError as exc:
        raise ValidationError({"payer_name": exc.error_list}) from None
    if len(payer_name) > PAYER_NAME_MAX:
        raise ValidationError(
            {
                "payer_name": [
                    _("The payer's name is at most %(max)d characters long.") % {"max": PAYER_NAME_MAX}
                ]
            }
        )
    return payer_name


def _settle(order: Order, total_before: int) -> None:
    """Move the order between awaiting payment and paid as its payments now add up, and note
    any payment that takes the total past the price (the excess must be refunded)."""
    total = paid_total(order)
    if order.status == OrderStatus.CANCELLED:
        if total > total_before:
            _record_event(order, OrderEvent.Kind.PAID_AFTER_CANCELLATION, total - total_before)
        return
    if order.status == OrderStatus.AWAITING_PAYMENT and total >= order.price_yen:
        _set_status(order, OrderStatus.PAID, OrderEvent.Kind.PAID, total)
    elif order.status == OrderStatus.PAID and total < order.price_yen:
        # Only a reversal lowers the total, and it writes its own event (with the new status).
        order.status = OrderStatus.AWAITING_PAYMENT
        order.updated_at = clock.now()
        order.save(update_fields=["status", "updated_at"])
    if total > order.price_yen and total > max(total_before, order.price_yen):
        _record_event(order, OrderEvent.Kind.OVERPAID, total - order.price_yen)


def clean_payment_input(amount_yen, received_on, payer_name) -> tuple[int, datetime.date, str]:
    """Check a payment's fields together; raises ``ValidationError`` with every field's errors."""
    errors: dict[str, list[str]] = {}
    cleaned = []
    for check, value in (
        (_check_amount, amount_yen),
        (_check_received_on, received_on),
        (_check_payer_name, payer_name),
    ):
        try:
            cleaned.append(check(value))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return tuple(cleaned)


def payment_record(*, order_id, amount_yen, received_on, payer_name: str, actor) -> Payment:
    """Accounting records a transfer received for an order."""
    _require(actor, "orders.record_payment")
    amount_yen, received_on, payer_name = clean_payment_input(amount_yen, received_on, payer_name)
    with transaction.atomic():
        order = _locked(order_id)
        total_before = paid_total(order)
        payment = Payment.objects.create(
            order=order,
            member_id=order.member_id,
            amount_yen=amount_yen,
            received_on=received_on,
            payer_name=payer_name,
            recorded_by=actor,
        )
        _record_event(order, OrderEvent.Kind.PAYMENT_RECORDED, amount_yen)
        _settle(order, total_before)
    return payment


def payment_reverse(*, payment_id, actor) -> Payment:
    """Correct a wrongly recorded payment with a reversing record (the original stays)."""
    _require(actor, "orders.record_payment")
    with transaction.atomic():
        original = (
            Payment.objects.select_related("order").filter(pk=payment_id, reverses__isnull=True).first()
        )
        if original is None:
            raise ValidationError(_("Only a recorded payment can be reversed."), code="not_reversible")
        order = _locked(original.order_id)
        total_before = paid_total(order)
        if Payment.objects.filter(reverses=original).exists():
            raise ValidationError(_("This payment has already been reversed."), code="already_reversed")
        reversal = Payment.objects.create(
            order=order,
            member_id=order.member_id,
            amount_yen=-original.amount_yen,
            received_on=original.received_on,
            payer_name=original.payer_name,
            reverses=original,
            recorded_by=actor,
        )
        _settle(order, total_before)
        _record_event(order, OrderEvent.Kind.PAYMENT_REVERSED, original.amount_yen)
    return reversal


_WORK_STEPS = {
    "start": (OrderStatus.PAID, OrderStatus.IN_PROGRESS, OrderEvent.Kind.STARTED),
    "complete": (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED, OrderEvent.Kind.COMPLETED),
}


def order_advance(*, order_id, step: str, actor, delivery_note: str = "") -> Order:
    """Customer service starts or completes the work of an order. Completing it records what was
    delivered (``delivery_note``: checked by ``progress.clean_delivery_note``; the back office's
    form requires one), which the member sees on the order page, in the email and the API."""
    from .progress import clean_delivery_note

    _require(actor, "orders.work_on_order")
    source, target, kind = _WORK_STEPS[step]
    delivery_note = clean_delivery_note(delivery_note) if step == "complete" else ""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status != source:
            raise ValidationError(
                _("This order is %(status)s; it cannot move to %(target)s.")
                % {"status": order.get_status_display(), "target": OrderStatus(target).label},
                code="invalid_transition",
            )
        if delivery_note:
            order.delivery_note = delivery_note
            order.save(update_fields=["delivery_note"])
        _set_status(order, target, kind)
    return order


CANCELLABLE = (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.IN_PROGRESS)


def _cancel_reason(reason) -> tuple[str, dict[str, list]]:
    """The reason for a cancellation, cleaned, and its errors (by field) if it is not usable."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        return reason, {"reason": [_("Tell us why you are cancelling.")]}
    try:
        reason = clean_text(reason, multiline=True)
    except ValidationError as exc:
        return reason, {"reason": exc.messages}
    if len(reason) > NOTE_MAX:
        return reason, {"reason": [_("The reason is at most %(max)d characters long.") % {"max": NOTE_MAX}]}
    return reason, {}


def order_cancel(*, order_id, member, reason: str, refund_account=None) -> Cancellation:
    """The member cancels their order. Nothing paid: no refund. Money paid: a refund of all of
    it is due, to the bank account the member gives (checked and stored encrypted)."""
    reason, errors = _cancel_reason(reason)
    with transaction.atomic():
        order = _locked(order_id)
        if order.member_id != member.pk:
            raise ValidationError(_("This order does not exist."), code="not_found")
        if order.status not in CANCELLABLE:
            raise ValidationError(
                _("This order is %(status)s and can no longer be cancelled.")
                % {"status": order.get_status_display()},
                code="not_cancellable",
            )
        due = cancellation_refund(order)
        account = None
        if due > 0:
            # Checked even when the reason is wrong: the member sees every error at once.
            try:
                account = clean_refund_account(refund_account)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        cancellation = Cancellation.objects.create(
            order=order,
            member_id=order.member_id,
            reason=reason,
            status_before=order.status,
            refund_due_yen=due,
        )
        if account is not None:
            Refund.objects.create(
                order=order,
                member_id=order.member_id,
                kind=RefundKind.CANCELLATION,
                amount_yen=due,
                **account,
            )
        _set_status(order, OrderStatus.CANCELLED, OrderEvent.Kind.CANCELLED, due or None)
    return cancellation


def refund_mark_paid(*, refund_id, paid_on, amount_yen, actor) -> Refund:
    """Accounting records that a refund was transferred (the full amount due)."""
    _require(actor, "orders.record_payment")
    # Every field's error at once: a date in the future must not hide a wrong amount.
    errors: dict[str, list[str]] = {}
    for check, value in ((_check_amount, amount_yen), (_check_received_on, paid_on)):
        try:
            check(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
        if refund is None:
            raise ValidationError(_("This refund does not exist."), code="not_found")
        if refund.status != RefundStatus.DUE:
            raise ValidationError(_("This refund has already been paid."), code="already_paid")
        if "amount_yen" not in errors and amount_yen != refund.amount_yen:
            errors["amount_yen"] = [
                _("The refund due is %(amount)s yen; pay exactly that.") % {"amount": f"{refund.amount_yen:,}"}
            ]
        if errors:
            raise ValidationError(errors)
        refund.status, refund.paid_on, refund.paid_amount_yen, refund.paid_by = (
            RefundStatus.PAID,
            paid_on,
            amount_yen,
            actor,
        )
        refund.save(update_fields=["status", "paid_on", "paid_amount_yen", "paid_by"])
        order = _locked(refund.order_id)
        _record_event(order, OrderEvent.Kind.REFUND_PAID, refund.amount_yen)
    return refund


def overpayment_refund_request(*, order_id, member, refund_account) -> Refund:
    """The member says where to refund what they paid beyond the price."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.member_id != member.pk:
            raise ValidationError(_("This order does not exist."), code="not_found")
        due = excess_due(order)
        if due <= 0:
            raise ValidationError(
                _("Nothing paid on this order is waiting to be refunded."), code="nothing_due"
            )
        account = clean_refund_account(refund_account)
        refund = Refund.objects.create(
            order=order, member_id=order.member_id, kind=RefundKind.OVERPAYMENT, amount_yen=due, **account
        )
        _record_event(order, OrderEvent.Kind.REFUND_REQUESTED, refund.amount_yen)
    return refund
