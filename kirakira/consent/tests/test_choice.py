"""The cookie choice (C8): nothing before it, proof of it, honoured both ways, asked again when
the cookie table of the policy in force changes."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import signing

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consent import cookies
from kirakira.consent.cookies import CONSENT_COOKIE, PREFS_COOKIE
from kirakira.consent.models import ConsentRecord
from kirakira.consent.testing import ORIGIN, choose, consent_of, prefs_of, prefs_value
from kirakira.privacy.catalog import cookies as registry
from kirakira.privacy.catalog.cookies import CookieCategory, register_cookie
from kirakira.privacy.policy import services as policy_services

TOKYO = ZoneInfo("Asia/Tokyo")
BANNER = "data-consent-banner"

pytestmark = pytest.mark.django_db


def test_first_visit_shows_the_banner_and_sets_no_cookie(client):
    response = client.get("/")

    assert BANNER in response.content.decode()
    assert not response.cookies


@pytest.mark.parametrize(
    ("prefix", "accept", "refuse"),
    [("", "同意する", "拒否する"), ("/en", "Accept", "Refuse"), ("/ko", "동의", "거부")],
)
def test_the_banner_speaks_the_pages_language(client, prefix, accept, refuse):
    html = client.get(f"{prefix}/").content.decode()
    banner = html[html.index(BANNER) : html.index("</section>", html.index(BANNER))]
    assert accept in banner and refuse in banner


def test_the_banner_is_a_labelled_region_with_three_buttons(client):
    html = client.get("/en/").content.decode()
    assert re.search(r'<section class="consent-banner" aria-labelledby="consent-banner-title"', html)
    assert 'id="consent-banner-title"' in html
    assert 'name="choice" value="accept"' in html and 'name="choice" value="refuse"' in html
    assert 'href="/en/consent/" data-consent-open' in html


def test_accepting_records_proof_and_hides_the_banner(client):
    response = choose(client, "accept", next_path="/en/privacy/policy/")

    assert response.status_code == 303
    assert response["Location"] == "/en/privacy/policy/"
    record = ConsentRecord.objects.get()
    assert record.choice == "accept"
    assert consent_of(client)["id"] == record.consent_id
    assert consent_of(client)["c"] == "accept"
    assert record.cookies_digest == policy_services.cookies_digest()
    assert PREFS_COOKIE not in response.cookies  # nothing to remember yet
    assert BANNER not in client.get("/").content.decode()


def test_the_record_holds_no_ip_address_or_browser(client):
    choose(client, "accept")
    fields = {f.name for f in ConsentRecord._meta.get_fields()}
    assert fields == {"id", "consent_id", "choice", "policy_version", "cookies_digest", "created_at"}


def test_the_record_names_the_policy_version_in_force(client):
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    with clock.frozen_at(datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)):
        version = policy_services.policy_version_publish(
            effective_on=date(2026, 12, 8), reason={"ja": "理由"}, summary={"ja": "要約"}, actor=officer
        )
    with clock.frozen_at(datetime(2026, 12, 9, 12, 0, tzinfo=TOKYO)):
        choose(client, "refuse")
    assert ConsentRecord.objects.get().policy_version == version


def test_refusing_deletes_the_preferences_cookie_and_keeps_the_choice(client):
    choose(client, "accept")
    client.get("/?lang=en")
    assert prefs_of(client) == {"l": "en"}

    response = choose(client, "refuse")

    assert response.cookies[PREFS_COOKIE].value == ""
    assert prefs_of(client) is None
    assert consent_of(client)["c"] == "refuse"
    assert BANNER not in client.get("/").content.decode()


def test_changing_the_choice_keeps_the_consent_id_and_adds_a_record(client):
    choose(client, "accept")
    first = consent_of(client)["id"]
    choose(client, "refuse")

    assert consent_of(client)["id"] == first
    assert list(ConsentRecord.objects.order_by("id").values_list("consent_id", "choice")) == [
        (first, "accept"),
        (first, "refuse"),
    ]


def test_the_settings_show_the_consent_record_id(client):
    choose(client, "refuse")
    consent_id = consent_of(client)["id"]

    for path in ("/en/", "/en/consent/"):
        html = client.get(path).content.decode()
        assert f"<code data-consent-id>{consent_id}</code>" in html
    assert "Refused" in client.get("/en/consent/").content.decode()


def test_the_footer_links_to_the_cookie_settings(client):
    html = client.get("/ko/").content.decode()
    assert re.search(r'<a href="/ko/consent/" data-consent-open>[^<]+</a>', html)


@pytest.mark.parametrize("choice", ["maybe", "", "ACCEPT"])
def test_an_unknown_choice_is_a_bad_request(client, choice):
    response = client.post("/consent/", {"choice": choice}, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 400
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_REFERER": "https://evil.example/x"},
    ],
)
def test_a_cross_site_or_unsourced_choice_is_refused(client, headers):
    response = client.post("/consent/", {"choice": "accept"}, **headers)
    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()
    assert not response.cookies


def test_a_same_site_referer_is_enough_without_origin(client):
    response = client.post("/consent/", {"choice": "accept"}, HTTP_REFERER=f"{ORIGIN}/privacy/policy/")
    assert response.status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", ""])
def test_the_return_address_is_only_ever_this_site(client, target):
    response = choose(client, "accept", next_path=target)
    assert response["Location"] == "/"


def test_a_new_cookie_table_asks_again(client):
    choose(client, "accept")
    client.get("/?lang=ko")
    assert BANNER not in client.get("/").content.decode()

    register_cookie("kirakira_test_new", purpose="test", category=CookieCategory.PREFERENCES, max_age=60)
    try:
        html = client.get("/en/").content.decode()
        assert BANNER in html
        assert "Our cookies have changed" in html
        choose(client, "accept")
        assert BANNER not in client.get("/").content.decode()
    finally:
        registry._cookies.pop("kirakira_test_new")


def test_until_asked_again_the_old_acceptance_no_longer_counts(client):
    choose(client, "accept")
    client.get("/?lang=en")
    assert prefs_of(client) == {"l": "en"}

    register_cookie("kirakira_test_new", purpose="test", category=CookieCategory.PREFERENCES, max_age=60)
    try:
        response = client.get("/")
        html = response.content.decode()
        assert '<html lang="ja">' in html  # the remembered English is not used...
        assert "クッキーの内容が変わりました" in html  # the banner asks again ("Our cookies have changed")
        assert response.cookies[PREFS_COOKIE].value == ""  # ...and the preferences cookie goes
        client.get("/?lang=ko")
        assert prefs_of(client) is None  # nor is a new choice remembered
        choose(client, "accept")
        client.get("/?lang=ko")
        assert prefs_of(client) == {"l": "ko"}
    finally:
        registry._cookies.pop("kirakira_test_new")


def test_the_same_choice_again_adds_no_record(client):
    choose(client, "accept")
    choose(client, "accept")
    assert ConsentRecord.objects.count() == 1
    choose(client, "refuse")
    choose(client, "accept")
    assert list(ConsentRecord.objects.order_by("pk").values_list("choice", flat=True)) == [
        "accept",
        "refuse",
        "accept",
    ]


def test_a_script_making_first_choices_in_a_loop_is_held_back(client, settings):
    from django.core.cache import cache

    cache.clear()
    settings.CONSENT_NEW_RECORDS_PER_IP = 2
    for _ in range(2):
        client.cookies.clear()
        assert choose(client, "accept").status_code == 303
    client.cookies.clear()
    assert choose(client, "accept").status_code == 429
    assert ConsentRecord.objects.count() == 2
    cache.clear()


def test_a_new_policy_version_with_the_same_cookie_table_does_not_ask_again(client):
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    with clock.frozen_at(datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)):
        choose(client, "accept")
        policy_services.policy_version_publish(
            effective_on=date(2026, 12, 8), reason={"ja": "理由"}, summary={"ja": "要約"}, actor=officer
        )
    with clock.frozen_at(datetime(2026, 12, 9, 12, 0, tzinfo=TOKYO)):
        assert BANNER not in client.get("/").content.decode()


def test_a_version_in_force_with_another_cookie_table_asks_again(client):
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    with clock.frozen_at(datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)):
        choose(client, "accept")
        version = policy_services.policy_version_publish(
            effective_on=date(2026, 12, 8), reason={"ja": "理由"}, summary={"ja": "要約"}, actor=officer
        )
    type(version).objects.filter(pk=version.pk).update(cookies_digest="0" * 64)
    with clock.frozen_at(datetime(2026, 12, 7, 12, 0, tzinfo=TOKYO)):
        assert BANNER not in client.get("/").content.decode()  # announced, not yet in force
    with clock.frozen_at(datetime(2026, 12, 9, 12, 0, tzinfo=TOKYO)):
        assert BANNER in client.get("/").content.decode()


# --- Bad cookies: ignored and replaced, never an error -------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "",
        "a" * 5000,
        signing.dumps({"l": "en"}, salt="another-salt"),
        prefs_value({"l": "en"})[:-3] + "xyz",
        prefs_value({"n": ["n1"] * 100}),
        prefs_value({"n": "n1"}),
        prefs_value({"n": ["<script>"]}),
        prefs_value(["en"]),
    ],
)
def test_a_tampered_or_oversized_preferences_cookie_is_ignored_and_replaced(client, value):
    choose(client, "accept")
    client.cookies[PREFS_COOKIE] = value

    response = client.get("/?lang=ko", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response["Content-Language"] == "ko"
    assert prefs_of(client) == {"l": "ko"}


@pytest.mark.parametrize(
    "value",
    ["garbage", "a" * 5000, signing.dumps({"id": "x" * 22, "c": "accept", "d": "0" * 16}, salt="other")],
)
def test_a_tampered_consent_cookie_is_ignored_and_deleted(client, value):
    client.cookies[CONSENT_COOKIE] = value
    client.cookies[PREFS_COOKIE] = prefs_value({"l": "ko"})

    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Language"] == "ja"
    assert BANNER in response.content.decode()
    assert response.cookies[CONSENT_COOKIE].value == ""
    assert response.cookies[PREFS_COOKIE].value == ""


def test_the_preferences_cookie_is_signed_and_small(client):
    choose(client, "accept")
    client.get("/?lang=en")
    for n in range(1, 40):
        client.post("/consent/notices/dismiss/", {"key": f"n{n}"}, HTTP_ORIGIN=ORIGIN)

    value = client.cookies[PREFS_COOKIE].value
    assert len(value) <= cookies.MAX_COOKIE_BYTES
    assert len(prefs_of(client)["n"]) == cookies.MAX_DISMISSED
    assert prefs_of(client)["n"][-1] == "n39"


def test_a_member_gets_the_banner_too_and_their_choice_counts(client):
    client.force_login(MemberFactory())
    assert BANNER in client.get("/accounts/mypage/").content.decode()
    choose(client, "refuse")
    assert BANNER not in client.get("/accounts/mypage/").content.decode()
