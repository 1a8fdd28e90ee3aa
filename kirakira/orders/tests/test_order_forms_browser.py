"""The order page's forms look finished, in a real browser at 1280 and 390 px: labels stand above
inputs that take the form's width, the refund account's fieldset has a visible frame and a
bold legend, the disclosure marker stands on the line of its heading, the cancel button is red
unlike the ordinary buttons, and axe finds no serious violation with the forms open.
Screenshots go to ``test-artifacts/layout/`` (or ``KIRAKIRA_ARTIFACTS_DIR``)."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.orders.testing import make_service, place_order, record_payment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(os.environ.get("KIRAKIRA_ARTIFACTS_DIR", settings.BASE_DIR / "test-artifacts")) / "layout"

MEASURE = """(selector) => {
  const form = document.querySelector(selector);
  const formBox = form.getBoundingClientRect();
  const fields = [];
  for (const label of form.querySelectorAll("label[for]")) {
    const control = document.getElementById(label.htmlFor);
    if (!control || control.type === "hidden") continue;
    const l = label.getBoundingClientRect(), c = control.getBoundingClientRect();
    fields.push({name: control.name, above: l.bottom <= c.top + 1, share: c.width / formBox.width, width: c.width});
  }
  return fields;
}"""

STYLE = """(selector) => {
  const style = getComputedStyle(document.querySelector(selector));
  return {background: style.backgroundColor, color: style.color, border: style.borderTopStyle,
          radius: parseFloat(style.borderTopLeftRadius), weight: parseInt(style.fontWeight)};
}"""


def _rgb(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value[value.index("(") + 1 : value.index(")")].split(",")[:3])


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']}: {node['target']}"
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
        for node in violation["nodes"]
    ]


def _log_in(page, base, member, language):
    page.goto(base + f"{language}/accounts/login/")
    page.locator("input[name=username]").fill(member.login_id)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(f"**{language}/accounts/mypage/")


@pytest.mark.parametrize("language", ["", "/en"], ids=["ja", "en"])
def test_the_cancel_and_refund_forms_look_finished(browser, live_server, language):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    member = MemberFactory()
    accountant = StaffFactory(roles=[Role.ACCOUNTING])
    service = make_service(price_yen=12345)
    paid = place_order(member=member, service=service)
    record_payment(paid, accountant=accountant)
    overpaid = place_order(member=member, service=service)
    record_payment(overpaid, amount=15000, accountant=accountant)

    for width in (1280, 390):
        context = browser.new_context(locale="ja-JP", viewport={"width": width, "height": 900})
        page = context.new_page()
        _log_in(page, live_server.url, member, language)

        page.goto(live_server.url + f"{language}/orders/{paid.pk}/")
        summary = page.locator("#cancel summary")
        heading = page.locator("#cancel-heading")
        # The disclosure marker is on the heading's line: the summary is one heading tall.
        assert summary.bounding_box()["height"] < heading.bounding_box()["height"] * 1.5
        summary.click()
        cancel_form = "#cancel form"
        fields = page.evaluate(MEASURE, cancel_form)
        assert {field["name"] for field in fields} >= {"reason", "bank_name", "account_number", "account_holder"}
        for field in fields:
            assert field["above"], f"{field['name']}: the label is beside its input at {width}px"
            assert field["share"] > 0.6 or field["width"] >= 400, f"{field['name']} is a tiny input at {width}px"
        fieldset = page.evaluate(STYLE, "#cancel fieldset")
        assert fieldset["border"] == "solid" and fieldset["radius"] > 0  # not the browser's bare groove
        assert page.evaluate(STYLE, "#cancel legend")["weight"] >= 600
        danger = page.evaluate(STYLE, "#cancel button.danger")
        red, green, blue = _rgb(danger["background"])
        assert red > green + 80 and red > blue + 80, danger
        page.screenshot(path=str(ARTIFACTS / f"order-cancel{language.replace('/', '-')}-{width}.png"), full_page=True)
        assert _serious(page) == []

        page.goto(live_server.url + f"{language}/orders/{overpaid.pk}/")
        ordinary = page.evaluate(STYLE, "#overpayment button[type=submit]")
        assert ordinary["background"] != danger["background"]
        for field in page.evaluate(MEASURE, "#overpayment form"):
            assert field["above"] and (field["share"] > 0.6 or field["width"] >= 400), field
        page.screenshot(path=str(ARTIFACTS / f"order-overpaid{language.replace('/', '-')}-{width}.png"), full_page=True)
        context.close()
