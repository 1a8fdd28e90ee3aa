"""The cookie banner and popups in a real browser (C8): headless Chromium driven by Playwright,
checked from the browser's own cookie jar.

The browser comes from ``kirakira.common.browser_testing`` (skipped without Chromium, except in
CI). Screenshots of the banner in each language go to ``test-artifacts/`` (or
``KIRAKIRA_ARTIFACTS_DIR``).
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing

from kirakira.common import clock
from kirakira.consent import cookies
from kirakira.consent.models import Audience, ConsentRecord, Notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(os.environ.get("KIRAKIRA_ARTIFACTS_DIR", settings.BASE_DIR / "test-artifacts"))


def jar(context) -> dict[str, str]:
    return {c["name"]: c["value"] for c in context.cookies()}


def prefs(context) -> dict | None:
    value = jar(context).get(cookies.PREFS_COOKIE)
    return signing.loads(value, salt=cookies._PREFS_SALT) if value else None


def expect_language(page, language: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("html")).to_have_attribute("lang", language)


def expect_hidden(locator) -> None:
    from playwright.sync_api import expect

    expect(locator).to_be_hidden()


def expect_gone(page, selector: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(selector)).to_have_count(0)


def test_no_preferences_cookie_before_a_choice_and_after_refusing(open_page):
    page, context = open_page("/")
    assert page.locator("[data-consent-banner]").is_visible()
    assert jar(context) == {}  # reading pages sets no cookie at all

    page.get_by_role("link", name="English").click()
    expect_language(page, "en")
    assert jar(context) == {}

    page.get_by_role("button", name="Refuse", exact=True).click()
    expect_gone(page, "[data-consent-banner]")
    assert set(jar(context)) == {cookies.CONSENT_COOKIE}

    page.get_by_role("link", name="한국어").click()
    expect_language(page, "ko")
    assert cookies.PREFS_COOKIE not in jar(context)
    page.goto(page.url.split("/ko/")[0] + "/")
    expect_language(page, "ja")  # from the browser, nothing remembered


def test_the_language_is_kept_after_accepting_and_switching(open_page, live_server):
    page, context = open_page("/en/", locale="en-US")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect_gone(page, "[data-consent-banner]")
    record = ConsentRecord.objects.get()
    assert record.choice == "accept"
    assert (
        signing.loads(jar(context)[cookies.CONSENT_COOKIE], salt=cookies._CONSENT_SALT)["id"]
        == record.consent_id
    )

    page.get_by_role("link", name="한국어").click()
    expect_language(page, "ko")
    assert prefs(context) == {"l": "ko"}
    page.goto(live_server.url + "/privacy/policy/")  # unprefixed, with an English browser
    expect_language(page, "ko")

    page.get_by_role("link", name="쿠키 설정").click()
    dialog = page.locator("#consent-settings")
    assert dialog.is_visible()
    assert dialog.locator("[data-consent-id]").inner_text() == record.consent_id
    dialog.get_by_role("button", name="환경 설정 쿠키 거부").click()
    page.wait_for_url(live_server.url + "/ko/privacy/policy/")
    expect_gone(page, "#consent-settings[open]")
    assert cookies.PREFS_COOKIE not in jar(context)  # refusing deleted it


def test_a_dismissed_popup_stays_away_only_with_consent(open_page):
    now = clock.now()
    notice = Notice.objects.create(
        title_ja="メンテナンスのお知らせ",
        title_en="Maintenance",
        body_ja="12月5日 2:00〜4:00 はサービスを停止します。",
        body_en="The service stops on 5 December, 2:00–4:00.",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        audience=Audience.EVERYONE,
    )
    popup_selector = f'[data-popup="n{notice.pk}"]'

    page, context = open_page("/en/", locale="en-US")
    popup = page.locator(popup_selector)
    assert popup.is_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "popup-en.png"))
    assert popup.get_by_role("button", name="Don't show again").count() == 0
    popup.get_by_role("button", name="Close").click()
    expect_hidden(popup)
    page.reload()
    assert page.locator(popup_selector).is_visible()  # nothing remembered without consent
    assert jar(context) == {}

    page.get_by_role("button", name="Accept", exact=True).click()
    expect_gone(page, "[data-consent-banner]")
    page.locator(popup_selector).get_by_role("button", name="Don't show again").click()
    expect_gone(page, popup_selector)
    assert prefs(context) == {"n": [f"n{notice.pk}"]}
    page.reload()
    assert page.locator(popup_selector).count() == 0


def test_the_banner_works_with_the_keyboard_alone(open_page):
    page, context = open_page("/en/", locale="en-US")

    def tab_to(name: str, limit: int = 15):
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent.trim()") == name:
                return
        raise AssertionError(f"{name!r} cannot be reached with the Tab key")

    tab_to("Settings")  # the banner comes first after the skip link
    page.keyboard.press("Enter")
    dialog = page.locator("#consent-settings")
    assert dialog.is_visible()
    page.keyboard.press("Escape")
    expect_hidden(dialog)

    page.goto(page.url)
    tab_to("Accept")
    page.keyboard.press("Enter")
    expect_gone(page, "[data-consent-banner]")
    consent = signing.loads(jar(context)[cookies.CONSENT_COOKIE], salt=cookies._CONSENT_SALT)
    assert consent["c"] == "accept"


@pytest.mark.parametrize(
    ("path", "locale", "language"), [("/", "ja-JP", "ja"), ("/en/", "en-US", "en"), ("/ko/", "ko-KR", "ko")]
)
def test_banner_screenshots(open_page, path, locale, language):
    page, _context = open_page(path, locale=locale)
    region = page.locator("[data-consent-banner]")
    assert region.is_visible()
    assert page.locator("html").get_attribute("lang") == language
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    region.screenshot(path=str(ARTIFACTS / f"consent-banner-{language}.png"))
    page.screenshot(path=str(ARTIFACTS / f"consent-page-{language}.png"))
    assert (ARTIFACTS / f"consent-banner-{language}.png").stat().st_size > 1000
    region.locator("[data-consent-open]").click()
    dialog = page.locator("#consent-settings")
    assert dialog.is_visible()
    dialog.screenshot(path=str(ARTIFACTS / f"consent-settings-{language}.png"))
