"""Cancelling an order and refunding it, at the service level; and revealing a masked value."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import lifecycle
from kirakira.orders.models import (
    Cancellation,
    OrderEvent,
    OrderStatus,
    Refund,
    RefundStatus,
)
from kirakira.orders.testing import REFUND_ACCOUNT as ACCOUNT
from kirakira.orders.testing import make_service, place_order
from kirakira.privacy.audit.reveal import reveal


@pytest.fixture
def order(db):
    return place_order(
        service=make_service(platforms=("x",), photo_link_count=0), platform="x", sns_account_id="kira"
    )


@pytest.fixture
def accountant(db):
    return StaffFactory(roles=[Role.ACCOUNTING])


def pay(order, accountant, amount=3000):
    lifecycle.payment_record(
        order_id=order.pk,
        amount_yen=amount,
        received_on=timezone.localdate(clock.now()),
        payer_name="ヤマダ",
        actor=accountant,
    )


def test_cancelling_before_payment_needs_no_bank_account(order):
    cancellation = lifecycle.order_cancel(order_id=order.pk, member=order.member, reason="気が変わりました")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert cancellation.refund_due_yen == 0 and cancellation.status_before == OrderStatus.AWAITING_PAYMENT
    assert not Refund.objects.exists()
    assert order.events.last().kind == OrderEvent.Kind.CANCELLED


@pytest.mark.parametrize("steps", [[], ["start"]])
def test_cancelling_after_payment_makes_the_paid_amount_due(order, accountant, steps):
    pay(order, accountant, 3500)
    for step in steps:
        lifecycle.order_advance(
            order_id=order.pk, step=step, actor=StaffFactory(roles=[Role.CUSTOMER_SERVICE])
        )
    lifecycle.order_cancel(
        order_id=order.pk, member=order.member, reason="都合により", refund_account=ACCOUNT
    )
    refund = Refund.objects.get()
    assert refund.amount_yen == 3500 and refund.status == RefundStatus.DUE
    assert refund.account_number == "1234567"
    assert refund.account_holder == "ヤマダ ハナコ"  # half-width katakana folded
    assert Refund.objects.filter(account_number_index=Refund.account_number_index_of("1234567")).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT account_number, account_holder, bank_name FROM orders_refund")
        row = cursor.fetchone()
    assert all(b"1234567" not in bytes(v) and "ヤマダ".encode() not in bytes(v) for v in row)


def test_money_paid_requires_a_bank_account(order, accountant):
    pay(order, accountant)
    with pytest.raises(ValidationError):
        lifecycle.order_cancel(order_id=order.pk, member=order.member, reason="都合により")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and not Cancellation.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account_number", "12ab567"),
        ("account_number", "12"),
        ("account_holder", "山田花子"),
        ("account_holder", "<script>"),
        ("account_type", "bitcoin"),
        ("bank_name", ""),
        ("branch", "x" * 51),
    ],
)
def test_bad_refund_details_are_refused_and_nothing_changes(order, accountant, field, value):
    pay(order, accountant)
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.order_cancel(
            order_id=order.pk, member=order.member, reason="x", refund_account={**ACCOUNT, field: value}
        )
    assert field in excinfo.value.message_dict
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert not Cancellation.objects.exists() and not Refund.objects.exists()


@pytest.mark.parametrize("status", [OrderStatus.COMPLETED, OrderStatus.CANCELLED])
def test_completed_or_cancelled_orders_cannot_be_cancelled(order, status):
    order.status = status
    order.save(update_fields=["status"])
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        lifecycle.order_cancel(order_id=order.pk, member=order.member, reason="x")
    assert "can no longer be cancelled" in " ".join(excinfo.value.messages)
    assert not Cancellation.objects.exists()


def test_only_the_member_who_ordered_can_cancel(order):
    with pytest.raises(ValidationError):
        lifecycle.order_cancel(order_id=order.pk, member=MemberFactory(), reason="x")
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_a_reason_is_required(order):
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.order_cancel(order_id=order.pk, member=order.member, reason="  ")
    assert "reason" in excinfo.value.message_dict


def test_accounting_pays_the_refund_once_and_the_member_hears_of_it(
    order, accountant, django_capture_on_commit_callbacks, mailoutbox
):
    pay(order, accountant)
    lifecycle.order_cancel(order_id=order.pk, member=order.member, reason="x", refund_account=ACCOUNT)
    refund = Refund.objects.get()
    today = timezone.localdate(clock.now())
    with pytest.raises(ValidationError):
        lifecycle.refund_mark_paid(refund_id=refund.pk, paid_on=today, amount_yen=2999, actor=accountant)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.refund_mark_paid(refund_id=refund.pk, paid_on=today, amount_yen=3000, actor=accountant)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PAID and refund.paid_by == accountant
    assert order.events.last().kind == OrderEvent.Kind.REFUND_PAID
    assert len(mailoutbox) == 1 and "1234567" not in mailoutbox[0].body
    with pytest.raises(ValidationError):
        lifecycle.refund_mark_paid(refund_id=refund.pk, paid_on=today, amount_yen=3000, actor=accountant)


def test_a_future_date_and_a_wrong_amount_are_refused_together(order, accountant):
    # Seen: the back office's mark-paid showed the future date alone, hiding the wrong amount.
    pay(order, accountant)
    lifecycle.order_cancel(order_id=order.pk, member=order.member, reason="x", refund_account=ACCOUNT)
    refund = Refund.objects.get()
    tomorrow = timezone.localdate(clock.now()) + timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo, translation.override("en"):
        lifecycle.refund_mark_paid(refund_id=refund.pk, paid_on=tomorrow, amount_yen=2999, actor=accountant)
    assert excinfo.value.message_dict == {
        "received_on": ["The date cannot be in the future."],
        "amount_yen": ["The refund due is 3,000 yen; pay exactly that."],
    }
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DUE


def test_customer_service_cannot_pay_refunds(order, accountant):
    pay(order, accountant)
    lifecycle.order_cancel(order_id=order.pk, member=order.member, reason="x", refund_account=ACCOUNT)
    with pytest.raises(PermissionDenied):
        lifecycle.refund_mark_paid(
            refund_id=Refund.objects.get().pk,
            paid_on=timezone.localdate(clock.now()),
            amount_yen=3000,
            actor=StaffFactory(roles=[Role.CUSTOMER_SERVICE]),
        )


def test_accounting_reveals_the_account_number_with_a_reason_only(order, accountant):
    pay(order, accountant)
    lifecycle.order_cancel(order_id=order.pk, member=order.member, reason="x", refund_account=ACCOUNT)
    refund = Refund.objects.get()
    with pytest.raises(ValidationError):
        reveal(actor=accountant, instance=refund, field_name="account_number", reason=" ")
    assert (
        reveal(actor=accountant, instance=refund, field_name="account_number", reason="返金の振込のため")
        == "1234567"
    )
    with pytest.raises(PermissionDenied):
        reveal(
            actor=StaffFactory(roles=[Role.CUSTOMER_SERVICE]),
            instance=refund,
            field_name="account_number",
            reason="見たいので",
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [("account_number", "١٢٣٤٥٦٧"), ("bank_name", "A\u202eB\u200b"), ("branch", "渋谷\u200b支店")],
)
def test_lookalike_digits_and_invisible_characters_are_refused(order, accountant, field, value):
    pay(order, accountant)
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.order_cancel(
            order_id=order.pk, member=order.member, reason="x", refund_account={**ACCOUNT, field: value}
        )
    assert field in excinfo.value.message_dict


def test_a_holder_name_with_voiced_marks_is_accepted(order, accountant):
    pay(order, accountant)
    lifecycle.order_cancel(
        order_id=order.pk,
        member=order.member,
        reason="x",
        refund_account={**ACCOUNT, "account_holder": "ｶﾞｸ ﾊﾟﾝ"},
    )
    assert Refund.objects.get().account_holder == "ガク パン"
