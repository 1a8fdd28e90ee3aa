"""Background work of the orders app. Arguments carry only IDs."""

from django_tasks import task

from kirakira.privacy.crypto.fields import is_destroyed

from . import emails
from .models import Order, OrderEvent

_SENDERS = {"order_placed": emails.send_order_placed}


@task()
def send_order_email(*, order_id: str, kind: str) -> None:
    """``kind`` is "order_placed" or "event:<OrderEvent id>" (a step of the order's life)."""
    order = Order.objects.select_related("member", "service").filter(pk=order_id).first()
    if order is None or not order.member.is_active or is_destroyed(order.member.email):
        return
    if kind.startswith("event:"):
        event = OrderEvent.objects.filter(pk=int(kind.removeprefix("event:")), order=order).first()
        if event is not None and event.kind in emails.EMAILED_EVENTS:
            emails.send_order_event(order, event)
        return
    _SENDERS[kind](order)


def enqueue_order_email(order, kind: str) -> None:
    if kind not in _SENDERS and not kind.startswith("event:"):
        raise ValueError(f"unknown order email {kind!r}")
    send_order_email.enqueue(order_id=str(order.pk), kind=kind)
