"""POST /api/v1/orders/{id}/cancel: the member cancels an order through the API."""

import json
import uuid

import pytest
import yaml

from kirakira.common.testing import MemberFactory
from kirakira.orders import lifecycle
from kirakira.orders.models import Cancellation, Order, OrderEvent, OrderStatus, Refund
from kirakira.orders.tests.test_cancel_pages import ACCOUNT, PRICE, advance, make_order, pay
from kirakira.orders.tests.test_orders_api import ORDER_FIELDS, _auth, _error_body, _token_for

REASON = "I ordered the wrong service."


def url(order_id):
    return f"/api/v1/orders/{order_id}/cancel"


def post(client, token, order_id, data):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(
        url(order_id), body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **_auth(token)
    )


@pytest.fixture
def member(db):
    return MemberFactory(language="en")


@pytest.fixture
def token(member):
    return _token_for(member)


@pytest.fixture
def order(member):
    return make_order(member)


def test_cancel_an_unpaid_order(client, token, order, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, token, order.pk, {"reason": REASON})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == ORDER_FIELDS
    assert body["id"] == str(order.pk)
    assert body["status"] == "cancelled" and body["payment"] is None
    assert Cancellation.objects.get(order=order).refund_due_yen == 0
    assert not Refund.objects.exists()
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.IN_PROGRESS])
def test_cancel_after_payment_makes_a_refund_due(client, token, order, status):
    pay(order)
    if status == OrderStatus.IN_PROGRESS:
        advance(order, "start")

    response = post(client, token, order.pk, {"reason": REASON, "refund_account": ACCOUNT})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    refund = Refund.objects.get(order=order)
    assert refund.amount_yen == PRICE
    assert refund.account_holder == ACCOUNT["account_holder"]
    assert Cancellation.objects.get(order=order).status_before == status


def test_a_missing_refund_account_is_refused_when_money_was_paid(client, token, order):
    pay(order)

    body = _error_body(post(client, token, order.pk, {"reason": REASON}), 400)

    assert "refund_account" in body["errors"]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert not Cancellation.objects.exists() and not Refund.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account_number", "12ab4567"),
        ("account_holder", "山田花子"),
        ("account_holder", "<script>alert(1)</script>"),
        ("account_type", "gold"),
        ("bank_name", ""),
    ],
)
def test_invalid_refund_details_are_refused_by_field(client, token, order, field, value):
    pay(order)

    body = _error_body(
        post(client, token, order.pk, {"reason": REASON, "refund_account": {**ACCOUNT, field: value}}), 400
    )

    assert list(body["errors"]) == [f"refund_account.{field}"]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert not Cancellation.objects.exists() and not Refund.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"reason": 5},
        {"reason": None},
        {"reason": ["a"]},
        {"reason": REASON, "refund_account": "bank"},
        {"reason": REASON, "refund_account": [ACCOUNT]},
        {"reason": REASON, "refund_account": {**ACCOUNT, "account_number": 1234567}},
        {"reason": REASON, "refund_account": {**ACCOUNT, "account_holder": {"a": 1}}},
        {"reason": "x" * 5000},
        {"reason": "   "},
        [REASON],
        "not json",
        "null",
    ],
)
def test_wrong_types_are_400_never_500(client, token, order, data):
    pay(order)

    response = post(client, token, order.pk, data)

    _error_body(response, 400)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert not Cancellation.objects.exists()


@pytest.mark.parametrize("step", ["complete", "cancelled"])
def test_a_completed_or_cancelled_order_is_refused(client, token, member, order, step):
    pay(order)
    if step == "complete":
        advance(order, "start")
        advance(order, "complete")
    else:
        lifecycle.order_cancel(order_id=order.pk, member=member, reason=REASON, refund_account=ACCOUNT)
    before = (Cancellation.objects.count(), Refund.objects.count(), OrderEvent.objects.count())
    status = Order.objects.get(pk=order.pk).status

    body = _error_body(post(client, token, order.pk, {"reason": REASON, "refund_account": ACCOUNT}), 400)

    assert "can no longer be cancelled" in " ".join(body["errors"]["non_field_errors"])
    assert Order.objects.get(pk=order.pk).status == status
    assert (Cancellation.objects.count(), Refund.objects.count(), OrderEvent.objects.count()) == before


def test_another_members_order_is_404(client, token):
    other = make_order(MemberFactory())

    _error_body(post(client, token, other.pk, {"reason": REASON}), 404)

    assert Order.objects.get(pk=other.pk).status == OrderStatus.AWAITING_PAYMENT
    assert not Cancellation.objects.exists()


@pytest.mark.parametrize("order_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_order_is_404(client, token, order_id):
    _error_body(post(client, token, order_id, {"reason": REASON}), 404)


def test_without_a_token_is_401(client, order):
    response = client.post(url(order.pk), json.dumps({"reason": REASON}), content_type="application/json")
    _error_body(response, 401)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_PAYMENT


def test_the_schema_documents_cancel(client, db):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    operation = schema["paths"]["/api/v1/orders/{order_id}/cancel"]["post"]
    assert {"200", "400", "401", "404"} <= set(operation["responses"])
    assert "requestBody" in operation
