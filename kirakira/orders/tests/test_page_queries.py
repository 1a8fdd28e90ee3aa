"""The queries each member page and API list makes: the ones it needs, the same number however
many orders the member has (issue 16). A change that adds a query fails here; one that removes
one lowers the figure."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from kirakira.common import clock
from kirakira.common.testing import MemberFactory
from kirakira.orders import lifecycle
from kirakira.orders.testing import make_service, place_order, record_payment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _as_in_production(settings):
    # The popups and the consent banner's digest come from the shared cache once drawn
    # (kirakira/common/page_cache.py memo), as in production; drawn per minute, so the test
    # stays within one.
    settings.PAGE_CACHE_SECONDS = 120
    with clock.frozen_at(clock.now()):
        yield


# Every logged-in page: the session with its user (one query: SessionUserBackend), and the usage
# log's INSERT (in a test's transaction, inside a savepoint: two more statements).
LOGGED_IN = 1 + 3
# Every API call with a token: the token with its user, the row of its last use (written at most
# every 5 minutes; the first call here writes it), the usage log's INSERT with its savepoint.
API = 1 + 3


def _member_with_orders(count: int):
    member = MemberFactory()
    service = make_service()
    orders = [place_order(member=member, service=service) for _ in range(count)]
    record_payment(orders[0])
    lifecycle.order_cancel(order_id=orders[1].pk, member=member, reason="changed my mind")
    return member, orders


def _queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries.captured_queries)


@pytest.mark.parametrize("count", [3, 30])
def test_the_order_list_and_an_order_make_the_same_queries_however_many_orders(client, count):
    member, orders = _member_with_orders(count)
    client.force_login(member)
    client.get("/orders/")  # the first request of a session records its last use
    # The orders of the page and their count (pagination).
    assert _queries(client, "/orders/") == LOGGED_IN + 2
    # The order; what was paid; its refunds; the fields under correction; its events.
    for order in orders[:3]:
        assert _queries(client, f"/orders/{order.pk}/") == LOGGED_IN + 5


@pytest.mark.parametrize("count", [3, 30])
def test_the_api_order_list_and_an_order_make_the_same_queries_however_many_orders(client, count):
    member, orders = _member_with_orders(count)
    _row, token = AuthToken.objects.create(user=member)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    _queries(client, "/api/v1/orders", **bearer)  # records the token's last use
    # The fields under correction; the page of orders with what was paid (one more than the page,
    # to know whether a next page exists); their cancellations; their refunds.
    assert _queries(client, "/api/v1/orders", **bearer) == API + 4
    for order in orders[:3]:
        assert _queries(client, f"/api/v1/orders/{order.pk}", **bearer) == API + 4
