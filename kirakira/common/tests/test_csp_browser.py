"""The Content-Security-Policy in a real browser: the pages work under it and the browser reports
no violation (headless Chromium, see ``kirakira.common.browser_testing``).

Violations are caught twice: a ``securitypolicyviolation`` listener installed before any page
script runs, and Chromium's console messages ("Refused to ...").
"""

import pytest

from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.consultations import services as consultation_services
from kirakira.consultations.testing import open_for_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
});
"""


@pytest.fixture
def watched_page(browser, live_server):
    """watched_page(path) -> page, in a new profile whose CSP violations are recorded;
    the test ends by asserting there were none."""
    contexts = []
    pages = []
    console = []

    def _open(path: str, locale: str = "en-US"):
        context = browser.new_context(locale=locale, viewport={"width": 1000, "height": 700})
        contexts.append(context)
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.on("console", lambda message: console.append(message.text))
        pages.append(page)
        page.goto(live_server.url + path)
        return page

    _open.console = console
    yield _open
    reported = [v for page in pages if not page.is_closed() for v in page.evaluate("window.__cspViolations")]
    refused = [text for text in console if "Content Security Policy" in text]
    for context in contexts:
        context.close()
    assert reported == [] and refused == []


def violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_the_listener_sees_a_violation(watched_page, live_server):
    # Proves the check can fail: an inline script added to the page is refused and reported.
    page = watched_page("/en/")
    page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
        document.body.append(s); }"""
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert violations(page)[0].startswith("script-src")
    assert any("Content Security Policy" in text for text in watched_page.console)
    # Cleared, so that the fixture's own final check passes.
    page.evaluate("window.__cspViolations = []")
    watched_page.console.clear()


def test_the_home_page_and_the_consent_banner_work_under_the_policy(watched_page):
    from playwright.sync_api import expect

    page = watched_page("/en/")
    banner = page.locator("[data-consent-banner]")
    expect(banner).to_be_visible()

    # consent.js (a static file) opens the settings dialog in place instead of following the link.
    banner.locator("[data-consent-open]").click()
    dialog = page.locator("#consent-settings")
    expect(dialog).to_be_visible()
    assert page.url.endswith("/en/")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.locator("footer [data-consent-open]").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    banner.get_by_role("button", name="Accept", exact=True).click()
    expect(page.locator("[data-consent-banner]")).to_have_count(0)
    assert violations(page) == []


def log_in_to_the_back_office(watched_page, live_server, staff):
    page = watched_page("/en/backoffice/login/")
    page.locator("input[name=username]").fill(staff.login_id)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(live_server.url + "/en/backoffice/")
    return page


def test_a_back_office_change_page_works_under_the_policy(watched_page, live_server):
    from playwright.sync_api import expect

    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    consultation = open_for_member(MemberFactory())
    consultation_services.staff_reply(
        consultation_id=consultation.pk, actor=staff, body="社内メモ", internal=True
    )

    page = log_in_to_the_back_office(watched_page, live_server, staff)
    page.goto(live_server.url + f"/en/backoffice/consultations/consultation/{consultation.pk}/change/")
    expect(page.get_by_role("heading", name="Reply or internal note")).to_be_visible()
    # The admin's scripts ran (they are files of our own origin) ...
    page.wait_for_function("typeof django !== 'undefined' && typeof django.jQuery === 'function'")
    # ... and the internal note is marked by the back office's stylesheet, not a style attribute.
    note = page.locator(".internal-note")
    expect(note).to_have_count(1)
    assert note.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 248, 220)"

    # The sidebar's toggle is the admin's own script at work.
    toggle = page.locator("#toggle-nav-sidebar")
    if toggle.count():
        before = page.locator("#main").get_attribute("class")
        toggle.click()
        assert page.locator("#main").get_attribute("class") != before
    assert violations(page) == []


def test_the_back_offices_widgets_work_under_the_policy(watched_page, live_server):
    from playwright.sync_api import expect

    from kirakira.orders.testing import make_service

    service = make_service()
    page = log_in_to_the_back_office(watched_page, live_server, StaffFactory(roles=[Role.ADMINISTRATOR]))

    # The two-list selector of a many-to-many field, built by the admin's SelectFilter2.js.
    page.goto(live_server.url + f"/en/backoffice/orders/service/{service.pk}/change/")
    expect(page.locator(".selector .selector-available")).to_be_visible()

    # The calendar and clock of date and time fields (DateTimeShortcuts.js).
    page.goto(live_server.url + "/en/backoffice/consent/notice/add/")
    page.locator(".datetimeshortcuts a[id^=calendarlink]").first.click()
    expect(page.locator(".calendarbox").first).to_be_visible()
    assert violations(page) == []


def test_the_api_docs_render_under_the_policy(watched_page):
    from playwright.sync_api import expect

    page = watched_page("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Kirakira API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations(page) == []
