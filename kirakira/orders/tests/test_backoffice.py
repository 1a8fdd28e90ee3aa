"""The staff side of orders in the back office: accounting records payments, customer service
works the orders, each seeing personal fields as the catalog allows."""

import datetime
import re

import pytest
from django.utils import timezone

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.orders.models import Order, OrderStatus, Payment
from kirakira.orders.testing import place_order


@pytest.fixture
def order(db):
    return place_order()


def _record(client, order, amount, received_on=None):
    received_on = received_on or timezone.localdate(clock.now())
    return client.post(
        "/en/backoffice/orders/payment/add/",
        {
            "reference": order.reference.lower(),
            "amount_yen": str(amount),
            "received_on": received_on.isoformat(),
            "payer_name": "ヤマダ ハナコ",
        },
    )


def test_accounting_records_a_payment_and_the_order_is_paid(client, order):
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    response = _record(client, order, 3000)
    assert response.status_code == 302, response.content.decode()[:3000]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get().recorded_by.is_staff


@pytest.mark.parametrize(("amount", "days_ahead"), [(0, 0), (-5, 0), (3000, 1)])
def test_bad_payments_are_form_errors_and_nothing_is_recorded(client, order, amount, days_ahead):
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    received_on = timezone.localdate(clock.now()) + datetime.timedelta(days=days_ahead)
    response = _record(client, order, amount, received_on)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not Payment.objects.exists()


def test_an_unknown_reference_is_a_form_error(client, order):
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    order.reference = "KZZZZZZZ"
    response = _record(client, order, 3000)
    assert "No order has this payment reference" in response.content.decode()
    assert not Payment.objects.exists()


def test_customer_service_cannot_record_payments(client, order):
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))
    assert _record(client, order, 3000).status_code == 403
    assert not Payment.objects.exists()


def test_customer_service_sees_the_order_with_the_phone_masked(client, order):
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))
    html = client.get(f"/en/backoffice/orders/order/{order.pk}/change/").content.decode()
    assert "kira.kira" in html
    assert "****5678" in html and "090-1234-5678" not in html


def test_accounting_does_not_see_the_sns_account(client, order):
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    html = client.get(f"/en/backoffice/orders/order/{order.pk}/change/").content.decode()
    assert "kira.kira" not in html
    assert "****5678" in html


def _work_step(action, order) -> dict:
    """The action's form as sent; completing asks what was delivered first (orders/progress.py)."""
    data = {"action": action, "_selected_action": [str(order.pk)]}
    if action == "complete_work":
        data.update({"apply": "1", f"order-{order.pk}-delivery_note": "Retouched photos: https://example.com/r"})
    return data


def test_customer_service_starts_and_completes_the_work(client, order):
    accountant = StaffFactory(roles=[Role.ACCOUNTING])
    client.force_login(accountant)
    _record(client, order, 3000)
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))
    for action, status in (("start_work", OrderStatus.IN_PROGRESS), ("complete_work", OrderStatus.COMPLETED)):
        response = client.post("/en/backoffice/orders/order/", _work_step(action, order))
        assert response.status_code == 302
        order.refresh_from_db()
        assert order.status == status


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_each_work_step_reports_what_it_did(client, order, prefix):
    # Seen: starting the work was reported as "完了しました" (completed).
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    _record(client, order, 3000)
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))
    said = {}
    for action in ("start_work", "complete_work"):
        response = client.post(
            f"{prefix}/backoffice/orders/order/",
            _work_step(action, order),
            follow=True,
        )
        said[action] = [str(m) for m in response.context["messages"]]
    said = {action: [m for m in shown if m.startswith(order.reference)] for action, shown in said.items()}
    if prefix:
        assert said["start_work"] == [f"{order.reference}: the work has started."]
        assert said["complete_work"] == [f"{order.reference}: the work is completed."]
    else:
        assert said["start_work"] == [f"{order.reference}：作業を開始しました。"]
        assert said["complete_work"] == [f"{order.reference}：作業が完了しました。"]


def test_accounting_has_no_work_actions(client, order):
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    client.post("/en/backoffice/orders/order/", {"action": "start_work", "_selected_action": [str(order.pk)]})
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_the_member_sees_each_step_on_the_order_page(client, order):
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    _record(client, order, 3500)
    client.force_login(order.member)
    html = client.get(f"/en/orders/{order.pk}/").content.decode()
    for label in ("Order placed", "Payment received", "Paid in full", "Paid more than the price"):
        assert label in html
    assert Order.objects.get().status == OrderStatus.PAID


@pytest.mark.parametrize(
    ("typed_reference", "typed_date"),
    [
        ("full width", "slashes"),
        ("full width", "kanji"),
        ("lower case", "dots"),
    ],
)
def test_accounting_types_the_reference_and_date_as_a_statement_shows_them(
    client, order, typed_reference, typed_date
):
    # Seen: 2026/11/30 was refused, and a full-width reference matched no order.
    import unicodedata

    today = timezone.localdate(clock.now())
    reference = {
        "full width": "".join(chr(ord(c) + 0xFEE0) for c in order.reference),
        "lower case": order.reference.lower(),
    }[typed_reference]
    assert unicodedata.normalize("NFKC", reference).upper() == order.reference
    date = {
        "slashes": today.strftime("%Y/%m/%d"),
        "kanji": f"{today.year}年{today.month}月{today.day}日",
        "dots": today.strftime("%Y.%m.%d"),
    }[typed_date]
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    response = client.post(
        "/backoffice/orders/payment/add/",
        {"reference": reference, "amount_yen": "3000", "received_on": date, "payer_name": "ヤマダ ハナコ"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payments.get().received_on == today


def test_the_payer_name_is_one_line(client, db):
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    html = client.get("/backoffice/orders/payment/add/").content.decode()
    assert re.search(r'<input type="text" name="payer_name"', html)
    assert 'name="payer_name" rows' not in html and "<textarea name=\"payer_name\"" not in html


@pytest.mark.parametrize(("prefix", "shown", "not_shown"), [("/en", "Photo retouch", "写真レタッチ"), ("", "写真レタッチ", "Photo retouch")])
def test_services_are_named_in_the_back_offices_language(client, order, prefix, shown, not_shown):
    # Seen: the English back office listed services in Japanese.
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))
    html = client.get(f"{prefix}/backoffice/orders/order/").content.decode()
    table = html[html.index('id="result_list"') : html.index("</table>", html.index('id="result_list"'))]
    assert shown in table and not_shown not in table
