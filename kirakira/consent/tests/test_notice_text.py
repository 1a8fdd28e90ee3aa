"""Staff notices, shown to every visitor, are held to the rules of all free text
(common/text.py): titles on one line, bodies with their line breaks as "\\n", no invisible or
control characters — with the same messages as everywhere, in the back-office form."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.consent.models import Audience, Notice

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
INVISIBLE = "This text contains an invisible or control character (%s, character %d) that cannot be used."
ONE_LINE = "Write this on one line: line breaks cannot be used here."
ADD = "/en/backoffice/consent/notice/add/"


def notice(**fields) -> Notice:
    values = {
        "title_ja": "年末年始のお知らせ",
        "body_ja": "12月29日から1月3日まで休業します。",
        "starts_at": NOW,
        "ends_at": NOW + timedelta(days=1),
        "audience": Audience.EVERYONE,
    }
    values.update(fields)
    return Notice(**values)


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"title_ja": "お知らせ\u202e"}, "title_ja", "invisible_character"),
        ({"title_en": "Year-end\nholidays"}, "title_en", "line_break"),
        ({"title_ko": "안내\u2028"}, "title_ko", "line_break"),
        ({"body_ja": "休業\u200bします"}, "body_ja", "invisible_character"),
        ({"body_en": "Closed\x1b[31m"}, "body_en", "invisible_character"),
    ],
)
def test_a_notice_refuses_what_every_free_text_refuses(fields, field, code):
    with pytest.raises(ValidationError) as refused:
        notice(**fields).full_clean()

    assert list(refused.value.error_dict) == [field]
    assert refused.value.error_dict[field][0].code == code


def test_a_body_keeps_its_line_breaks_as_newlines_and_emoji_sequences():
    item = notice(body_ja="休業します。\r\nよろしく👨\u200d👩\u200d👧", body_en="Closed.\rThanks")
    item.full_clean()

    assert item.body_ja == "休業します。\nよろしく👨\u200d👩\u200d👧"
    assert item.body_en == "Closed.\nThanks"


def form(**fields) -> dict:
    data = {
        "audience": "everyone",
        "starts_at_0": "2026-12-01",
        "starts_at_1": "12:00:00",
        "ends_at_0": "2026-12-02",
        "ends_at_1": "12:00:00",
        "title_ja": "年末年始のお知らせ",
        "body_ja": "休業します。",
        "title_en": "",
        "body_en": "",
        "title_ko": "",
        "body_ko": "",
    }
    data.update(fields)
    return data


def test_the_back_office_form_shows_the_same_messages_on_the_fields(client):
    client.force_login(StaffFactory(roles=[Role.ADMINISTRATOR]))
    with clock.frozen_at(NOW):
        response = client.post(ADD, form(title_en="Year-end\u202e", body_ko="휴무\u200b입니다"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"title_en", "body_ko"}
    page = response.content.decode()
    assert INVISIBLE % ("U+202E", 9) in page
    assert INVISIBLE % ("U+200B", 3) in page
    assert not Notice.objects.exists()


def test_the_back_office_stores_a_body_with_newlines(client):
    client.force_login(StaffFactory(roles=[Role.ADMINISTRATOR]))
    with clock.frozen_at(NOW):
        response = client.post(ADD, form(body_ja="休業します。\r\nよろしくお願いします。"))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Notice.objects.get().body_ja == "休業します。\nよろしくお願いします。"
