"""How an order's records end: when its contract ends (the clock of the five-year rules for
contract, payment and supply records), how they are deleted together, and what a withdrawn
member's order looks like in separate storage."""

from django.db.models import Max, OuterRef, Q, Subquery

from .models import (
    Cancellation,
    IdempotencyKey,
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    Receipt,
    Refund,
    RefundStatus,
)

ENDED = (OrderStatus.COMPLETED, OrderStatus.CANCELLED)


def contract_end_annotations() -> dict:
    """The contract ends with the order's last step (work completed, cancelled, refund paid)."""
    last = OrderEvent.objects.filter(order=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    return {"contract_end": Subquery(last)}


def contract_ended() -> Q:
    """Orders whose contract has ended: completed or cancelled, and no refund still to pay."""
    return Q(status__in=ENDED) & ~Q(refunds__status=RefundStatus.DUE)


def has_refund_due(order_id) -> bool:
    return Refund.objects.filter(order_id=order_id, status=RefundStatus.DUE).exists()


def contract_end_of(order_id):
    return OrderEvent.objects.filter(order_id=order_id).aggregate(end=Max("occurred_at"))["end"]


def orders_delete(order_ids: list) -> dict:
    """Delete orders with every record that belongs to them. A consultation about one of them
    keeps its own rule and loses only the link. Returns {model label: count}."""
    from kirakira.consultations.models import Consultation

    counts = {}

    def delete(queryset):
        _total, per_model = queryset.delete()
        for label, count in per_model.items():
            counts[label] = counts.get(label, 0) + count

    Consultation._base_manager.filter(order_id__in=order_ids).update(order=None)
    # Reversing records first: each protects the payment it reverses.
    delete(Payment._base_manager.filter(order_id__in=order_ids, reverses__isnull=False))
    delete(Payment._base_manager.filter(order_id__in=order_ids))
    delete(Refund._base_manager.filter(order_id__in=order_ids))
    delete(Cancellation._base_manager.filter(order_id__in=order_ids))
    delete(Receipt._base_manager.filter(order_id__in=order_ids))
    delete(IdempotencyKey._base_manager.filter(order_id__in=order_ids))
    delete(Order._base_manager.filter(pk__in=order_ids))
    return counts


def order_snapshot(order: Order) -> dict:
    """The order with its payments, refunds, cancellation and events, encrypted values in clear
    (for separate storage, where it is encrypted again under the same member's key)."""
    from kirakira.privacy.retention.storage import snapshot

    data = snapshot(order)
    data["service_name"] = order.service.name_ja
    data["platform"] = order.platform.code
    data["payments"] = [snapshot(p) for p in Payment.objects.filter(order=order).order_by("recorded_at")]
    data["refunds"] = [snapshot(r) for r in Refund.objects.filter(order=order).order_by("created_at")]
    data["cancellation"] = next(
        (snapshot(c) for c in Cancellation.objects.filter(order=order)), None
    )
    data["events"] = [snapshot(e) for e in OrderEvent.objects.filter(order=order)]
    data["receipts"] = [snapshot(r) for r in Receipt.objects.filter(order=order).order_by("sequence")]
    return data
