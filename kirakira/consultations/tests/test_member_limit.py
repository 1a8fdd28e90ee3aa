"""Members opening consultations are limited per hour, as visitors already were: on the page and
through the API, in one count (the service keeps it). Over the limit the API answers 429 with
Retry-After; the page keeps what was typed and says why."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as live_settings

from kirakira.api.testing import error_body
from kirakira.common import clock
from kirakira.common.testing import PASSWORD, MemberFactory
from kirakira.consultations.models import Consultation, Message
from kirakira.consultations.testing import page

pytestmark = pytest.mark.django_db

NEW_EN = "/en/consultations/new/"
API = "/api/v1/consultations"
START = datetime(2026, 7, 1, 0, 50, tzinfo=UTC)
LIMITED = (
    "You have opened many consultations in the last hour. Please write in one you have already "
    "opened, or try again later."
)


def form(n=0, **overrides):
    data = {"category": "question", "subject": f"納期について {n}", "body": f"いつ届きますか？ {n}"}
    data.update(overrides)
    return data


def api_headers(client, member) -> dict:
    response = client.post(
        "/api/v1/auth/token",
        {"login_id": member.login_id, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return {"Authorization": f"Bearer {response.json()['token']}", "Accept-Language": "en"}


def api_open(client, headers, n=0, **overrides):
    return client.post(API, json.dumps(form(n, **overrides)), content_type="application/json", headers=headers)


@pytest.fixture
def member(client):
    member = MemberFactory(language="en")
    client.force_login(member)
    return member


def test_the_default_is_ten_an_hour():
    assert live_settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR == 10


def test_a_member_over_the_limit_is_refused_on_the_page_and_keeps_what_was_typed(client, member, settings):
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 2
    for n in range(2):
        assert client.post(NEW_EN, form(n)).status_code == 302

    response = client.post(NEW_EN, form(3, subject="三つ目の件名", body="三つ目の本文"))

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    body = page(response)
    assert LIMITED in body
    assert 'value="三つ目の件名"' in body and "三つ目の本文" in body
    assert Consultation.objects.count() == 2
    assert Message.objects.count() == 2


def test_the_api_answers_429_json_with_retry_after(client, member, settings):
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 2
    headers = api_headers(client, member)
    with clock.frozen_at(START):
        for n in range(2):
            assert api_open(client, headers, n).status_code == 201
        clock.advance(timedelta(minutes=10))

        response = api_open(client, headers, 3)

    body = error_body(response, 429)
    assert body["message"].startswith(LIMITED)
    assert body["errors"] == {}
    assert int(response["Retry-After"]) == 50 * 60  # when the first of the two is an hour old
    assert Consultation.objects.count() == 2


def test_the_page_and_the_api_count_together(client, member, settings):
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 2
    headers = api_headers(client, member)

    assert client.post(NEW_EN, form(1)).status_code == 302
    assert api_open(client, headers, 2).status_code == 201

    error_body(api_open(client, headers, 3), 429)
    assert LIMITED in page(client.post(NEW_EN, form(4)))
    assert Consultation.objects.count() == 2


def test_the_limit_is_a_rolling_hour(client, member, settings):
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 1
    with clock.frozen_at(START):  # 00:50
        assert client.post(NEW_EN, form(1)).status_code == 302
        clock.advance(timedelta(minutes=20))  # 01:10: a new clock hour, not a new hour
        assert client.post(NEW_EN, form(2)).status_code == 429
        clock.advance(timedelta(minutes=41))  # 01:51: the first is over an hour old
        assert client.post(NEW_EN, form(3)).status_code == 302
    assert Consultation.objects.count() == 2


def test_refused_input_does_not_use_up_the_limit(client, member, settings):
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 1
    for _ in range(3):
        assert client.post(NEW_EN, form(body="")).status_code == 400

    assert client.post(NEW_EN, form(1)).status_code == 302


def test_each_member_has_a_limit_of_their_own(client, member, settings):
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 1
    assert client.post(NEW_EN, form(1)).status_code == 302
    assert client.post(NEW_EN, form(2)).status_code == 429

    client.force_login(MemberFactory(language="en"))
    assert client.post(NEW_EN, form(3)).status_code == 302
    assert Consultation.objects.count() == 2


def test_writing_in_an_open_consultation_is_not_limited(client, member, settings):
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 1
    assert client.post(NEW_EN, form(1)).status_code == 302
    consultation = Consultation.objects.get()

    for n in range(3):
        response = client.post(f"/en/consultations/{consultation.pk}/", {"body": f"追記 {n}"})
        assert response.status_code == 302
    assert Message.objects.filter(consultation=consultation).count() == 4
