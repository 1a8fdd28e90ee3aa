"""Policy versions (C11): published ahead, announced with a reason, shown with their
differences, acknowledged by members at login — checked on a controllable clock."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.privacy.models import PolicyAcknowledgement, PolicyVersion
from kirakira.privacy.policy import selectors, services

TOKYO = ZoneInfo("Asia/Tokyo")
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)


@pytest.fixture
def officer(db):
    return StaffFactory(roles=[Role.PRIVACY_OFFICER])


def publish(
    officer, effective_on, correction=False, reason="法令改正に対応するため", summary="保存期間の表を更新"
):
    return services.policy_version_publish(
        effective_on=effective_on,
        is_correction=correction,
        reason={"ja": reason, "en": "To follow a change in the law"},
        summary={"ja": summary},
        actor=officer,
    )


def test_publishing_freezes_the_policy_in_three_languages(officer):
    with clock.frozen_at(NOON):
        version = publish(officer, date(2026, 12, 8))
    assert version.number == 1
    assert "個人情報管理責任者" in version.snapshot_ja
    assert "Privacy officer" in version.snapshot_en
    assert "개인정보 보호책임자" in version.snapshot_ko
    assert version.published_by == officer
    assert len(version.cookies_digest) == 64


def test_effective_date_must_be_seven_days_ahead_unless_a_correction(officer):
    with clock.frozen_at(NOON):
        with pytest.raises(ValidationError) as excinfo:
            publish(officer, date(2026, 12, 7))
        assert "effective_on" in excinfo.value.message_dict
        assert PolicyVersion.objects.count() == 0
        correction = publish(officer, date(2026, 12, 2), correction=True)
    assert correction.is_correction


def test_an_effective_date_in_the_past_is_refused_even_for_a_correction(officer):
    with clock.frozen_at(NOON), translation.override("en"), pytest.raises(ValidationError) as excinfo:
        publish(officer, date(2026, 11, 30), correction=True)
    assert "cannot be in the past" in " ".join(excinfo.value.message_dict["effective_on"])
    assert not PolicyVersion.objects.exists()


def test_only_the_privacy_officer_may_publish(db):
    accountant = StaffFactory(roles=[Role.ACCOUNTING])
    with clock.frozen_at(NOON), pytest.raises(ValidationError):
        publish(accountant, date(2026, 12, 20))
    assert not PolicyVersion.objects.exists()


def test_a_reason_and_a_summary_are_required(officer):
    with clock.frozen_at(NOON), pytest.raises(ValidationError) as excinfo:
        publish(officer, date(2026, 12, 20), reason=" ", summary="")
    assert {"reason_ja", "summary_ja"} <= set(excinfo.value.message_dict)


def test_notice_shows_from_publication_until_thirty_days_after_the_effective_date(client, officer):
    with clock.frozen_at(NOON):
        publish(officer, date(2026, 12, 10), reason="サービス追加のため")
    days = {
        date(2026, 12, 1): True,  # published today: announced
        date(2026, 12, 9): True,  # the day before it applies
        date(2026, 12, 10): True,  # in effect
        date(2027, 1, 9): True,  # 30 days after
        date(2027, 1, 10): False,  # gone
    }
    for day, shown in days.items():
        with clock.frozen_at(datetime(day.year, day.month, day.day, 10, 0, tzinfo=TOKYO)):
            html = client.get("/").content.decode()
        assert ("サービス追加のため" in html) is shown, day
        assert ('href="/privacy/policy/changes/"' in html) is shown, day


def test_notice_says_will_change_before_and_changed_after(client, officer):
    with clock.frozen_at(NOON):
        publish(officer, date(2026, 12, 10))
        before = client.get("/en/").content.decode()
    with clock.frozen_at(datetime(2026, 12, 12, 9, 0, tzinfo=TOKYO)):
        after = client.get("/en/").content.decode()
    assert "will change on" in before
    assert "changed on" in after and "will change" not in after
    assert "To follow a change in the law" in after  # the English reason


def test_in_force_and_coming_versions_follow_the_clock(officer):
    with clock.frozen_at(NOON):
        first = publish(officer, date(2026, 12, 8))
        assert selectors.in_force() is None
        assert selectors.coming() == first
    with clock.frozen_at(datetime(2026, 12, 8, 0, 1, tzinfo=TOKYO)):
        second = publish(officer, date(2026, 12, 20))
        assert selectors.in_force() == first
        assert selectors.coming() == second
    with clock.frozen_at(datetime(2026, 12, 20, 0, 1, tzinfo=TOKYO)):
        assert selectors.in_force() == second
        assert selectors.coming() is None


def test_changes_page_shows_the_difference_between_current_and_coming(client, officer, settings):
    with clock.frozen_at(NOON):
        publish(officer, date(2026, 12, 8))
    settings.PRIVACY_OFFICER_EMAIL = "new-dpo@kirakira.example"
    with clock.frozen_at(datetime(2026, 12, 9, 9, 0, tzinfo=TOKYO)):
        publish(officer, date(2026, 12, 20), reason="責任者の連絡先変更")
        response = client.get("/privacy/policy/changes/", HTTP_ACCEPT_LANGUAGE="ja")
    html = response.content.decode()
    assert response.status_code == 200
    added = re.findall(r'<li class="diff-added"><ins>.*?</span>(.*?)</ins></li>', html)
    removed = re.findall(r'<li class="diff-removed"><del>.*?</span>(.*?)</del></li>', html)
    assert added == ["new-dpo@kirakira.example"]
    assert removed == ["privacy@kirakira.example"]
    assert "責任者の連絡先変更" in html


def test_changes_page_without_any_announcement(client, db):
    response = client.get(reverse("privacy:policy_changes"))
    assert response.status_code == 200


def test_a_published_version_is_shown_as_frozen(client, officer, settings):
    with clock.frozen_at(NOON):
        version = publish(officer, date(2026, 12, 8))
    settings.PRIVACY_OFFICER_NAME = "Someone Else"
    html = client.get(reverse("privacy:policy_version", args=[version.number])).content.decode()
    assert "木村 誠" in html and "Someone Else" not in html
    assert client.get(reverse("privacy:policy_version", args=[99])).status_code == 404


def test_version_history_is_listed_on_the_policy_page(client, officer):
    with clock.frozen_at(NOON):
        publish(officer, date(2026, 12, 8), reason="初版の公開")
    html = client.get("/privacy/policy/").content.decode()
    assert "初版の公開" in html
    assert 'href="/privacy/policy/v1/"' in html


def test_member_login_records_the_version_in_force(client, officer):
    member = MemberFactory(login_id="ackmember")
    with clock.frozen_at(NOON):
        publish(officer, date(2026, 12, 8))
    with clock.frozen_at(datetime(2026, 12, 5, 9, 0, tzinfo=TOKYO)):
        client.post(reverse("accounts:login"), {"username": "ackmember", "password": PASSWORD})
        assert not PolicyAcknowledgement.objects.exists()  # nothing in force yet
        client.post(reverse("accounts:logout"))
    with clock.frozen_at(datetime(2026, 12, 9, 9, 0, tzinfo=TOKYO)):
        response = client.post(reverse("accounts:login"), {"username": "ackmember", "password": PASSWORD})
        assert response.status_code == 302
    acknowledgement = PolicyAcknowledgement.objects.get(member=member)
    assert acknowledgement.version.number == 1
    with clock.frozen_at(datetime(2026, 12, 9, 9, 5, tzinfo=TOKYO)):
        page = client.get("/en/accounts/mypage/").content.decode()
    assert "You last saw version 1 of the privacy policy" in page


def test_publishing_through_the_back_office(client, officer):
    client.force_login(officer)
    with clock.frozen_at(NOON):
        refused = client.post(
            "/backoffice/privacy/policyversion/add/",
            {"effective_on": "2026-12-03", "reason_ja": "理由", "summary_ja": "概要"},
        )
        assert refused.status_code == 200
        assert not PolicyVersion.objects.exists()
        accepted = client.post(
            "/backoffice/privacy/policyversion/add/",
            {"effective_on": "2026-12-15", "reason_ja": "理由", "summary_ja": "概要"},
        )
    assert accepted.status_code == 302, accepted.content.decode()[:2000]
    assert PolicyVersion.objects.get().published_by == officer


def test_other_roles_cannot_publish_through_the_back_office(client, db):
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    client.force_login(staff)
    response = client.post(
        "/backoffice/privacy/policyversion/add/",
        {"effective_on": "2027-01-15", "reason_ja": "x", "summary_ja": "y"},
    )
    assert response.status_code == 403
    assert not PolicyVersion.objects.exists()


def test_time_zone_decides_the_day(officer):
    # 23:30 UTC on 30 November is already 1 December in Tokyo.
    with clock.frozen_at(datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("UTC"))):
        assert selectors.today() == date(2026, 12, 1)
        publish(officer, date(2026, 12, 1) + timedelta(days=7))
