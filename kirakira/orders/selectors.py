from django.db.models import IntegerField, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from .models import Cancellation, Order, OrderEvent, Payment, Refund, Service, SnsPlatform
from .progress import STEP_KINDS


def services_on_sale():
    """Active services with their platforms, in display order (two queries however many)."""
    return Service.objects.active().prefetch_related(
        Prefetch("platforms", queryset=SnsPlatform.objects.filter(is_active=True))
    )


def orders_of(member):
    """The member's own orders, newest first, with what a list shows."""
    return Order.objects.filter(member=member).select_related("service", "platform")


def order_rows_of(member):
    """The member's orders as their list shows them, newest first: plain values, no model
    instance and nothing decrypted, since the list shows no personal data."""
    return Order.objects.filter(member=member).values_list(
        "pk",
        "reference",
        "service__name_ja",
        "service__name_en",
        "service__name_ko",
        "price_yen",
        "status",
        "created_at",
    )


def order_of(member, order_id) -> Order:
    """One of the member's own orders; 404 for anyone else's (never a 403, which would confirm
    that the order exists)."""
    order = orders_of(member).filter(pk=order_id).first()
    if order is None:
        raise Http404
    return order


def orders_with_money_of(member):
    """The member's orders with what was paid (``paid_yen``, payments less reversals), the
    cancellation and the refunds: a fixed number of queries however many orders. Only the
    columns shown are read from cancellations and refunds (the reason and the bank account,
    encrypted, stay untouched). The refunds, oldest first, are the list ``refund_list``."""
    paid = (
        Payment.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum("amount_yen"))
        .values("total")
    )
    # When it became paid, started and completed (the latest event of each), for the estimate of
    # its completion (progress.estimate): in the same query.
    steps = {
        name: Subquery(
            OrderEvent.objects.filter(order=OuterRef("pk"), kind=kind)
            .order_by("-occurred_at", "-id")
            .values("occurred_at")[:1]
        )
        for name, kind in STEP_KINDS.items()
    }
    return (
        orders_of(member)
        .annotate(paid_yen=Coalesce(Subquery(paid, output_field=IntegerField()), Value(0)), **steps)
        .prefetch_related(
            Prefetch(
                "cancellation",
                queryset=Cancellation.objects.only(
                    "id", "order_id", "status_before", "refund_due_yen", "cancelled_at"
                ),
            ),
            Prefetch(
                "refunds",
                queryset=Refund.objects.only(
                    "id", "order_id", "kind", "amount_yen", "status", "paid_on", "created_at"
                ),
                to_attr="refund_list",
            ),
        )
    )


def order_with_money_of(member, order_id) -> Order:
    """One of the member's own orders as :func:`orders_with_money_of` has it; 404 otherwise."""
    order = orders_with_money_of(member).filter(pk=order_id).first()
    if order is None:
        raise Http404
    return order


def platforms_of(service: Service):
    """The active platforms a service is for."""
    return SnsPlatform.objects.filter(services=service, is_active=True)
