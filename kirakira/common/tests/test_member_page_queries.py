"""The queries of every member page and every API list: the same number for a member with a few
records as for one with many (no query per row), and exactly the figure below, so that a change
that adds a query to a page fails here (issue 16). kirakira/orders/tests/test_page_queries.py
says what each query of the order pages is."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations.testing import open_for_member
from kirakira.orders.testing import make_service, place_order
from kirakira.privacy.access_log.services import record_instance
from kirakira.privacy.rights.models import RightsRequest
from kirakira.usage.models import UsageRecord

pytestmark = pytest.mark.django_db

# Both beyond the first page of every list (My data summarises what lies beyond its first rows).
FEW, MANY = 25, 40

# Page or API path -> the queries it makes, warm (the popups and the consent digest from the
# shared cache, the session's and token's last use recorded), in a test's transaction (the usage
# log's INSERT inside a savepoint: three statements). A page's session and its member are one query.
PAGES = {
    # One more: the count of incident notices, for the banner.
    "/accounts/mypage/": 7,
    "/accounts/sessions/": 6,
    "/orders/": 6,
    "/consultations/": 6,
    "/privacy/access-log/": 6,
    # Every kind of record the catalog declares for a member, a query or two each.
    "/privacy/my-data/": 64,
    "/privacy/requests/": 6,
}
API = {
    "/api/v1/me": 4,
    "/api/v1/auth/tokens": 5,
    "/api/v1/orders": 8,
    "/api/v1/consultations": 5,
    "/api/v1/privacy/access-log": 5,
    "/api/v1/privacy/requests": 5,
    "/api/v1/privacy/my-data": 63,
}


@pytest.fixture(autouse=True)
def _as_in_production(settings):
    settings.PAGE_CACHE_SECONDS = 120
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 100  # the members open 25 and 40 at once


def _member(records: int):
    member = MemberFactory()
    service = make_service()
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    now = clock.now()
    for n in range(records):
        order = place_order(member=member, service=service)
        open_for_member(member, subject=f"質問 {n}")
        UsageRecord.objects.create(
            member=member,
            occurred_at=now - timedelta(minutes=n),
            ip_address="198.51.100.7",
            method="GET",
            route="orders:list",
            status_code=200,
        )
        record_instance(actor=staff, action="view", instance=order)
        RightsRequest.objects.create(
            member=member, kind="restriction", scope="notices", due_at=now + timedelta(days=10)
        )
        AuthToken.objects.create(user=member)
    return member


def _count(client, path, **headers) -> int:
    # Within one minute: the shared cache's drawings are per minute.
    with clock.frozen_at(clock.now()):
        client.get(path, **headers)  # warm: the shared cache, the last use of the login
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code)
    return len(queries.captured_queries)


def test_every_member_page_makes_the_same_queries_for_few_and_many_records():
    counts = {}
    for records in (FEW, MANY):
        client = Client()
        client.force_login(_member(records))
        counts[records] = {path: _count(client, path) for path in PAGES}
    assert counts[FEW] == counts[MANY], "a page makes a query per record"
    assert counts[MANY] == PAGES


def test_every_api_list_makes_the_same_queries_for_few_and_many_records():
    counts = {}
    for records in (FEW, MANY):
        member = _member(records)
        _row, token = AuthToken.objects.create(user=member)
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        counts[records] = {path: _count(Client(), path, **bearer) for path in API}
    assert counts[FEW] == counts[MANY], "an API list makes a query per record"
    assert counts[MANY] == API
