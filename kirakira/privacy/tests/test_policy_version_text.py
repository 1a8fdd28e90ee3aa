"""A policy version's reasons and summaries, which every visitor reads, are held to the rules of
all free text (common/text.py): no invisible or control characters, line breaks kept as "\\n" —
in the service and, with the same messages, in the back-office form."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.privacy.models import PolicyVersion
from kirakira.privacy.policy import services

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
EFFECTIVE = date(2026, 12, 15)
INVISIBLE = "This text contains an invisible or control character (%s, character %d) that cannot be used."


@pytest.fixture
def officer():
    return StaffFactory(roles=[Role.PRIVACY_OFFICER])


def publish(officer, *, reason, summary):
    with clock.frozen_at(NOON):
        return services.policy_version_publish(
            effective_on=EFFECTIVE, reason=reason, summary=summary, actor=officer
        )


@pytest.mark.parametrize(
    ("reason", "summary", "field", "code"),
    [
        ({"ja": "法令\u202e改正"}, {"ja": "概要"}, "reason_ja", "invisible_character"),
        ({"ja": "理由", "en": "Law\u200bchange"}, {"ja": "概要"}, "reason_en", "invisible_character"),
        ({"ja": "理由"}, {"ja": "概要", "ko": "요약\x07"}, "summary_ko", "invisible_character"),
        ({"ja": "理由", "ko": "이유\u2028다음"}, {"ja": "概要"}, "reason_ko", "invisible_character"),
    ],
)
def test_invisible_and_control_characters_are_refused_by_field(officer, reason, summary, field, code):
    with pytest.raises(ValidationError) as refused:
        publish(officer, reason=reason, summary=summary)

    assert list(refused.value.error_dict) == [field]
    assert refused.value.error_dict[field][0].code == code
    assert not PolicyVersion.objects.exists()


def test_line_breaks_are_kept_as_newlines(officer):
    version = publish(
        officer,
        reason={"ja": "法令改正\r\n保存期間の変更\r\n", "en": "Law\rchange"},
        summary={"ja": "一\n\t二", "ko": " 요약 "},
    )

    assert version.reason_ja == "法令改正\n保存期間の変更"
    assert version.reason_en == "Law\nchange"
    assert version.summary_ja == "一\n\t二"
    assert version.summary_ko == "요약"


def test_the_back_office_form_shows_the_same_message_on_the_field(client, officer):
    client.force_login(officer)
    with clock.frozen_at(NOON):
        response = client.post(
            "/en/backoffice/privacy/policyversion/add/",
            {"effective_on": "2026-12-15", "reason_ja": "理由", "reason_ko": "이\u202e유", "summary_ja": "概要"},
        )

    assert response.status_code == 200
    assert INVISIBLE % ("U+202E", 2) in response.content.decode()
    assert "reason_ko" in response.context["adminform"].form.errors
    assert not PolicyVersion.objects.exists()
