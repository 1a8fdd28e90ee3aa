"""Background work of the orders app. Arguments carry only IDs and codes
(:mod:`kirakira.common.tasks` enforces it)."""

from typing import Literal

from kirakira.common.tasks import task
from kirakira.privacy.crypto.fields import is_destroyed

from . import emails
from .models import Order, OrderEvent

OrderEmail = Literal["order_placed"]

_SENDERS = {"order_placed": emails.send_order_placed}


def _recipient_order(order_id: str) -> Order | None:
    """The order, if its member can still be written to."""
    order = Order.objects.select_related("member", "service").filter(pk=order_id).first()
    if order is None or not order.member.is_active or is_destroyed(order.member.email):
        return None
    return order


@task()
def send_order_email(*, order_id: str, kind: OrderEmail) -> None:
    order = _recipient_order(order_id)
    if order is not None:
        _SENDERS[kind](order)


@task()
def send_order_event_email(*, order_id: str, event_id: int) -> None:
    """Tell the member about a step of the order's life (the steps in ``EMAILED_EVENTS``)."""
    order = _recipient_order(order_id)
    if order is None:
        return
    event = OrderEvent.objects.filter(pk=event_id, order=order).first()
    if event is not None and event.kind in emails.EMAILED_EVENTS:
        emails.send_order_event(order, event)


def enqueue_order_email(order, kind: str) -> None:
    """``kind`` is "order_placed" or "event:<OrderEvent id>" (a step of the order's life)."""
    if kind.startswith("event:"):
        send_order_event_email.enqueue(order_id=str(order.pk), event_id=int(kind.removeprefix("event:")))
    elif kind in _SENDERS:
        send_order_email.enqueue(order_id=str(order.pk), kind=kind)
    else:
        raise ValueError(f"unknown order email {kind!r}")
