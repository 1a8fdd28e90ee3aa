"""Writes on orders. Pages and API views call these; nothing else creates or changes an Order."""

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kirakira.accounts.models import User
from kirakira.common import clock
from kirakira.common.validation import collect
from kirakira.legal.services import terms_pending

from . import normalization
from .deadlines import payment_due_for
from .models import Order, OrderEvent, OrderStatus, Refund, RefundStatus, Service
from .tasks import enqueue_order_email

# Crockford's base32 without the letters people confuse (I, L, O, U): read over the phone and
# typed into a bank transfer's name field without mistakes.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 8


def new_reference() -> str:
    return "K" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH - 1))


def order_place(
    *,
    member: User,
    service: Service,
    platform: str,
    sns_account_id: str,
    photo_links,
    note: str = "",
    phone: str,
) -> Order:
    """Place an order for a confirmed member; its confirmation email is queued with it.

    Raises ``ValidationError`` with field errors; on any error nothing is stored.
    """
    if not member.can_order:
        raise ValidationError(
            _("Please confirm your email address before ordering: open the link we sent you."),
            code="unconfirmed",
        )
    if terms_pending(member):
        # An order is a contract under the terms in force: a member agrees to them first.
        raise ValidationError(
            _("The terms of service have changed: please read the new version and agree to it before ordering."),
            code="terms_not_accepted",
        )
    if not service.is_active:
        raise ValidationError({"service": [_("This service is not on sale.")]})
    errors: dict[str, list[str]] = {}
    chosen = (
        service.platforms.filter(code=platform, is_active=True).first() if isinstance(platform, str) else None
    )
    if chosen is None:
        errors["platform"] = [_("Choose one of the SNS platforms this service is for.")]
    else:
        sns_account_id = collect(
            errors, "sns_account_id", normalization.clean_account_id, sns_account_id, chosen
        )
    photo_links = collect(
        errors, "photo_links", normalization.clean_photo_links, photo_links, service.photo_link_count
    )
    phone = collect(errors, "phone", normalization.clean_phone, phone)
    note = collect(errors, "note", normalization.clean_note, note)
    if errors:
        raise ValidationError(errors)

    for _attempt in range(5):
        reference = new_reference()
        if Order.objects.filter(reference=reference).exists():
            continue  # drawn before (one in 34 billion); draw another
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    reference=reference,
                    member=member,
                    service=service,
                    price_yen=service.price_yen,
                    platform=chosen,
                    sns_account_id=sns_account_id,
                    photo_links=photo_links,
                    note=note,
                    phone=phone,
                    payment_due_at=payment_due_for(clock.now()),
                )
                # The order, its first event and its email task: all committed, or none.
                OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.PLACED, status=order.status)
                enqueue_order_email(order, "order_placed")
            break
        except IntegrityError:
            if Order.objects.filter(reference=reference).exists():
                continue  # taken by a concurrent order meanwhile
            raise
    else:
        raise ValidationError(_("The order could not be placed. Please try again."))
    return order


# --- What the member changes themselves (policy C7: correction) ---------------------------------
# The phone number of an open order and the bank account of a refund still to be paid are the
# member's to change directly; kirakira.privacy.rights.correction.self_service() sends them here
# rather than to a correction request.
#
# Such a field may still be under correction (freeze.is_frozen), by a request filed before
# correction.clean sent the member here instead. The member's own fix is allowed all the same,
# and the open request is left alone: closing it is staff's decision, as for every request, and
# the field stays frozen until they do.

OPEN = (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.IN_PROGRESS)
_REFUND_ACCOUNT_FIELDS = ("bank_name", "branch", "account_type", "account_number", "account_holder")


def _event(order: Order, kind: str) -> None:
    # As lifecycle records its steps: the event and its email task in the caller's transaction
    # (the task sends only the kinds in emails.EMAILED_EVENTS).
    event = OrderEvent.objects.create(order=order, kind=kind, status=order.status)
    enqueue_order_email(order, f"event:{event.pk}")


def order_phone_change(*, order_id, member: User, phone) -> Order:
    """The member changes the phone number of one of their open orders (awaiting payment, paid
    or in progress), checked as when ordering; its blind index follows. Raises
    ``ValidationError``: by field for a bad number, ``code="not_found"`` for an order that is
    not the member's, ``code="closed"`` once the order is completed or cancelled; nothing is
    changed then. The same number again changes nothing and records nothing."""
    errors: dict[str, list[str]] = {}
    phone = collect(errors, "phone", normalization.clean_phone, phone if isinstance(phone, str) else "")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, member=member).first()
        if order is None:
            raise ValidationError(_("This order does not exist."), code="not_found")
        if order.status not in OPEN:
            raise ValidationError(
                _("This order is %(status)s: its phone number can no longer be changed.")
                % {"status": order.get_status_display()},
                code="closed",
            )
        if order.phone == phone:
            return order
        order.phone = phone
        order.updated_at = clock.now()
        # The index is computed from the new number as the row is saved (BlindIndexField.pre_save).
        order.save(update_fields=["phone", "phone_index", "updated_at"])
        _event(order, OrderEvent.Kind.PHONE_CHANGED)
    return order


def refund_account_change(*, order_id, member: User, refund_account) -> list[Refund]:
    """The member changes the bank account of their order's refunds still to be paid (all of
    them: one account per order), checked as when it was given. Raises ``ValidationError``: by
    field for a bad account, ``code="not_found"`` for an order that is not the member's,
    ``code="nothing_due"`` when no refund of the order is still to be paid (paid meanwhile, or
    none); nothing is changed then. Returns the refunds still to be paid."""
    account = normalization.clean_refund_account(refund_account)
    with transaction.atomic():
        # The refunds before the order, in the order lifecycle.refund_mark_paid locks them: a
        # refund being marked paid now is waited for, and then no longer due.
        refunds = list(
            Refund.objects.select_for_update()
            .filter(order_id=order_id, member=member, status=RefundStatus.DUE)
            .order_by("created_at", "id")
        )
        order = Order.objects.select_for_update().filter(pk=order_id, member=member).first()
        if order is None:
            raise ValidationError(_("This order does not exist."), code="not_found")
        if not refunds:
            raise ValidationError(
                _(
                    "No refund of this order is waiting to be paid, so its bank account can no longer be changed."
                ),
                code="nothing_due",
            )
        changed = [
            refund
            for refund in refunds
            if any(getattr(refund, field) != account[field] for field in _REFUND_ACCOUNT_FIELDS)
        ]
        for refund in changed:
            for field in _REFUND_ACCOUNT_FIELDS:
                setattr(refund, field, account[field])
            refund.save(update_fields=[*_REFUND_ACCOUNT_FIELDS, "account_number_index"])
        if changed:
            _event(order, OrderEvent.Kind.REFUND_ACCOUNT_CHANGED)
    return refunds
