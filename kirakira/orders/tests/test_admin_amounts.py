"""Amounts of yen in the back office read as people write them: ¥12,345 on the English pages,
12,345円 on the Japanese ones, in list columns, on read-only change pages and in messages; an
amount under correction still shows as such. The API keeps plain integers."""

import re

import pytest
from django.utils import timezone

from kirakira.api.testing import api_token
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import lifecycle
from kirakira.orders.models import Cancellation, Payment, Refund
from kirakira.orders.testing import REFUND_ACCOUNT, make_service, open_correction, place_order, record_payment

pytestmark = pytest.mark.django_db

PRICE = 12345


@pytest.fixture
def accountant():
    return StaffFactory(roles=[Role.ACCOUNTING, Role.CUSTOMER_SERVICE])


@pytest.fixture
def cancelled(accountant):
    member = MemberFactory()
    order = place_order(member=member, service=make_service(price_yen=PRICE))
    record_payment(order, amount=PRICE + 1000, accountant=accountant)
    lifecycle.order_cancel(order_id=order.pk, member=member, reason="x", refund_account=REFUND_ACCOUNT)
    return order


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _bare(html: str, amount: int) -> bool:
    """The amount written without separators anywhere in the page's text."""
    return re.search(rf"(?<![\d,]){amount}(?![\d,])", html) is not None


@pytest.mark.parametrize(
    ("prefix", "written"), [("/en", "¥{:,}"), ("", "{:,}円"), ("/ko", "{:,}엔")], ids=["en", "ja", "ko"]
)
def test_list_columns_and_change_pages_show_amounts_with_separators(client, accountant, cancelled, prefix, written):
    client.force_login(accountant)
    payment = Payment.objects.get(order=cancelled)
    refund = Refund.objects.filter(order=cancelled).order_by("-amount_yen").first()
    cancellation = Cancellation.objects.get(order=cancelled)
    pages = {
        "/backoffice/orders/order/": [PRICE],
        f"/backoffice/orders/order/{cancelled.pk}/change/": [PRICE, PRICE + 1000],  # the price, received so far
        "/backoffice/orders/payment/": [PRICE + 1000],
        f"/backoffice/orders/payment/{payment.pk}/change/": [PRICE + 1000],
        "/backoffice/orders/refund/": [refund.amount_yen],
        f"/backoffice/orders/refund/{refund.pk}/change/": [refund.amount_yen],
        "/backoffice/orders/cancellation/": [cancellation.refund_due_yen],
        f"/backoffice/orders/cancellation/{cancellation.pk}/change/": [cancellation.refund_due_yen],
    }
    for path, amounts in pages.items():
        html = _text(client.get(prefix + path))
        for amount in amounts:
            assert written.format(amount) in html, (path, amount)
            assert not _bare(html, amount), (path, amount)


def test_the_service_list_shows_prices_with_separators(client, accountant, cancelled):
    client.force_login(accountant)
    html = _text(client.get("/en/backoffice/orders/service/"))
    assert "¥12,345" in html and not _bare(html, PRICE)


def test_a_paid_refund_shows_the_amount_paid_with_separators(client, accountant, cancelled):
    refund = Refund.objects.filter(order=cancelled).order_by("-amount_yen").first()
    client.force_login(accountant)
    html = _text(client.get(f"/en/backoffice/orders/refund/{refund.pk}/mark-paid/"))
    assert f"The refund due is {refund.amount_yen:,} yen." in html
    lifecycle.refund_mark_paid(
        refund_id=refund.pk, paid_on=timezone.localdate(clock.now()), amount_yen=refund.amount_yen, actor=accountant
    )
    html = _text(client.get(f"/en/backoffice/orders/refund/{refund.pk}/change/"))
    assert html.count(f"¥{refund.amount_yen:,}") >= 2  # the amount due and the amount paid
    assert not _bare(html, refund.amount_yen)


def test_the_message_after_recording_a_payment_shows_the_amount_with_separators(client, accountant):
    order = place_order(service=make_service(price_yen=PRICE))
    client.force_login(accountant)
    response = client.post(
        "/en/backoffice/orders/payment/add/",
        {
            "reference": order.reference,
            "amount_yen": str(PRICE),
            "received_on": timezone.localdate(clock.now()).strftime("%Y/%m/%d"),
            "payer_name": "ヤマダ ハナコ",
        },
        follow=True,
    )
    html = _text(response)
    message = re.search(r'<li class="success">(.*?)</li>', html, re.S).group(1)
    assert "¥12,345" in message and not _bare(message, PRICE)


def test_an_amount_under_correction_still_says_so(client, accountant, cancelled):
    payment = Payment.objects.get(order=cancelled)
    open_correction(payment, "amount_yen")
    client.force_login(accountant)
    html = _text(client.get("/en/backoffice/orders/payment/"))
    assert "under correction" in html and f"¥{PRICE + 1000:,}" not in html
    html = _text(client.get(f"/en/backoffice/orders/payment/{payment.pk}/change/"))
    fields = re.search(r"<fieldset.*</fieldset>", html, re.S).group(0)
    assert "under correction" in fields and f"¥{PRICE + 1000:,}" not in fields


@pytest.mark.parametrize("prefix", ["", "/en"], ids=["ja", "en"])
def test_the_members_pages_show_amounts_with_separators(client, cancelled, prefix):
    client.force_login(cancelled.member)
    for path in ("/orders/", f"/orders/{cancelled.pk}/", "/privacy/my-data/"):
        html = _text(client.get(prefix + path))
        for amount in (PRICE, PRICE + 1000):
            assert not _bare(html, amount), (path, amount)
    # The API keeps integers, beside the text the page shows.
    token = api_token(cancelled.member)
    for path in (f"/api/v1/orders/{cancelled.pk}", "/api/v1/privacy/my-data"):
        answer = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert answer.status_code == 200, answer.content
        assert re.search(r'":\s?12345\b', answer.content.decode()), path
