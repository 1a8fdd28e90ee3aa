"""axe-core (axe-playwright-python, which bundles it) in headless Chromium over the pages of the
site and the back office, in Japanese and English, at 1280 and 390 px: no serious or critical
violation. Screenshots of every page at both widths go to ``test-artifacts/accessibility/`` (or
``KIRAKIRA_ARTIFACTS_DIR``), which CI lists at its end."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.orders.testing import REFUND_ACCOUNT, make_service, place_order, record_payment

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (1280, 390)
LANGUAGES = ("", "/en")  # ja (no prefix) and en
SERIOUS = {"serious", "critical"}

VISITOR_PAGES = (
    "/",
    "/privacy/policy/",
    "/legal/commerce/",
    "/legal/terms/",
    "/accounts/register/",
    "/accounts/login/",
    "/consultations/new/",
)


def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _screenshot_dir() -> Path:
    directory = Path(os.environ.get("KIRAKIRA_ARTIFACTS_DIR", settings.BASE_DIR / "test-artifacts")) / "accessibility"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _serious(page) -> list[str]:
    results = _axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']}"
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
        for node in violation["nodes"]
    ]


def _check(context_factory, live_server, paths, name, log_in=None) -> dict[str, list[str]]:
    found = {}
    for width in WIDTHS:
        context = context_factory(width)
        page = context.new_page()
        if log_in:
            log_in(page)
        for path in paths:
            page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            slug = (path.strip("/").replace("/", "_") or "home") + f"-{width}"
            page.screenshot(path=str(_screenshot_dir() / f"{name}-{slug}.png"), full_page=True)
            problems = _serious(page)
            if problems:
                found[f"{path} at {width}px"] = problems
        context.close()
    return found


@pytest.fixture
def new_context(browser):
    def _new(width: int):
        return browser.new_context(locale="ja-JP", viewport={"width": width, "height": 800})

    return _new


@pytest.mark.parametrize("language", LANGUAGES, ids=["ja", "en"])
def test_the_visitors_pages_have_no_serious_accessibility_violation(new_context, live_server, language):
    make_service()
    paths = [f"{language}{path}" for path in VISITOR_PAGES]
    assert _check(new_context, live_server, paths, f"visitor{language.replace('/', '-')}") == {}


@pytest.mark.parametrize("language", LANGUAGES, ids=["ja", "en"])
def test_a_members_pages_have_no_serious_accessibility_violation(new_context, live_server, language):
    member = MemberFactory()
    accountant = StaffFactory(roles=[Role.ACCOUNTING])
    service = make_service(price_yen=3000)
    waiting = place_order(member=member, service=service)
    overpaid = place_order(member=member, service=service)
    record_payment(overpaid, amount=3500, accountant=accountant)
    from kirakira.orders import lifecycle

    cancelled = place_order(member=member, service=service)
    record_payment(cancelled, accountant=accountant)
    lifecycle.order_cancel(order_id=cancelled.pk, member=member, reason="x", refund_account=REFUND_ACCOUNT)

    def log_in(page):
        page.goto(live_server.url + f"{language}/accounts/login/")
        page.locator("input[name=username]").fill(member.login_id)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(f"**{language}/accounts/mypage/")

    paths = [
        f"{language}{path}"
        for path in (
            "/accounts/mypage/",
            "/orders/",
            f"/orders/{waiting.pk}/",
            f"/orders/{overpaid.pk}/",
            f"/orders/{cancelled.pk}/",
            "/consultations/",
            "/privacy/my-data/",
            "/privacy/requests/",
            "/legal/terms/agree/",
        )
    ]
    assert _check(new_context, live_server, paths, f"member{language.replace('/', '-')}", log_in) == {}


@pytest.mark.parametrize("language", LANGUAGES, ids=["ja", "en"])
def test_the_back_office_has_no_serious_accessibility_violation(new_context, live_server, language):
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE, Role.ACCOUNTING])
    order = place_order()

    def log_in(page):
        page.goto(live_server.url + f"{language}/backoffice/login/")
        page.locator("input[name=username]").fill(staff.login_id)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[type=submit]").click()
        page.wait_for_url(f"**{language}/backoffice/")

    paths = [
        f"{language}{path}"
        for path in (
            "/backoffice/",
            "/backoffice/orders/order/",
            f"/backoffice/orders/order/{order.pk}/change/",
            "/backoffice/orders/payment/add/",
            "/backoffice/consultations/consultation/",
        )
    ]
    assert _check(new_context, live_server, paths, f"backoffice{language.replace('/', '-')}", log_in) == {}
