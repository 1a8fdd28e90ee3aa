"""The staff side of refunds: accounting's queue with the account number masked, revealing it
with a reason, marking the refund paid; cancellations as each role may see them."""

import datetime

import pytest
from django.utils import timezone

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.orders import lifecycle
from kirakira.orders.models import OrderEvent, Refund, RefundStatus
from kirakira.orders.testing import place_order, record_payment

ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}
REASON = "キャンセルのご要望がございました"


@pytest.fixture
def refund(db):
    order = place_order()
    record_payment(order)
    lifecycle.order_cancel(order_id=order.pk, member=order.member, reason=REASON, refund_account=ACCOUNT)
    return Refund.objects.get()


@pytest.fixture
def accounting(db, client):
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    return client


@pytest.fixture
def customer_service(db, client):
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))
    return client


def url(refund, suffix="change/"):
    return f"/en/backoffice/orders/refund/{refund.pk}/{suffix}"


def today():
    return timezone.localdate(clock.now())


# --- The queue and the refund page --------------------------------------------------------------


def test_the_refund_is_due(refund):
    assert refund.status == RefundStatus.DUE and refund.amount_yen == 3000


def test_accounting_sees_the_queue(accounting, refund):
    html = accounting.get("/en/backoffice/orders/refund/").content.decode()
    assert refund.order.reference in html
    assert "1234567" not in html
    html = accounting.get("/en/backoffice/orders/refund/?status__exact=paid").content.decode()
    assert refund.order.reference not in html


def test_accounting_sees_the_account_number_masked(accounting, refund):
    response = accounting.get(url(refund))
    html = response.content.decode()
    assert response.status_code == 200
    assert "****4567" in html and "1234567" not in html
    assert "きらきら銀行" in html and "ヤマダ ハナコ" in html
    assert url(refund, "reveal/") in html and url(refund, "mark-paid/") in html


def test_refunds_are_view_only(accounting, refund):
    assert accounting.get("/en/backoffice/orders/refund/add/").status_code == 403
    assert accounting.post(url(refund, "delete/"), {"post": "yes"}).status_code == 403
    assert Refund.objects.exists()


def test_the_privacy_officer_sees_the_number_in_full_but_cannot_mark_it_paid(client, refund):
    client.force_login(StaffFactory(roles=[Role.PRIVACY_OFFICER]))
    html = client.get(url(refund)).content.decode()
    assert "1234567" in html
    assert url(refund, "mark-paid/") not in html
    assert client.get(url(refund, "mark-paid/")).status_code == 403


def test_customer_service_cannot_see_refunds(customer_service, refund):
    assert customer_service.get("/en/backoffice/orders/refund/").status_code == 403
    response = customer_service.get(url(refund))
    assert response.status_code in (302, 403)
    assert "きらきら銀行" not in response.content.decode()


# --- Revealing the account number ---------------------------------------------------------------


def test_the_reveal_page_asks_for_a_reason(accounting, refund):
    response = accounting.get(url(refund, "reveal/"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="reason"' in html and "1234567" not in html


def test_accounting_reveals_the_number_with_a_reason(accounting, refund):
    response = accounting.post(url(refund, "reveal/"), {"reason": "返金の振込のため"})
    assert response.status_code == 200
    assert "1234567" in response.content.decode()
    assert "no-store" in response.get("Cache-Control", "") or "max-age=0" in response.get("Cache-Control", "")


@pytest.mark.parametrize("reason", ["", "   ", "abc"])
def test_a_missing_or_short_reason_is_a_form_error(accounting, refund, reason):
    response = accounting.post(url(refund, "reveal/"), {"reason": reason})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist' in html and "Say why you need to see it" in html
    assert "1234567" not in html


def test_customer_service_cannot_reveal(customer_service, refund):
    assert customer_service.get(url(refund, "reveal/")).status_code == 403
    response = customer_service.post(url(refund, "reveal/"), {"reason": "返金の振込のため"})
    assert response.status_code == 403
    assert "1234567" not in response.content.decode()


def test_the_reveal_of_an_unknown_refund_is_404(accounting, refund):
    assert (
        accounting.get(
            "/en/backoffice/orders/refund/00000000-0000-0000-0000-000000000000/reveal/"
        ).status_code
        == 404
    )


# --- Marking the refund paid --------------------------------------------------------------------


def _mark_paid(client, refund, amount=3000, paid_on=None):
    return client.post(
        url(refund, "mark-paid/"),
        {"paid_on": (paid_on or today()).isoformat(), "amount_yen": str(amount)},
    )


def test_accounting_marks_the_refund_paid(accounting, refund, mailoutbox, django_capture_on_commit_callbacks):
    assert accounting.get(url(refund, "mark-paid/")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = _mark_paid(accounting, refund)
    assert response.status_code == 302
    assert response["Location"] == url(refund)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PAID
    assert (refund.paid_on, refund.paid_amount_yen) == (today(), 3000)
    assert refund.paid_by.groups.filter(name=Role.ACCOUNTING).exists()
    assert OrderEvent.objects.filter(order=refund.order, kind=OrderEvent.Kind.REFUND_PAID).exists()
    assert [m.to for m in mailoutbox] == [[refund.order.member.email]]
    html = accounting.get(response["Location"]).content.decode()
    assert "The refund is marked paid." in html
    assert url(refund, "mark-paid/") not in html


@pytest.mark.parametrize(
    ("amount", "days_ahead", "field_error"),
    [
        (2999, 0, "pay exactly that"),
        (3001, 0, "pay exactly that"),
        (0, 0, "at least 1 yen"),
        (3000, 1, "cannot be in the future"),
    ],
)
def test_a_wrong_refund_payment_is_a_form_error(accounting, refund, amount, days_ahead, field_error):
    paid_on = today() + datetime.timedelta(days=days_ahead)
    response = _mark_paid(accounting, refund, amount, paid_on)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist' in html and field_error in html
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DUE
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.REFUND_PAID).exists()


def test_a_refund_is_paid_once(accounting, refund):
    assert _mark_paid(accounting, refund).status_code == 302
    response = _mark_paid(accounting, refund)
    assert response.status_code == 200
    assert "already been paid" in response.content.decode()
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.REFUND_PAID).count() == 1


def test_customer_service_cannot_mark_a_refund_paid(customer_service, refund):
    assert _mark_paid(customer_service, refund).status_code == 403
    refund.refresh_from_db()
    assert refund.status == RefundStatus.DUE


# --- Cancellations ------------------------------------------------------------------------------


def _cancellation_url(refund):
    return f"/en/backoffice/orders/cancellation/{refund.order.cancellation.pk}/change/"


def test_customer_service_sees_the_cancellation_reason(customer_service, refund):
    assert (
        refund.order.reference in customer_service.get("/en/backoffice/orders/cancellation/").content.decode()
    )
    html = customer_service.get(_cancellation_url(refund)).content.decode()
    assert REASON in html and "¥3,000" in html


def test_accounting_sees_the_cancellation_without_the_reason(accounting, refund):
    response = accounting.get(_cancellation_url(refund))
    html = response.content.decode()
    assert response.status_code == 200
    assert "¥3,000" in html and REASON not in html


def test_cancellations_are_view_only(customer_service, refund):
    assert customer_service.get("/en/backoffice/orders/cancellation/add/").status_code == 403
    response = customer_service.post(_cancellation_url(refund).replace("change/", "delete/"), {"post": "yes"})
    assert response.status_code == 403
