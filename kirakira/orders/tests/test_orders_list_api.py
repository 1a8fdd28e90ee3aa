"""What a mobile client needs of the orders API: the list in cursor pages with a status filter
and an ordering (bad parameters are a 400, never a page the client did not ask for), what was
paid on an order, and the refund a cancellation makes due, with its state.

Observed before: the list was one bare array; ``payment`` was null once an order was paid and
nothing else said what was paid; the cancel response did not say what refund was due.
"""

import base64
import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import lifecycle
from kirakira.orders.models import OrderStatus, RefundStatus
from kirakira.orders.testing import make_service, place_order, record_payment
from kirakira.orders.tests.test_orders_api import ORDERS_URL, _error_body, _token_for

REASON = "I ordered the wrong service."
ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "本店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def member(db):
    return MemberFactory(language="en")


@pytest.fixture
def api(client, member):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {_token_for(member)}", "HTTP_ACCEPT_LANGUAGE": "en"}

    class Api:
        def get(self, url, **params):
            return client.get(url, params, **headers)

        def post(self, url, data):
            return client.post(url, json.dumps(data), content_type="application/json", **headers)

    return Api()


def orders_over_time(member, count, service=None):
    """``count`` orders, one minute apart, oldest first."""
    service = service or make_service()
    orders = []
    with clock.frozen_at(START):
        for _ in range(count):
            orders.append(place_order(member=member, service=service))
            clock.advance(timedelta(minutes=1))
    return orders


def ids(response) -> list[str]:
    return [order["id"] for order in response.json()["results"]]


def walk(api, **params) -> list[str]:
    """Every id, following ``next`` from the first page."""
    seen, response = [], api.get(ORDERS_URL, **params)
    while True:
        assert response.status_code == 200, response.content
        seen += ids(response)
        following = response.json()["next"]
        if following is None:
            return seen
        query = {key: values[0] for key, values in parse_qs(urlsplit(following).query).items()}
        response = api.get(ORDERS_URL, **query)


# --- Pages --------------------------------------------------------------------------------------


def test_the_list_comes_in_pages_of_20_newest_first(api, member):
    orders = orders_over_time(member, 25)

    first = api.get(ORDERS_URL)

    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"next", "previous", "results"}
    assert ids(first) == [str(order.pk) for order in reversed(orders)][:20]
    assert body["previous"] is None and body["next"]
    assert walk(api) == [str(order.pk) for order in reversed(orders)]


@pytest.mark.parametrize("size", [1, 7, 100])
def test_a_page_size_from_1_to_100_is_taken(api, member, size):
    orders = orders_over_time(member, 8)

    assert len(ids(api.get(ORDERS_URL, page_size=size))) == min(size, 8)
    assert walk(api, page_size=size) == [str(order.pk) for order in reversed(orders)]


def test_oldest_first_on_request(api, member):
    orders = orders_over_time(member, 3)
    assert ids(api.get(ORDERS_URL, ordering="created_at")) == [str(order.pk) for order in orders]
    assert walk(api, ordering="created_at", page_size=2) == [str(order.pk) for order in orders]


def test_a_new_order_does_not_shift_the_next_page(api, member):
    orders = orders_over_time(member, 4)
    first = api.get(ORDERS_URL, page_size=2)
    # Newer than the others whatever the real time (START was once in the future of a run).
    with clock.frozen_at(START + timedelta(hours=1)):
        place_order(member=member)

    following = parse_qs(urlsplit(first.json()["next"]).query)
    second = api.get(ORDERS_URL, page_size=2, cursor=following["cursor"][0])

    assert ids(second) == [str(orders[1].pk), str(orders[0].pk)]


def test_the_status_filter(api, member):
    unpaid, paid, cancelled = orders_over_time(member, 3)
    record_payment(paid)
    lifecycle.order_cancel(order_id=cancelled.pk, member=member, reason=REASON)

    assert ids(api.get(ORDERS_URL, status="paid")) == [str(paid.pk)]
    assert ids(api.get(ORDERS_URL, status="cancelled")) == [str(cancelled.pk)]
    assert ids(api.get(ORDERS_URL, status="awaiting_payment")) == [str(unpaid.pk)]
    assert ids(api.get(ORDERS_URL, status="completed")) == []


def test_the_list_holds_only_the_callers_orders(api, member):
    mine = orders_over_time(member, 2)
    orders_over_time(MemberFactory(), 3)
    assert sorted(walk(api, page_size=1)) == sorted(str(order.pk) for order in mine)


def _forged_cursor(position: str) -> str:
    return base64.b64encode(f"o=0&r=0&p={position}".encode()).decode()


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "-1"}, "page_size"),
        ({"page_size": "10000"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_size": "1.5"}, "page_size"),
        ({"page_size": ""}, "page_size"),
        ({"page_size": "²"}, "page_size"),  # isdigit() alone took it, then int() raised: a 500
        ({"page_size": "１０"}, "page_size"),  # full-width digits
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "%%%"}, "cursor"),  # decoded to nothing: DRF read it as the first page
        ({"cursor": ""}, "cursor"),
        ({"cursor": base64.b64encode(b"\xff\xfe").decode()}, "cursor"),
        ({"status": "shipped"}, "status"),
        ({"status": "PAID"}, "status"),
        ({"status": ""}, "status"),
        ({"ordering": "price_yen"}, "ordering"),
        ({"ordering": "-id"}, "ordering"),
    ],
)
def test_a_bad_list_parameter_is_a_400_naming_it(api, member, params, parameter):
    orders_over_time(member, 2)

    body = _error_body(api.get(ORDERS_URL, **params), 400)

    assert list(body["errors"]) == [parameter]


@pytest.mark.parametrize("position", ["not-a-date", "2026-13-45", "'; DROP TABLE orders_order; --"])
def test_a_forged_cursor_is_a_400_never_a_500(api, member, position):
    orders_over_time(member, 2)
    _error_body(api.get(ORDERS_URL, cursor=_forged_cursor(position)), 400)


def test_the_list_without_a_token_is_401(client):
    _error_body(client.get(ORDERS_URL, {"page_size": 0}), 401)


def test_the_lists_queries_stay_flat_with_the_number_of_orders(api, member, django_assert_num_queries):
    accountant = StaffFactory(roles=[Role.ACCOUNTING])
    [first] = orders_over_time(member, 1)
    record_payment(first, accountant=accountant)
    api.get(ORDERS_URL)  # warm whatever the process caches
    with CaptureQueriesContext(connection) as one:
        assert len(ids(api.get(ORDERS_URL))) == 1

    more = orders_over_time(member, 12)
    for order in more[:6]:
        record_payment(order, accountant=accountant)
    for order in more[:3]:
        lifecycle.order_cancel(order_id=order.pk, member=member, reason=REASON, refund_account=ACCOUNT)
    lifecycle.order_cancel(order_id=more[-1].pk, member=member, reason=REASON)

    with django_assert_num_queries(len(one)):
        response = api.get(ORDERS_URL)
    assert len(ids(response)) == 13


# --- What was paid, what is refunded ------------------------------------------------------------


def test_a_paid_order_shows_what_was_paid(api, member):
    order = place_order(member=member)
    record_payment(order)

    body = api.get(f"{ORDERS_URL}/{order.pk}").json()

    assert body["status"] == "paid"
    assert body["paid_yen"] == order.price_yen
    assert body["payment"] is None
    assert body["cancellation"] is None and body["refunds"] == []


def test_a_partly_paid_order_shows_what_arrived_and_how_to_pay_the_rest(api, member):
    order = place_order(member=member)
    record_payment(order, amount=1000)

    body = api.get(f"{ORDERS_URL}/{order.pk}").json()

    assert body["status"] == "awaiting_payment"
    assert body["paid_yen"] == 1000
    assert body["payment"]["amount_yen"] == order.price_yen


def test_a_reversed_payment_is_not_counted(api, member):
    order = place_order(member=member)
    payment = record_payment(order)
    lifecycle.payment_reverse(payment_id=payment.pk, actor=StaffFactory(roles=[Role.ACCOUNTING]))

    body = api.get(f"{ORDERS_URL}/{order.pk}").json()

    assert body["paid_yen"] == 0
    assert body["status"] == "awaiting_payment"


def test_the_cancel_response_says_what_refund_is_due_and_its_state(api, member):
    order = place_order(member=member)
    record_payment(order)

    response = api.post(f"{ORDERS_URL}/{order.pk}/cancel", {"reason": REASON, "refund_account": ACCOUNT})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["paid_yen"] == order.price_yen
    assert body["cancellation"]["refund_due_yen"] == order.price_yen
    assert body["cancellation"]["refund_status"] == "due"
    assert body["cancellation"]["status_before"] == "paid"
    [refund] = body["refunds"]
    assert refund == {
        "kind": "cancellation",
        "amount_yen": order.price_yen,
        "status": "due",
        "status_display": "To be paid",
        "paid_on": None,
        "created_at": refund["created_at"],
        "under_correction": [],
    }
    assert "bank_name" not in json.dumps(body) and "1234567" not in json.dumps(body)


def test_the_refund_state_follows_the_studios_transfer(api, member):
    order = place_order(member=member)
    record_payment(order)
    lifecycle.order_cancel(order_id=order.pk, member=member, reason=REASON, refund_account=ACCOUNT)
    refund = order.refunds.get()
    lifecycle.refund_mark_paid(
        refund_id=refund.pk,
        paid_on=timezone.localdate(clock.now()),
        amount_yen=refund.amount_yen,
        actor=StaffFactory(roles=[Role.ACCOUNTING]),
    )

    body = api.get(f"{ORDERS_URL}/{order.pk}").json()

    assert body["cancellation"]["refund_status"] == RefundStatus.PAID
    assert body["refunds"][0]["status"] == "paid"
    assert date.fromisoformat(body["refunds"][0]["paid_on"]) == timezone.localdate(clock.now())


def test_cancelling_an_unpaid_order_makes_no_refund(api, member):
    order = place_order(member=member)

    body = api.post(f"{ORDERS_URL}/{order.pk}/cancel", {"reason": REASON}).json()

    assert body["cancellation"]["refund_due_yen"] == 0
    assert body["cancellation"]["refund_status"] is None
    assert body["refunds"] == [] and body["paid_yen"] == 0


def test_an_overpayment_refund_is_listed(api, member):
    order = place_order(member=member)
    record_payment(order, amount=order.price_yen + 500)
    lifecycle.overpayment_refund_request(order_id=order.pk, member=member, refund_account=ACCOUNT)

    body = api.get(f"{ORDERS_URL}/{order.pk}").json()

    assert body["paid_yen"] == order.price_yen + 500
    assert [(r["kind"], r["amount_yen"], r["status"]) for r in body["refunds"]] == [
        ("overpayment", 500, "due")
    ]
    assert body["status"] == OrderStatus.PAID
