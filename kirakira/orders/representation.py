"""An order as the API answers it, built by hand.

``api.OrderOutput`` documents the shape (the OpenAPI schema is generated from it); this builds the
same dictionary without DRF's per-field machinery, which resolved some 27 fields through
``get_attribute`` and ``to_representation`` for every order and was most of what a page of orders
cost. ``tests/test_representation.py`` holds the two equal for orders in every state.
"""

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers

from .bank import studio_account
from .models import OrderStatus, RefundKind
from .progress import estimate

# DRF's own formatting of a time and a day (ISO 8601 in the current time zone, "Z" for UTC), so
# that the format follows REST_FRAMEWORK's settings as the serializers' does.
_datetime = serializers.DateTimeField().to_representation
_date = serializers.DateField().to_representation

Frozen = dict[tuple[str, str], set[str]]


def order_data(order, frozen: Frozen) -> dict:
    """``order`` as read by ``selectors.orders_with_money_of``; ``frozen``: the member's fields
    under correction (``api._frozen_of``)."""
    refunds = order.refund_list
    expected = estimate(
        order, paid_at=order.paid_at, started_at=order.started_at, completed_at=order.completed_at
    )
    return {
        "id": str(order.pk),
        "reference": order.reference,
        "service": {"id": order.service.pk, "name": order.service.name},
        "price_yen": order.price_yen,
        "sns_platform": order.platform.code,
        "sns_account_id": order.sns_account_id,
        "photo_links": [str(link) for link in order.photo_links],
        "note": order.note,
        "phone": order.phone,
        "status": order.status,
        "status_display": str(order.get_status_display()),
        "created_at": _datetime(order.created_at),
        "payment_due_at": _datetime(order.payment_due_at) if order.payment_due_at else None,
        "paid_yen": order.paid_yen,
        "estimated_completion_on": _date(expected.on) if expected.on is not None else None,
        "estimated_business_days": expected.business_days,
        "delivery_note": order.delivery_note or "",
        "payment": _payment(order),
        "cancellation": _cancellation(order, refunds, frozen),
        "refunds": [_refund(refund, frozen) for refund in refunds],
        "under_correction": _under_correction(order, frozen),
    }


def _payment(order) -> dict | None:
    if order.status != OrderStatus.AWAITING_PAYMENT:
        return None
    return {"amount_yen": order.price_yen, "reference": order.reference, "bank": studio_account()}


def _cancellation(order, refunds, frozen: Frozen) -> dict | None:
    try:
        cancellation = order.cancellation
    except ObjectDoesNotExist:
        return None
    refund = next((r for r in refunds if r.kind == RefundKind.CANCELLATION), None)
    return {
        "cancelled_at": _datetime(cancellation.cancelled_at),
        "status_before": cancellation.status_before,
        "refund_due_yen": cancellation.refund_due_yen,
        "refund_status": refund.status if refund is not None else None,
        "under_correction": _under_correction(cancellation, frozen),
    }


def _refund(refund, frozen: Frozen) -> dict:
    return {
        "kind": refund.kind,
        "amount_yen": refund.amount_yen,
        "status": refund.status,
        "status_display": str(refund.get_status_display()),
        "paid_on": _date(refund.paid_on) if refund.paid_on is not None else None,
        "created_at": _datetime(refund.created_at),
        "under_correction": _under_correction(refund, frozen),
    }


def _under_correction(record, frozen: Frozen) -> list[str]:
    return sorted(frozen.get((record._meta.label, str(record.pk)), ()))
