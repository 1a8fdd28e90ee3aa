"""Popups (C8, C11): staff notices by time and audience, and "don't show again" remembered only
in the preferences cookie, only with consent."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consent.models import Audience, Notice
from kirakira.consent.testing import ORIGIN, choose, dismiss, prefs_of
from kirakira.privacy.policy import services as policy_services

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


def make_notice(**fields) -> Notice:
    values = {
        "title_ja": "年末年始のお知らせ",
        "title_en": "Year-end holidays",
        "title_ko": "연말연시 안내",
        "body_ja": "12月29日から1月3日まで休業します。",
        "body_en": "We are closed from 29 December to 3 January.",
        "body_ko": "12월 29일부터 1월 3일까지 휴무입니다.",
        "starts_at": NOW - timedelta(days=1),
        "ends_at": NOW + timedelta(days=1),
        "audience": Audience.EVERYONE,
    }
    values.update(fields)
    return Notice.objects.create(**values)


def popup_keys(response) -> list[str]:
    import re

    return re.findall(r'data-popup="([^"]+)"', response.content.decode())


@pytest.mark.parametrize(
    ("prefix", "title"), [("", "年末年始のお知らせ"), ("/en", "Year-end holidays"), ("/ko", "연말연시 안내")]
)
def test_a_notice_shows_as_a_popup_in_the_pages_language(client, prefix, title):
    notice = make_notice()
    html = client.get(f"{prefix}/").content.decode()
    assert f'<dialog open class="popup" aria-labelledby="popup-n{notice.pk}-title"' in html
    assert title in html


def test_a_missing_translation_falls_back_to_japanese(client):
    make_notice(title_en="", body_en="")
    assert "年末年始のお知らせ" in client.get("/en/").content.decode()


def test_a_notice_shows_only_between_its_start_and_end(client):
    make_notice(starts_at=NOW + timedelta(minutes=1), ends_at=NOW + timedelta(days=1))
    make_notice(starts_at=NOW - timedelta(days=2), ends_at=NOW - timedelta(minutes=1))
    assert popup_keys(client.get("/")) == []


@pytest.mark.parametrize(
    ("audience", "visitor", "member"),
    [(Audience.EVERYONE, True, True), (Audience.MEMBERS, False, True), (Audience.VISITORS, True, False)],
)
def test_the_audience_decides_who_sees_a_notice(client, audience, visitor, member):
    notice = make_notice(audience=audience)
    assert (f"n{notice.pk}" in popup_keys(client.get("/"))) is visitor
    client.force_login(MemberFactory())
    assert (f"n{notice.pk}" in popup_keys(client.get("/"))) is member


def test_a_notice_must_end_after_it_starts():
    notice = Notice(title_ja="t", body_ja="b", starts_at=NOW, ends_at=NOW)
    with pytest.raises(ValidationError):
        notice.full_clean()


def test_with_consent_dont_show_again_is_remembered(client):
    notice = make_notice()
    choose(client, "accept")
    assert "Don't show again" in client.get("/en/").content.decode()

    response = dismiss(client, f"n{notice.pk}", next_path="/en/")

    assert response.status_code == 303
    assert prefs_of(client) == {"n": [f"n{notice.pk}"]}
    assert popup_keys(client.get("/")) == []


def test_without_consent_there_is_no_dont_show_again_and_the_popup_comes_back(client):
    notice = make_notice()
    html = client.get("/en/").content.decode()
    assert "Don't show again" not in html
    assert '<form method="dialog">' in html  # closing works in the page, without script or cookie

    response = dismiss(client, f"n{notice.pk}")

    assert not response.cookies
    assert popup_keys(client.get("/")) == [f"n{notice.pk}"]


def test_after_refusing_dismissals_are_forgotten(client):
    notice = make_notice()
    choose(client, "accept")
    dismiss(client, f"n{notice.pk}")
    choose(client, "refuse")
    assert popup_keys(client.get("/")) == [f"n{notice.pk}"]


def test_a_cross_site_dismissal_is_refused(client):
    notice = make_notice()
    choose(client, "accept")
    response = client.post(
        "/consent/notices/dismiss/", {"key": f"n{notice.pk}"}, HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403
    assert prefs_of(client) is None


@pytest.mark.parametrize("key", ["", "x1", "n", "n1234567890", "<b>", "p1; n2"])
def test_a_malformed_dismissal_is_ignored(client, key):
    choose(client, "accept")
    response = client.post("/consent/notices/dismiss/", {"key": key}, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 303
    assert prefs_of(client) is None


def test_the_policy_change_notice_is_a_popup_that_can_be_dismissed(client):
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    version = policy_services.policy_version_publish(
        effective_on=date(2026, 12, 10),
        reason={"ja": "サービス追加のため"},
        summary={"ja": "要約"},
        actor=officer,
    )
    html = client.get("/").content.decode()
    assert f'data-popup="p{version.number}"' in html
    assert "サービス追加のため" in html
    assert 'href="/privacy/policy/changes/"' in html

    choose(client, "accept")
    dismiss(client, f"p{version.number}")

    assert popup_keys(client.get("/")) == []


def test_popups_cost_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    for n in range(5):
        make_notice(title_ja=f"お知らせ{n}")
    choose(client, "accept")
    # Services, the policy in force (for the consent check), the policy-change notice, the
    # terms-change notice, the notices.
    with django_assert_max_num_queries(5):
        response = client.get("/")
    assert len(popup_keys(response)) == 5


def test_staff_roles_that_publish_notices(client):
    for role, allowed in [
        (Role.CUSTOMER_SERVICE, True),
        (Role.ADMINISTRATOR, True),
        (Role.ACCOUNTING, False),
    ]:
        staff = StaffFactory(roles=[role])
        assert staff.has_perm("consent.add_notice") is allowed, role
        assert staff.has_perm("consent.view_consentrecord") is False, role
    assert StaffFactory(roles=[Role.PRIVACY_OFFICER]).has_perm("consent.view_consentrecord")


def test_the_demo_notice_loads_once(client):
    from kirakira.consent.demo import load_demo_notice

    assert load_demo_notice() is True
    assert load_demo_notice() is False
    assert "Opening hours over the New Year" in client.get("/en/").content.decode()
