"""A member who paid more than the price says where to refund the difference."""

import pytest
from django.db import connection

from kirakira.common.testing import MemberFactory
from kirakira.orders import lifecycle
from kirakira.orders.models import OrderEvent, OrderStatus, Refund, RefundKind
from kirakira.orders.testing import place_order, record_payment

ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}


def sent(account: dict) -> dict:
    """The overpayment form's fields as the page sends them (prefixed)."""
    return {f"overpayment-{name}": value for name, value in account.items()}


@pytest.fixture
def overpaid(db):
    order = place_order()
    record_payment(order, amount=3500)
    return order


def test_the_order_page_asks_for_an_account_and_a_refund_of_the_excess_becomes_due(client, overpaid):
    client.force_login(overpaid.member)
    page = client.get(f"/en/orders/{overpaid.pk}/").content.decode()
    assert "You paid more than the price" in page and "¥500" in page
    response = client.post(f"/en/orders/{overpaid.pk}/refund-account/", sent(ACCOUNT))
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.kind, refund.amount_yen, refund.account_number) == (RefundKind.OVERPAYMENT, 500, "1234567")
    overpaid.refresh_from_db()
    assert overpaid.status == OrderStatus.PAID
    assert overpaid.events.last().kind == OrderEvent.Kind.REFUND_REQUESTED
    assert "You paid more than the price" not in client.get(f"/en/orders/{overpaid.pk}/").content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT account_number FROM orders_refund")
        assert b"1234567" not in bytes(cursor.fetchone()[0])


def test_bad_account_details_are_form_errors_and_nothing_is_stored(client, overpaid):
    client.force_login(overpaid.member)
    response = client.post(f"/en/orders/{overpaid.pk}/refund-account/", sent({**ACCOUNT, "account_number": "12ab"}))
    assert response.status_code == 400
    assert "account number is 4 to 17 digits" in response.content.decode()
    assert not Refund.objects.exists()


def test_nothing_to_refund_is_refused(client, db):
    order = place_order()
    record_payment(order)
    client.force_login(order.member)
    response = client.post(f"/en/orders/{order.pk}/refund-account/", sent(ACCOUNT))
    assert response.status_code == 400
    assert not Refund.objects.exists()


def test_another_members_order_is_404(client, overpaid):
    client.force_login(MemberFactory())
    assert client.post(f"/en/orders/{overpaid.pk}/refund-account/", sent(ACCOUNT)).status_code == 404
    assert not Refund.objects.exists()


def test_cancelling_later_refunds_only_what_is_left(overpaid):
    lifecycle.overpayment_refund_request(order_id=overpaid.pk, member=overpaid.member, refund_account=ACCOUNT)
    cancellation = lifecycle.order_cancel(
        order_id=overpaid.pk, member=overpaid.member, reason="都合により", refund_account=ACCOUNT
    )
    assert cancellation.refund_due_yen == 3000
    assert sorted(Refund.objects.values_list("amount_yen", flat=True)) == [500, 3000]
    assert sum(Refund.objects.values_list("amount_yen", flat=True)) == 3500


def test_the_cancel_form_quotes_what_is_left_after_an_overpayment_refund(client, overpaid):
    client.force_login(overpaid.member)
    before = client.get(f"/en/orders/{overpaid.pk}/").content.decode()
    assert "We will refund the amount you have paid, ¥3,500, to this account." in before
    lifecycle.overpayment_refund_request(order_id=overpaid.pk, member=overpaid.member, refund_account=ACCOUNT)
    after = client.get(f"/en/orders/{overpaid.pk}/").content.decode()
    assert (
        "We will refund ¥3,000 to this account: what you have paid, less the refund of your overpayment."
        in after
    )
    assert "¥3,500, to this account" not in after
