"""Closing and reopening a consultation through the API (issue 11, section 5), as on its page:
the member closes an open or answered one, and reopens a closed one within 30 days of its
closing; then they can write in it again. Another member's is a 404 and stays as it was."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from kirakira.api.testing import error_body
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory, at_once
from kirakira.consultations import services
from kirakira.consultations.models import REOPEN_DAYS, Consultation, Message, Status
from kirakira.consultations.testing import open_for_member

from .api_client import LIST_URL, MemberApi, close_url, detail_url, messages_url, reopen_url

pytestmark = pytest.mark.django_db

START = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)
TOO_LATE = "A consultation can be reopened only within 30 days of closing. Please open a new one."


@pytest.fixture
def api(client):
    return MemberApi(client, MemberFactory())


def status_of(consultation) -> str:
    return Consultation.objects.get(pk=consultation.pk).status


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_member_closes_a_consultation_and_is_told_until_when_it_can_be_reopened(api):
    consultation = open_for_member(api.member)

    with clock.frozen_at(START):
        response = api.post(close_url(consultation.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"]) == (str(consultation.pk), "closed")
    assert moment(body["closed_at"]) == START
    assert moment(body["reopen_until"]) == START + timedelta(days=REOPEN_DAYS)
    assert [m["body"] for m in body["messages"]] == ["いつ頃仕上がりますか？"]
    assert status_of(consultation) == Status.CLOSED


def test_an_answered_consultation_can_be_closed(api):
    consultation = open_for_member(api.member)
    services.staff_reply(
        consultation_id=consultation.pk, actor=StaffFactory(roles=[Role.CUSTOMER_SERVICE]), body="回答"
    )

    assert api.post(close_url(consultation.pk)).status_code == 200
    assert status_of(consultation) == Status.CLOSED


def test_a_closed_consultation_cannot_be_closed_again(api):
    consultation = open_for_member(api.member)
    with clock.frozen_at(START):
        services.consultation_close(consultation_id=consultation.pk, member=api.member)

    body = error_body(api.post(close_url(consultation.pk)), 400)

    assert body["errors"] == {"non_field_errors": ["This consultation cannot be closed now."]}
    assert Consultation.objects.get(pk=consultation.pk).closed_at == START


def test_the_member_reopens_within_30_days_and_writes_again(api):
    consultation = open_for_member(api.member)
    with clock.frozen_at(START):
        services.consultation_close(consultation_id=consultation.pk, member=api.member)
        clock.advance(timedelta(days=REOPEN_DAYS) - timedelta(seconds=1))
        response = api.post(reopen_url(consultation.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["closed_at"], body["reopen_until"]) == ("open", None, None)
    written = api.post(messages_url(consultation.pk), {"body": "もう一つ質問があります"})
    assert written.status_code == 201, written.content
    assert status_of(consultation) == Status.OPEN


def test_a_consultation_closed_more_than_30_days_ago_stays_closed(api):
    consultation = open_for_member(api.member)
    with clock.frozen_at(START):
        services.consultation_close(consultation_id=consultation.pk, member=api.member)
        clock.advance(timedelta(days=REOPEN_DAYS))
        response = api.post(reopen_url(consultation.pk))

    assert error_body(response, 400)["errors"] == {"non_field_errors": [TOO_LATE]}
    assert status_of(consultation) == Status.CLOSED


def test_a_consultation_closed_by_staff_or_for_being_idle_can_be_reopened(api, settings):
    by_staff = open_for_member(api.member)
    idle = open_for_member(api.member)
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    services.consultation_close(consultation_id=by_staff.pk, actor=staff)
    with clock.frozen_at(START):
        services.staff_reply(consultation_id=idle.pk, actor=staff, body="回答")
        clock.advance(timedelta(days=settings.CONSULTATION_IDLE_CLOSE_DAYS + 1))
        assert services.close_idle() == 1
        assert api.post(reopen_url(idle.pk)).status_code == 200

    assert api.post(reopen_url(by_staff.pk)).status_code == 200
    assert {status_of(by_staff), status_of(idle)} == {Status.OPEN}


def test_an_open_consultation_is_not_reopened(api):
    consultation = open_for_member(api.member)

    body = error_body(api.post(reopen_url(consultation.pk)), 400)

    assert body["errors"] == {"non_field_errors": ["This consultation is not closed."]}


def test_another_members_consultation_is_404_and_unchanged(api):
    open_one = open_for_member(MemberFactory())
    closed_one = open_for_member(MemberFactory())
    services.consultation_close(consultation_id=closed_one.pk, member=closed_one.member)

    error_body(api.post(close_url(open_one.pk)), 404)
    error_body(api.post(reopen_url(closed_one.pk)), 404)

    assert (status_of(open_one), status_of(closed_one)) == (Status.OPEN, Status.CLOSED)


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_or_malformed_id_is_404(api, bad_id):
    error_body(api.post(close_url(bad_id)), 404)
    error_body(api.post(reopen_url(bad_id)), 404)


def test_closing_and_reopening_need_a_token(client):
    consultation = open_for_member()

    error_body(client.post(close_url(consultation.pk), content_type="application/json"), 401)
    error_body(client.post(reopen_url(consultation.pk), content_type="application/json"), 401)
    assert status_of(consultation) == Status.OPEN


def test_an_empty_json_object_is_no_input(api):
    consultation = open_for_member(api.member)

    assert api.post(close_url(consultation.pk), {}).status_code == 200
    assert api.post(reopen_url(consultation.pk), {}).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[" * 100 + "]" * 100, "application/json", 400),
        ("x", "text/plain", 415),
    ],
)
def test_a_body_that_cannot_be_read_is_refused_and_nothing_changes(api, body, content_type, status):
    consultation = open_for_member(api.member)

    response = api.client.post(
        close_url(consultation.pk), body, content_type=content_type, headers=api.headers
    )

    error_body(response, status)
    assert status_of(consultation) == Status.OPEN


def test_the_list_shows_until_when_a_closed_one_can_be_reopened(api):
    consultation = open_for_member(api.member)
    with clock.frozen_at(START):
        api.post(close_url(consultation.pk))

    listed = api.get(LIST_URL, {"status": "closed"}).json()["results"]

    until = START + timedelta(days=REOPEN_DAYS)
    assert [(c["id"], moment(c["reopen_until"])) for c in listed] == [(str(consultation.pk), until)]
    assert moment(api.get(detail_url(consultation.pk)).json()["reopen_until"]) == until


@pytest.mark.django_db(transaction=True)
def test_two_closes_at_once_close_it_once():
    member = MemberFactory()
    consultation = open_for_member(member)
    apis = [MemberApi(Client(), member) for _ in range(2)]

    responses = at_once(*[lambda api=api: api.post(close_url(consultation.pk)) for api in apis])

    assert sorted(r.status_code for r in responses) == [200, 400], responses
    assert status_of(consultation) == Status.CLOSED


@pytest.mark.django_db(transaction=True)
def test_a_message_racing_a_close_is_either_written_before_it_or_refused():
    member = MemberFactory()
    consultation = open_for_member(member)
    closer, writer = MemberApi(Client(), member), MemberApi(Client(), member)

    closing, writing = at_once(
        lambda: closer.post(close_url(consultation.pk)),
        lambda: writer.post(messages_url(consultation.pk), {"body": "閉じる前に一言"}),
    )

    assert closing.status_code == 200, closing.content
    assert writing.status_code in (201, 400), writing.content
    messages = Message.objects.filter(consultation=consultation).count()
    assert messages == (2 if writing.status_code == 201 else 1)
    assert status_of(consultation) == Status.CLOSED
