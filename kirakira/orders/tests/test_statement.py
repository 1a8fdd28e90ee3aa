"""The member's statement: a CSV of their orders, payments and refunds, for Excel (UTF-8 with a
BOM), with no one else's rows and a fixed number of queries."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kirakira.common.testing import MemberFactory
from kirakira.orders import lifecycle
from kirakira.orders.tests.test_cancel_pages import ACCOUNT, PRICE, make_order, pay

URL = "/en/orders/statement.csv"
HEADER = ["Date", "Payment reference", "Service", "Kind", "Amount (yen)", "Status"]


@pytest.fixture
def member(client, db):
    member = MemberFactory(language="en")
    client.force_login(member)
    return member


def rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_statement_lists_orders_payments_and_refunds(client, member):
    unpaid = make_order(member)
    cancelled = make_order(member)
    pay(cancelled, 1000)
    pay(cancelled, 2000)
    lifecycle.order_cancel(
        order_id=cancelled.pk, member=member, reason="Changed my mind.", refund_account=ACCOUNT
    )
    stranger_order = make_order(MemberFactory())
    pay(stranger_order)

    response = client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="kirakira-statement-') and disposition.endswith(
        '.csv"'
    )
    assert member.login_id not in disposition
    table = rows(response)
    assert table[0] == HEADER
    body = table[1:]
    assert all(len(row) == len(HEADER) for row in body)
    assert {row[1] for row in body} == {unpaid.reference, cancelled.reference}
    assert stranger_order.reference not in response.content.decode()
    assert all(int(row[4]) == float(row[4]) for row in body)
    kinds = [(row[1], row[3], int(row[4]), row[5]) for row in body]
    assert kinds == [
        (unpaid.reference, "Order placed", PRICE, "Awaiting payment"),
        (cancelled.reference, "Order placed", PRICE, "Cancelled"),
        (cancelled.reference, "Payment received", 1000, ""),
        (cancelled.reference, "Payment received", 2000, ""),
        (cancelled.reference, "Refund", 3000, "To be paid"),
    ]
    assert body[0][2] == "Photo retouch"


def test_a_member_without_orders_gets_only_the_header(client, member):
    assert rows(client.get(URL)) == [HEADER]


def test_the_headers_follow_the_language(client, member):
    table = rows(client.get("/ko/orders/statement.csv"))
    assert table[0] != HEADER and len(table[0]) == len(HEADER)


def test_the_number_of_queries_does_not_grow_with_the_orders(client, member):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    order = make_order(member)
    pay(order)
    one = count()
    for _ in range(4):
        order = make_order(member)
        pay(order, 1000)
        lifecycle.order_cancel(order_id=order.pk, member=member, reason="No.", refund_account=ACCOUNT)
    assert count() == one


def test_the_order_list_links_to_the_statement(client, member):
    make_order(member)
    assert 'href="/en/orders/statement.csv"' in client.get("/en/orders/").content.decode()


def test_a_visitor_must_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
