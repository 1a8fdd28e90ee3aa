"""`GET /api/v1/consultations` in pages (issue 11, section 5): a cursor, 20 a page by default
and at most 100, a `status` filter and an ordering by `created_at`; a bad page size, cursor,
status or ordering is a 400 naming the parameter, never a 500 or a page the client did not ask
for; and the number of queries does not grow with the page or the thread."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kirakira.api.testing import error_body
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import services
from kirakira.consultations.models import Status
from kirakira.consultations.testing import PDF, open_for_member, upload

from .api_client import LIST_URL, MemberApi, detail_url

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PAGE_SIZE_ERROR = {"page_size": ["Give a whole number from 1 to 100."]}


@pytest.fixture(autouse=True)
def _no_hourly_limit(settings):
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 1000


@pytest.fixture
def api(client):
    return MemberApi(client, MemberFactory())


def open_many(member, count, *, step=timedelta(minutes=1)):
    """``count`` consultations of ``member``, one each ``step`` (all at once with a zero step),
    oldest first."""
    opened = []
    with clock.frozen_at(START):
        for n in range(count):
            opened.append(open_for_member(member, subject=f"相談 {n}"))
            if step:
                clock.advance(step)
    return opened


def follow(api, url, params=None) -> list[dict]:
    """Every page from ``url`` on, by the `next` links; the pages' items in order."""
    items, pages = [], 0
    response = api.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        page = response.json()
        items.extend(page["results"])
        pages += 1
        assert pages < 100
        if page["next"] is None:
            return items
        response = api.get(page["next"])


def test_the_list_comes_in_pages_of_20_newest_first(api):
    opened = open_many(api.member, 45)
    open_many(MemberFactory(), 3)

    first = api.get(LIST_URL).json()
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()

    assert [len(p["results"]) for p in (first, second, third)] == [20, 20, 5]
    assert first["previous"] is None and third["next"] is None
    listed = [c["id"] for p in (first, second, third) for c in p["results"]]
    assert listed == [str(c.pk) for c in reversed(opened)]
    back = api.get(third["previous"]).json()
    assert [c["id"] for c in back["results"]] == [c["id"] for c in second["results"]]


@pytest.mark.parametrize(("page_size", "expected"), [("1", 1), ("7", 7), ("100", 45)])
def test_a_page_size_from_1_to_100_is_taken(api, page_size, expected):
    open_many(api.member, 45)

    response = api.get(LIST_URL, {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == expected


# "²" passes str.isdigit() and then fails int(): it was a 500.
@pytest.mark.parametrize(
    "page_size", ["0", "-1", "101", "10000", "abc", "", "1.5", " 5", "0x10", "1e2", "²", "١٠"]
)
def test_a_bad_page_size_is_a_400_naming_it(api, page_size):
    open_many(api.member, 2)

    body = error_body(api.get(LIST_URL, {"page_size": page_size}), 400)

    assert body["errors"] == PAGE_SIZE_ERROR


# Not base64, not ASCII, an offset that is no number, and well-formed cursors whose position
# ("p=2026", "p=\0") is no time.
@pytest.mark.parametrize("cursor", ["nonsense", "cD3jgYI=", "//79", "bz1h", "cD0yMDI2", "cD0A"])
def test_an_unknown_cursor_is_a_400_naming_it(api, cursor):
    open_many(api.member, 2)

    body = error_body(api.get(LIST_URL, {"cursor": cursor}), 400)

    assert body["errors"] == {"cursor": ["This cursor is not valid: start again from the first page."]}


def test_consultations_opened_at_the_same_instant_are_each_listed_once(api):
    """Rows of one time came in a different order from one page's query to the next on
    PostgreSQL: some were listed twice, others never."""
    opened = open_many(api.member, 23, step=None)

    listed = follow(api, LIST_URL, {"page_size": "5"})

    assert sorted(c["id"] for c in listed) == sorted(str(c.pk) for c in opened)
    assert len(listed) == 23


def test_the_list_holds_only_the_callers_consultations_on_every_page(api):
    mine = open_many(api.member, 12)
    theirs = open_many(MemberFactory(), 12)

    listed = {c["id"] for c in follow(api, LIST_URL, {"page_size": "5"})}

    assert listed == {str(c.pk) for c in mine}
    assert not listed & {str(c.pk) for c in theirs}


@pytest.fixture
def of_each_status(api):
    opened = open_many(api.member, 6)
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    for consultation in opened[2:4]:
        services.staff_reply(consultation_id=consultation.pk, actor=staff, body="回答")
    for consultation in opened[4:]:
        services.consultation_close(consultation_id=consultation.pk, member=api.member)
    return {
        Status.OPEN: opened[:2],
        Status.ANSWERED: opened[2:4],
        Status.CLOSED: opened[4:],
        Status.AWAITING_CONFIRMATION: [],
    }


@pytest.mark.parametrize("status", Status.values)
def test_the_status_filter_lists_only_that_status_on_every_page(api, of_each_status, status):
    listed = follow(api, LIST_URL, {"status": status, "page_size": "1"})

    assert {c["id"] for c in listed} == {str(c.pk) for c in of_each_status[status]}
    assert {c["status"] for c in listed} <= {status}


@pytest.mark.parametrize("status", ["pending", "OPEN", "", "open,closed", "closed "])
def test_an_unknown_status_is_a_400_naming_it(api, of_each_status, status):
    body = error_body(api.get(LIST_URL, {"status": status}), 400)

    assert list(body["errors"]) == ["status"]
    assert "awaiting_confirmation, open, answered, closed" in body["errors"]["status"][0]


def test_oldest_first_on_request(api):
    opened = open_many(api.member, 25)

    listed = follow(api, LIST_URL, {"ordering": "created_at", "page_size": "10"})

    assert [c["id"] for c in listed] == [str(c.pk) for c in opened]


@pytest.mark.parametrize("ordering", ["updated_at", "-id", "subject", "", "created_at,-created_at"])
def test_an_unknown_ordering_is_a_400_naming_it(api, ordering):
    body = error_body(api.get(LIST_URL, {"ordering": ordering}), 400)

    assert body["errors"] == {"ordering": ["Use one of: -created_at, created_at."]}


def test_the_errors_speak_the_callers_language(client):
    from django.utils import translation

    api = MemberApi(client, MemberFactory(), language="ja")

    body = error_body(api.get(LIST_URL, {"page_size": "0"}), 400)

    with translation.override("ja"):
        expected = translation.gettext("Give a whole number from 1 to %(max)d.") % {"max": 100}
    assert body["errors"] == {"page_size": [expected]}


# --- queries ----------------------------------------------------------------------------------


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content
    return len(captured)


def test_a_page_costs_the_same_queries_for_one_consultation_or_a_hundred(api, django_assert_num_queries):
    open_many(api.member, 1)
    api.get(LIST_URL)  # the token's first use is written once
    one = queries(lambda: api.get(LIST_URL, {"page_size": "100"}))
    open_many(MemberFactory(), 1)
    open_many(api.member, 99)

    with django_assert_num_queries(one):
        response = api.get(LIST_URL, {"page_size": "100"})

    assert len(response.json()["results"]) == 100


def test_a_thread_costs_the_same_queries_for_one_message_or_many(api, django_assert_num_queries):
    consultation = open_for_member(api.member)
    api.get(detail_url(consultation.pk))
    one = queries(lambda: api.get(detail_url(consultation.pk)))
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    for n in range(5):
        services.staff_reply(
            consultation_id=consultation.pk, actor=staff, body=f"回答 {n}", files=[upload(f"{n}.pdf", PDF)]
        )
        services.requester_reply(
            consultation_id=consultation.pk, body=f"返信 {n}", files=[upload()], member=api.member
        )

    with django_assert_num_queries(one):
        response = api.get(detail_url(consultation.pk))

    messages = response.json()["messages"]
    assert len(messages) == 11
    assert sum(len(m["attachments"]) for m in messages) == 10
