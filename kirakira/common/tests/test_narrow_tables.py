"""Tables on a phone (390 px) in a real browser: no cell is squeezed into a column a few
characters wide (Japanese breaks between any two characters, so a squeezed cell reads one
character a line); a table wider than the screen scrolls inside its ``.table-scroll`` wrapper
instead, and the page itself never scrolls sideways."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.orders import lifecycle
from kirakira.orders.testing import REFUND_ACCOUNT, make_service, place_order, record_payment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIN_CHARACTERS = 4
ARTIFACTS = Path(os.environ.get("KIRAKIRA_ARTIFACTS_DIR", settings.BASE_DIR / "test-artifacts")) / "layout"

# Every non-empty cell whose text box is narrower than MIN_CHARACTERS of its own font size,
# and whether the page is wider than the screen.
SQUEEZED = """(minCharacters) => {
  const squeezed = [];
  for (const cell of document.querySelectorAll("main th, main td")) {
    const text = cell.textContent.trim();
    if (!text || !cell.checkVisibility()) continue;
    const style = getComputedStyle(cell);
    const inner = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const needed = Math.min(minCharacters, [...text].length) * parseFloat(style.fontSize);
    if (inner < needed - 1) squeezed.push(`${Math.round(inner)}px: ${text.slice(0, 30)}`);
  }
  return {squeezed, sideways: document.documentElement.scrollWidth > window.innerWidth};
}"""


def _problems(page, paths, base) -> dict:
    found = {}
    for path in paths:
        page.goto(base + path)
        assert page.locator("main table").count() > 0, f"{path} shows no table"
        result = page.evaluate(SQUEEZED, MIN_CHARACTERS)
        slug = path.strip("/").replace("/", "_")
        page.screenshot(path=str(ARTIFACTS / f"tables-{slug}-390.png"), full_page=True)
        if result["squeezed"] or result["sideways"]:
            found[path] = result
    return found


@pytest.mark.parametrize("language", ["", "/en"], ids=["ja", "en"])
def test_no_table_cell_is_squeezed_on_a_phone(browser, live_server, language):
    member = MemberFactory()
    service = make_service(name_ja="インスタグラム写真レタッチ・プレミアムプラン", price_yen=12345)
    place_order(member=member, service=service)
    paid = place_order(member=member, service=service)
    record_payment(paid, accountant=StaffFactory(roles=[Role.ACCOUNTING]))
    lifecycle.order_cancel(order_id=paid.pk, member=member, reason="都合により", refund_account=REFUND_ACCOUNT)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    page = context.new_page()
    found = _problems(page, [f"{language}/privacy/policy/"], live_server.url)

    page.goto(live_server.url + f"{language}/accounts/login/")
    page.locator("input[name=username]").fill(member.login_id)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(f"**{language}/accounts/mypage/")
    member_pages = ["/orders/", "/privacy/my-data/", "/accounts/sessions/"]
    found.update(_problems(page, [f"{language}{path}" for path in member_pages], live_server.url))
    context.close()
    assert found == {}
