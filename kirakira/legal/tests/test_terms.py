"""The terms of service (利用規約) at /legal/terms/: generated from the settings and rules the code
applies, versioned like the privacy policy (published ahead with a reason, announced, shown with
their differences), agreed to at registration (page and API), asked again once a new version
applies, and every agreement recorded with its version — on a controllable clock."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from kirakira.api.testing import error_body
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.legal import services
from kirakira.legal.models import TermsAgreement, TermsVersion
from kirakira.orders.testing import make_service

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)


def text(response) -> str:
    body = response.content.decode()
    body = body[body.index("<main") : body.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.fixture
def administrator():
    return StaffFactory(roles=[Role.ADMINISTRATOR])


def publish(actor, effective_on, *, correction=False, reason="決済方法の変更のため", summary="第4条を変更"):
    return services.terms_version_publish(
        effective_on=effective_on,
        is_correction=correction,
        reason={"ja": reason, "en": "To change how payments work", "ko": "결제 방법 변경을 위해"},
        summary={"ja": summary},
        actor=actor,
    )


def agreed_member(**kwargs):
    member = MemberFactory(**kwargs)
    services.terms_agree(member=member, channel=TermsAgreement.Channel.REGISTRATION)
    return member


# --- the page ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "title", "article", "payment"),
    [
        ("", "利用規約", "第4条（お支払い）", "ご注文から10日以内"),
        ("/en", "Terms of service", "Article 4 (Payment)", "within 10 days of ordering"),
        ("/ko", "이용약관", "제4조(결제)", "주문일로부터 10일 이내"),
    ],
)
def test_the_terms_page_states_the_rules_the_code_applies_in_three_languages(
    settings, prefix, title, article, payment
):
    settings.ORDER_PAYMENT_DAYS = 10
    settings.SERVICE_START_BUSINESS_DAYS = 4
    response = Client().get(f"{prefix}/legal/terms/")
    assert response.status_code == 200
    page = text(response)
    assert title in page
    assert article in page
    assert payment in page
    assert "4" in page
    # Before any version exists the page says so, rather than inventing a number.
    assert "v1" not in page


def test_the_terms_page_is_linked_from_every_footer_and_the_registration_page(client):
    assert 'href="/legal/terms/"' in client.get("/").content.decode()
    assert 'href="/legal/terms/"' in client.get("/accounts/register/").content.decode()
    assert 'href="/en/legal/terms/"' in client.get("/en/accounts/register/").content.decode()


# --- registration ------------------------------------------------------------------------------------


def registration(**overrides):
    return {
        "login_id": "hanako01",
        "name": "山田 花子",
        "email": "hanako@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "accept_terms": "on",
        **overrides,
    }


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("", "会員登録には利用規約への同意が必要です。"),
        ("/en", "Agree to the terms of service to register."),
        ("/ko", "회원가입하려면 이용약관에 동의해 주세요."),
    ],
)
def test_registration_without_agreeing_is_refused_with_every_other_error(client, prefix, message):
    data = registration(login_id="a", accept_terms="")
    del data["accept_terms"]
    response = client.post(f"{prefix}/accounts/register/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'id="id_login_id"' in page and "aria-invalid" in page
    assert not TermsAgreement.objects.exists()
    assert not TermsVersion.objects.exists()


def test_registering_on_the_page_records_the_agreement_to_the_first_version(
    client, django_capture_on_commit_callbacks
):
    with clock.frozen_at(NOON), django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/register/", registration())
    assert response.status_code == 302
    agreement = TermsAgreement.objects.get()
    assert agreement.member.login_id == "hanako01"
    assert agreement.channel == TermsAgreement.Channel.REGISTRATION
    assert agreement.agreed_at == NOON
    version = agreement.version
    assert (version.number, version.effective_on, version.published_by) == (1, date(2026, 12, 1), None)
    assert "第4条（お支払い）" in version.snapshot_ja
    assert "Article 4 (Payment)" in version.snapshot_en
    assert "제4조(결제)" in version.snapshot_ko


@pytest.mark.parametrize("value", [False, "true", 1, None])
def test_the_api_registers_only_with_accept_terms_true(client, value):
    body = {
        "login_id": "hanako01",
        "name": "山田 花子",
        "email": "hanako@example.com",
        "password": PASSWORD,
        "accept_terms": value,
    }
    response = client.post(
        "/api/v1/auth/register", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    errors = error_body(response, 400)["errors"]
    assert list(errors) == ["accept_terms"]
    assert not TermsAgreement.objects.exists()

    body["accept_terms"] = True
    response = client.post("/api/v1/auth/register", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert TermsAgreement.objects.get().channel == TermsAgreement.Channel.REGISTRATION


# --- publishing a new version ------------------------------------------------------------------------


def test_a_version_is_announced_at_least_seven_days_ahead_unless_a_correction(administrator):
    with clock.frozen_at(NOON):
        with pytest.raises(ValidationError) as excinfo:
            publish(administrator, date(2026, 12, 7))
        assert "effective_on" in excinfo.value.message_dict
        with pytest.raises(ValidationError) as excinfo:
            publish(administrator, date(2026, 12, 20), reason=" ", summary="")
        assert {"reason_ja", "summary_ja"} <= set(excinfo.value.message_dict)
        assert not TermsVersion.objects.exists()
        correction = publish(administrator, date(2026, 12, 1), correction=True)
    assert correction.is_correction and correction.number == 1


def test_only_an_administrator_may_publish(db):
    for role in (Role.ACCOUNTING, Role.CUSTOMER_SERVICE, Role.PRIVACY_STAFF):
        with clock.frozen_at(NOON), pytest.raises(ValidationError):
            publish(StaffFactory(roles=[role]), date(2026, 12, 20))
    assert not TermsVersion.objects.exists()


def test_publishing_announces_the_change_on_every_page_until_thirty_days_after(administrator):
    with clock.frozen_at(NOON):
        services.first_version()  # the first version announces no change
        assert "利用規約" not in Client().get("/").content.decode().split("<footer")[0]
        publish(administrator, date(2026, 12, 10))
        english = Client().get("/en/").content.decode()
    assert "Our terms of service will change on Dec. 10, 2026." in english
    assert "To change how payments work" in english
    assert 'href="/en/legal/terms/changes/"' in english
    days = {
        date(2026, 12, 1): "利用規約を2026年12月10日に改定します。",
        date(2026, 12, 10): "利用規約を2026年12月10日に改定しました。",
        date(2027, 1, 9): "利用規約を2026年12月10日に改定しました。",
        date(2027, 1, 10): None,
    }
    for day, headline in days.items():
        with clock.frozen_at(datetime(day.year, day.month, day.day, 10, 0, tzinfo=TOKYO)):
            html = Client().get("/").content.decode()
        if headline is None:
            assert "利用規約を2026年12月10日" not in html, day
        else:
            assert f"{headline}決済方法の変更のため" in html, day  # no space after 。
            assert 'href="/legal/terms/changes/"' in html, day


def test_the_changes_page_shows_what_a_change_of_settings_changed(administrator, settings):
    settings.ORDER_PAYMENT_DAYS = 7
    with clock.frozen_at(NOON):
        services.first_version()
        settings.ORDER_PAYMENT_DAYS = 10
        publish(administrator, date(2026, 12, 10))
        page = text(Client().get("/en/legal/terms/changes/"))
    assert "Differences between version 1 and version 2, which takes effect on Dec. 10, 2026." in page
    assert "removed: Pay by bank transfer to the account shown on the order page within 7 days" in page
    assert "added: Pay by bank transfer to the account shown on the order page within 10 days" in page
    assert "To change how payments work" in page


def test_the_page_shows_the_version_in_force_and_each_version_as_frozen(administrator, settings):
    settings.ORDER_PAYMENT_DAYS = 7
    with clock.frozen_at(NOON):
        services.first_version()
        settings.ORDER_PAYMENT_DAYS = 10
        publish(administrator, date(2026, 12, 10))
        before = text(Client().get("/en/legal/terms/"))
    assert "Version 1, in effect since Dec. 1, 2026." in before
    assert "within 7 days of ordering" in before  # the version in force, not the live settings
    assert "Version 2 takes effect on Dec. 10, 2026" in before
    with clock.frozen_at(datetime(2026, 12, 10, 9, 0, tzinfo=TOKYO)):
        after = text(Client().get("/en/legal/terms/"))
        first = text(Client().get("/en/legal/terms/v1/"))
        assert Client().get("/en/legal/terms/v3/").status_code == 404
    assert "Version 2, in effect since Dec. 10, 2026." in after
    assert "within 10 days of ordering" in after
    assert "within 7 days of ordering" in first


# --- asked again when a new version applies ----------------------------------------------------------


def test_a_member_is_asked_to_agree_once_a_new_version_applies(administrator):
    with clock.frozen_at(NOON):
        member = agreed_member()
        publish(administrator, date(2026, 12, 10))
        client = Client()
        client.force_login(member)
        # Announced, not yet in force: nothing is asked.
        assert client.get("/orders/").status_code == 200
    with clock.frozen_at(datetime(2026, 12, 10, 9, 0, tzinfo=TOKYO)):
        for path in ("/accounts/mypage/", "/orders/", "/en/orders/"):
            response = client.get(path)
            assert response.status_code == 302, path
            assert response["Location"].endswith(f"/legal/terms/agree/?next={path.replace('/', '%2F')}")
        # The pages of the member's rights, orders and consultations stay open.
        for path in ("/privacy/policy/", "/privacy/my-data/", "/consultations/", "/accounts/withdraw/"):
            assert client.get(path).status_code == 200, path

        page = client.get("/en/legal/terms/agree/?next=/en/orders/")
        assert page.status_code == 200
        assert "The terms of service changed on Dec. 10, 2026 (version 2; you agreed to version 1)." in text(
            page
        )
        refused = client.post("/en/legal/terms/agree/", {"version": "2", "next": "/en/orders/"})
        assert refused.status_code == 400
        assert "Tick the box to agree to the terms of service." in text(refused)

        agreed = client.post(
            "/en/legal/terms/agree/", {"agree": "yes", "version": "2", "next": "/en/orders/"}
        )
        assert agreed.status_code == 302 and agreed["Location"] == "/en/orders/"
        assert client.get("/accounts/mypage/").status_code == 200
    latest = TermsAgreement.objects.filter(member=member).order_by("-version__number").first()
    assert (latest.version.number, latest.channel) == (2, TermsAgreement.Channel.PAGE)


@pytest.mark.parametrize(
    ("prefix", "asked", "box", "button"),
    [
        (
            "",
            "利用規約を2026年12月10日に改定しました（第2版。お客様が同意されたのは第1版です）。",
            "利用規約を読み、同意します。",
            "同意して続ける",
        ),
        (
            "/en",
            "The terms of service changed on Dec. 10, 2026 (version 2; you agreed to version 1).",
            "I have read the terms of service and agree to them.",
            "Agree and continue",
        ),
        (
            "/ko",
            "이용약관이 2026년 12월 10일에 개정되었습니다(제2판, 고객님께서 동의하신 것은 제1판입니다).",
            "이용약관을 읽었으며 이에 동의합니다.",
            "동의하고 계속하기",
        ),
    ],
)
def test_the_agreement_page_in_three_languages(administrator, prefix, asked, box, button):
    with clock.frozen_at(NOON):
        member = agreed_member()
        publish(administrator, date(2026, 12, 10))
    with clock.frozen_at(datetime(2026, 12, 10, 9, 0, tzinfo=TOKYO)):
        client = Client()
        client.force_login(member)
        page = text(client.get(f"{prefix}/legal/terms/agree/"))
    for expected in (asked, box, button):
        assert expected in page


def test_the_agreement_page_never_sends_a_member_to_another_site(administrator):
    with clock.frozen_at(NOON):
        member = agreed_member()
        client = Client()
        client.force_login(member)
        response = client.post(
            "/legal/terms/agree/", {"agree": "yes", "version": "1", "next": "https://evil.example/"}
        )
    assert response.status_code == 302
    assert response["Location"] == "/orders/"


def test_agreeing_to_a_version_no_longer_in_force_is_refused(administrator):
    with clock.frozen_at(NOON):
        member = agreed_member()
        publish(administrator, date(2026, 12, 10))
    with clock.frozen_at(datetime(2026, 12, 10, 9, 0, tzinfo=TOKYO)):
        client = Client()
        client.force_login(member)
        response = client.post("/en/legal/terms/agree/", {"agree": "yes", "version": "1"})
    assert response.status_code == 400
    assert "Version 2 of the terms is in force now: read it and agree to it." in text(response)
    assert not TermsAgreement.objects.filter(version__number=2).exists()


def order_body(service):
    return {
        "service": service.pk,
        "sns_platform": "instagram",
        "sns_account_id": "hanako_shop",
        "photo_links": ["https://example.com/1.jpg"],
        "phone": "090-1111-2222",
    }


def test_the_api_tells_the_member_and_refuses_an_order_until_they_agree(administrator):
    service = make_service(photo_link_count=1)
    with clock.frozen_at(NOON):
        member = agreed_member()
        publish(administrator, date(2026, 12, 10))
    client = Client()
    api = {"content_type": "application/json"}
    from knox.models import AuthToken

    _token, key = AuthToken.objects.create(user=member)
    api["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    with clock.frozen_at(datetime(2026, 12, 10, 9, 0, tzinfo=TOKYO)):
        public = Client().get("/api/v1/terms").json()
        assert public["in_force"] == {"version": 2, "effective_on": "2026-12-10", "url": "/legal/terms/v2/"}
        assert public["coming"] is None
        mine = client.get("/api/v1/terms/agreement", **api).json()
        assert (mine["in_force"], mine["agreed"]) == (2, False)
        assert [a["version"] for a in mine["agreements"]] == [1]

        refused = client.post("/api/v1/orders", order_body(service), **api)
        assert error_body(refused, 403)["message"].startswith("利用規約が改定されました。")

        stale = client.post("/api/v1/terms/agreement", {"version": 1}, **api)
        assert "version" in error_body(stale, 400)["errors"]
        agreed = client.post("/api/v1/terms/agreement", {"version": 2}, **api)
        assert agreed.status_code == 201
        assert agreed.json()["version"] == 2 and agreed.json()["channel"] == "api"
        assert client.get("/api/v1/terms/agreement", **api).json()["agreed"] is True

        placed = client.post("/api/v1/orders", order_body(service), **api)
        assert placed.status_code == 201, placed.content


def test_staff_are_never_asked(administrator):
    with clock.frozen_at(NOON):
        services.first_version()
        client = Client()
        client.force_login(administrator)
        assert client.get("/legal/terms/agree/").status_code == 404


# --- the records ---------------------------------------------------------------------------------------


def test_the_agreements_leave_with_the_membership_when_the_member_withdraws():
    from kirakira.accounts.models import User
    from kirakira.privacy.retention.models import RetainedRecord
    from kirakira.privacy.retention.withdrawal import member_withdraw

    with clock.frozen_at(NOON):
        member = agreed_member()
    with clock.frozen_at(NOON + timedelta(days=1)):
        member_withdraw(user=User.objects.get(pk=member.pk), checked_hash=member.password)
    assert not TermsAgreement.objects.filter(member=member).exists()
    kept = RetainedRecord.objects.get(subject_id=member.pk, source="accounts.User")
    assert [a["channel"] for a in kept.data["terms_agreements"]] == ["registration"]
