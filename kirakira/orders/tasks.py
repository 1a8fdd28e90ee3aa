"""Background work of the orders app. Arguments carry only IDs and codes
(:mod:`kirakira.common.tasks` enforces it). Each email is sent at most once, however often its
task runs (``email_send_once``): one "order placed" per order, one email per event."""

from typing import Literal

from kirakira.common.tasks import email_send_once, enqueue_in_transaction, task
from kirakira.privacy.crypto.fields import is_destroyed
from kirakira.privacy.rights.notices import may_send

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
    if order is not None and may_send(order.member_id, f"orders.{kind}"):
        email_send_once(kind=f"orders.{kind}", ids=(order.pk,), send=lambda: _SENDERS[kind](order))


@task()
def send_order_event_email(*, order_id: str, event_id: int) -> None:
    """Tell the member about a step of the order's life (the steps in ``EMAILED_EVENTS``)."""
    order = _recipient_order(order_id)
    if order is None:
        return
    event = OrderEvent.objects.filter(pk=event_id, order=order).first()
    # A member who stopped notices gets only the steps a law or the contract requires.
    if (
        event is not None
        and event.kind in emails.EMAILED_EVENTS
        and may_send(order.member_id, "orders.order_event", event.kind)
    ):
        email_send_once(
            kind="orders.order_event", ids=(order.pk, event.pk), send=lambda: emails.send_order_event(order, event)
        )


def enqueue_order_email(order, kind: str) -> None:
    """``kind`` is "order_placed" or "event:<OrderEvent id>" (a step of the order's life).
    The task is queued in the caller's transaction (``enqueue_in_transaction``)."""
    if kind.startswith("event:"):
        enqueue_in_transaction(
            send_order_event_email, order_id=str(order.pk), event_id=int(kind.removeprefix("event:"))
        )
    elif kind in _SENDERS:
        enqueue_in_transaction(send_order_email, order_id=str(order.pk), kind=kind)
    else:
        raise ValueError(f"unknown order email {kind!r}")
