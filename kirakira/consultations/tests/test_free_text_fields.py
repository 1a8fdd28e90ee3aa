"""A consultation's subject, messages and staff's internal notes refuse the invisible and
control characters a name refuses (a right-to-left override, zero-width characters, terminal
escapes), on the page and through the API alike; a family emoji is kept. Line breaks only in
messages, not in the one-line subject."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kirakira.api.testing import error_body
from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.consultations import services
from kirakira.consultations.models import Consultation, Message
from kirakira.consultations.testing import open_for_member, page

pytestmark = pytest.mark.django_db

NEW_EN = "/en/consultations/new/"
API = "/api/v1/consultations"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧
INVISIBLE = (
    "This text contains an invisible or control character ({}, character {}) that cannot be used. "
    "Delete it and try again."
)
ONE_LINE = "Write this on one line: line breaks cannot be used here."


def form(**overrides):
    data = {"category": "question", "subject": "納期について", "body": "いつ届きますか？"}
    data.update(overrides)
    return data


@pytest.fixture
def member(client):
    member = MemberFactory(language="en")
    client.force_login(member)
    return member


def api_post(client, member, url, data):
    token = client.post(
        "/api/v1/auth/token",
        {"login_id": member.login_id, "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    return client.post(
        url,
        json.dumps(data),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("subject", "返金\u202eについて", INVISIBLE.format("U+202E", 3)),
        ("subject", "\u200b納期", INVISIBLE.format("U+200B", 1)),
        ("subject", "一行目\r\n二行目", ONE_LINE),
        ("body", "よろしく\u200bお願いします", INVISIBLE.format("U+200B", 5)),
        ("body", "赤字\x1b[31mです", INVISIBLE.format("U+001B", 3)),
        ("body", "ひとり\u200dだけ", INVISIBLE.format("U+200D", 4)),
    ],
)
def test_the_page_refuses_hidden_characters_with_a_field_error_and_stores_nothing(
    client, member, field, value, error
):
    response = client.post(NEW_EN, form(**{field: value}))

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [error]
    assert error in page(response)
    assert not Consultation.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("subject", "返金\u202eについて", INVISIBLE.format("U+202E", 3)),
        ("body", "よろしく\u200bお願いします", INVISIBLE.format("U+200B", 5)),
    ],
)
def test_the_api_refuses_hidden_characters_by_field(client, member, field, value, error):
    response = api_post(client, member, API, form(**{field: value}))

    body = error_body(response, 400)
    assert body["errors"] == {field: [error]}
    assert not Consultation.objects.exists()


def test_a_family_emoji_and_line_breaks_are_kept(client, member):
    body = f"家族で撮った写真です{FAMILY}\r\nよろしくお願いします🙇‍♀️"

    response = client.post(NEW_EN, form(subject=f"家族写真{FAMILY}", body=body))

    assert response.status_code == 302
    consultation = Consultation.objects.get()
    assert consultation.subject == f"家族写真{FAMILY}"
    assert Message.objects.get().body == f"家族で撮った写真です{FAMILY}\nよろしくお願いします🙇‍♀️"


def test_a_reply_in_the_thread_is_checked_on_the_page_and_the_api(client, member):
    consultation = open_for_member(member)

    response = client.post(f"/en/consultations/{consultation.pk}/", {"body": "追記\u202e"})
    assert response.status_code == 400
    assert INVISIBLE.format("U+202E", 3) in page(response)

    api = api_post(client, member, f"{API}/{consultation.pk}/messages", {"body": "追記\u2066"})
    assert error_body(api, 400)["errors"] == {"body": [INVISIBLE.format("U+2066", 3)]}
    assert Message.objects.filter(consultation=consultation).count() == 1


def test_staff_internal_notes_refuse_hidden_characters(client):
    consultation = open_for_member()
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en")

    with pytest.raises(ValidationError) as refused:
        services.staff_reply(
            consultation_id=consultation.pk, actor=staff, body="メモ\u202e", internal=True
        )
    with translation.override("en"):
        assert refused.value.message_dict == {"body": [INVISIBLE.format("U+202E", 3)]}

    client.force_login(staff)
    response = client.post(
        f"/en/backoffice/consultations/consultation/{consultation.pk}/change/",
        {"action": "reply", "body": "メモ\u200b", "internal": "on"},
    )
    assert INVISIBLE.format("U+200B", 3) in page(response)
    assert Message.objects.filter(consultation=consultation).count() == 1


def test_a_visitors_name_refuses_hidden_characters(client):
    response = client.post(
        NEW_EN, {**form(), "name": "訪問\u202e花子", "email": "hanako@example.net"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [INVISIBLE.format("U+202E", 3)]
    assert not Consultation.objects.exists()
