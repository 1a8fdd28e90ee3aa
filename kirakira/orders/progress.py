"""Progress of the work: when an order should be completed, and what was delivered.

The estimate counts business days, Monday to Friday: work starts within
``SERVICE_START_BUSINESS_DAYS`` of the confirmed transfer (as the commerce disclosure says) and
takes the service's ``work_days``. Japanese public holidays are not skipped: no maintained
holiday library is installed, and a hand-written table would go stale, so every text says
"business days (Mon–Fri)" and "about".

- awaiting payment: about START + WORK business days after the transfer arrives (no date yet);
- paid: the day the order became paid + START + WORK business days;
- in progress: the day the work started + WORK business days;
- completed or cancelled: no estimate; a completed order shows what was delivered.

The delivery note is what the staff write when they complete the work (a note, result links):
personal data about the member's order, encrypted like the order's note, shown to the member on
the order page, in the completion email's body (never its subject) and in the API.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kirakira.common.text import clean_text

from .models import DELIVERY_NOTE_MAX, OrderEvent, OrderStatus

SATURDAY = 5


def add_business_days(day: datetime.date, count: int) -> datetime.date:
    """The ``count``-th weekday after ``day`` (Saturdays and Sundays skipped; ``day`` itself not
    counted). A day on a weekend counts from the Monday after it."""
    while count > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < SATURDAY:
            count -= 1
    return day


@dataclass(frozen=True)
class Estimate:
    """``on``: the estimated day of completion, once there is one; ``business_days``: before
    payment, how many business days after the transfer arrives; ``started_on``: when the work
    started; ``completed_on``: when it was completed."""

    on: datetime.date | None = None
    business_days: int | None = None
    started_on: datetime.date | None = None
    completed_on: datetime.date | None = None


def _day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment is not None else None


def estimate(order, *, paid_at=None, started_at=None, completed_at=None) -> Estimate:
    """The order's estimate from its status, its service and the times it became paid, started
    and completed (the latest event of each kind: ``step_times`` or the selectors' annotations)."""
    work_days = order.service.work_days
    if order.status == OrderStatus.AWAITING_PAYMENT:
        return Estimate(business_days=settings.SERVICE_START_BUSINESS_DAYS + work_days)
    if order.status == OrderStatus.PAID and paid_at is not None:
        return Estimate(on=add_business_days(_day(paid_at), settings.SERVICE_START_BUSINESS_DAYS + work_days))
    if order.status == OrderStatus.IN_PROGRESS and started_at is not None:
        return Estimate(on=add_business_days(_day(started_at), work_days), started_on=_day(started_at))
    if order.status == OrderStatus.COMPLETED:
        return Estimate(started_on=_day(started_at), completed_on=_day(completed_at))
    return Estimate()


STEP_KINDS = {
    "paid_at": OrderEvent.Kind.PAID,
    "started_at": OrderEvent.Kind.STARTED,
    "completed_at": OrderEvent.Kind.COMPLETED,
}


def step_times(events) -> dict[str, datetime.datetime | None]:
    """{paid_at, started_at, completed_at} from an order's events (already read, oldest first)."""
    times = dict.fromkeys(STEP_KINDS)
    for event in events:
        for name, kind in STEP_KINDS.items():
            if event.kind == kind:
                times[name] = event.occurred_at
    return times


def clean_delivery_note(value) -> str:
    """What the staff delivered, checked like every free text: several lines allowed, no control
    or invisible characters, at most ``DELIVERY_NOTE_MAX`` characters. Raises ``ValidationError``
    (under ``delivery_note``) with a message in the active language."""
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        return ""
    try:
        value = clean_text(value, multiline=True)
    except ValidationError as exc:
        raise ValidationError({"delivery_note": exc.messages}) from None
    if len(value) > DELIVERY_NOTE_MAX:
        raise ValidationError(
            {
                "delivery_note": [
                    _("What was delivered is at most %(max)d characters long.") % {"max": DELIVERY_NOTE_MAX}
                ]
            }
        )
    return value
