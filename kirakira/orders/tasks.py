"""Background work of the orders app. Arguments carry only IDs."""

from django_tasks import task

from kirakira.privacy.crypto.fields import is_destroyed

from . import emails
from .models import Order

_SENDERS = {"order_placed": emails.send_order_placed}


@task()
def send_order_email(*, order_id: str, kind: str) -> None:
    order = Order.objects.select_related("member", "service").filter(pk=order_id).first()
    if order is None or not order.member.is_active or is_destroyed(order.member.email):
        return
    _SENDERS[kind](order)


def enqueue_order_email(order, kind: str) -> None:
    if kind not in _SENDERS:
        raise ValueError(f"unknown order email {kind!r}")
    send_order_email.enqueue(order_id=str(order.pk), kind=kind)
