"""The payment deadline (振込期限): each order's transfer is due by the end of the
``ORDER_PAYMENT_DAYS``-th day after the day it was placed, Japan time. The schedule
(``schedule.jobs``, hourly) mails a reminder ``PAYMENT_REMINDER_DAYS`` before, and cancels an order
still awaiting its transfer once the deadline has passed, with a mail. A transfer that arrives
after that is refunded (``lifecycle._settle``).

An order partly paid at its deadline is left to the staff: cancelling it would owe a refund to an
account the member has not given.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kirakira.common import clock

from .models import Cancellation, Order, OrderEvent, OrderStatus, Payment

logger = logging.getLogger(__name__)


def payment_due_for(ordered_at: datetime.datetime) -> datetime.datetime:
    """The end (23:59:59) of the ``ORDER_PAYMENT_DAYS``-th day after the local day of ordering."""
    day = timezone.localdate(ordered_at) + datetime.timedelta(days=settings.ORDER_PAYMENT_DAYS)
    end = datetime.datetime.combine(day, datetime.time(23, 59, 59))
    return timezone.make_aware(end, timezone.get_current_timezone())


def remind_due_soon() -> int:
    """Mail a reminder for each unpaid order due within ``PAYMENT_REMINDER_DAYS`` (once each)."""
    from .lifecycle import _record_event

    now = clock.now()
    soon = now + datetime.timedelta(days=settings.PAYMENT_REMINDER_DAYS)
    candidates = Order.objects.filter(
        status=OrderStatus.AWAITING_PAYMENT,
        payment_reminded_at__isnull=True,
        payment_due_at__gt=now,
        payment_due_at__lte=soon,
    ).values_list("pk", flat=True)
    reminded = 0
    for order_id in list(candidates):
        with transaction.atomic():
            order = Order.objects.select_for_update().filter(pk=order_id).first()
            if (
                order is None
                or order.status != OrderStatus.AWAITING_PAYMENT
                or order.payment_reminded_at is not None
            ):
                continue  # paid, cancelled or reminded meanwhile
            order.payment_reminded_at = now
            order.save(update_fields=["payment_reminded_at"])
            _record_event(order, OrderEvent.Kind.PAYMENT_DUE_SOON, order.price_yen)
            reminded += 1
    return reminded


def cancel_overdue() -> int:
    """Cancel each order still awaiting its whole transfer after its deadline, with a mail."""
    from .lifecycle import _set_status

    now = clock.now()
    candidates = Order.objects.filter(
        status=OrderStatus.AWAITING_PAYMENT, payment_due_at__lt=now
    ).values_list("pk", flat=True)
    cancelled = 0
    for order_id in list(candidates):
        with transaction.atomic():
            order = Order.objects.select_for_update().select_related("member").filter(pk=order_id).first()
            if order is None or order.status != OrderStatus.AWAITING_PAYMENT or order.payment_due_at >= now:
                continue
            paid = Payment.objects.filter(order=order).aggregate(total=Sum("amount_yen"))["total"] or 0
            if paid > 0:
                logger.info("Order %s is partly paid at its deadline: left to the staff", order.pk)
                continue
            with translation.override(order.member.language or settings.LANGUAGE_CODE):
                reason = _("Cancelled automatically: the transfer did not arrive by the payment deadline.")
            Cancellation.objects.create(
                order=order,
                member_id=order.member_id,
                reason=reason,
                status_before=order.status,
                refund_due_yen=0,
            )
            _set_status(order, OrderStatus.CANCELLED, OrderEvent.Kind.CANCELLED_UNPAID)
            cancelled += 1
    return cancelled


def run() -> dict[str, int]:
    """The schedule's job: reminders first, then cancellations."""
    return {"reminded": remind_due_soon(), "cancelled": cancel_overdue()}
