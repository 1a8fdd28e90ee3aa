"""A consultation's thread in a real browser (the visitor's private link, and a member's page):
each message is a card and nothing stands outside it, such as the ordered list's "1." marker
beside the first card; a message that starts with a numbered list keeps its own "1." inside
its card. Screenshots go to ``test-artifacts/layout/`` (or ``KIRAKIRA_ARTIFACTS_DIR``)."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.consultations import services, tokens
from kirakira.consultations.testing import open_for_member, open_for_visitor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(os.environ.get("KIRAKIRA_ARTIFACTS_DIR", settings.BASE_DIR / "test-artifacts")) / "layout"
BODY = "1. 料金を教えてください。\n2. 納期を教えてください。"

# Each message of the thread: whether the browser draws a list marker for it, and how far its
# card stands from the left edge of the page's heading.
MESSAGES = """() => {
  const heading = document.querySelector("main h1").getBoundingClientRect();
  return [...document.querySelectorAll("ol.thread > li")].map((li) => {
    const style = getComputedStyle(li);
    const marker = style.display === "list-item" && style.listStyleType !== "none"
      && getComputedStyle(li, "::marker").content !== "none";
    return {marker, indent: Math.round(li.getBoundingClientRect().left - heading.left), text: li.innerText};
  });
}"""


def _check(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    messages = page.evaluate(MESSAGES)
    assert len(messages) == 2
    for message in messages:
        assert not message["marker"], message
        assert message["indent"] == 0, message
    assert "1. 料金を教えてください。" in messages[0]["text"]  # the writer's own numbering stays


@pytest.mark.parametrize("width", [1280, 390])
def test_nothing_stands_outside_the_messages_of_a_visitors_thread(browser, live_server, width):
    consultation = open_for_visitor(body=BODY)
    services.visitor_confirm(consultation.pk)
    services.staff_reply(
        consultation_id=consultation.pk, actor=StaffFactory(roles=[Role.CUSTOMER_SERVICE]), body="3,000円です。"
    )
    context = browser.new_context(locale="ja-JP", viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(live_server.url + f"/consultations/visitor/{tokens.thread_token(consultation)}/")
    _check(page, f"visitor-thread-{width}")
    context.close()


def test_nothing_stands_outside_the_messages_of_a_members_thread(browser, live_server):
    member = MemberFactory()
    consultation = open_for_member(member, body=BODY)
    services.staff_reply(
        consultation_id=consultation.pk, actor=StaffFactory(roles=[Role.CUSTOMER_SERVICE]), body="3,000円です。"
    )
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.locator("input[name=username]").fill(member.login_id)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url("**/accounts/mypage/")
    page.goto(live_server.url + f"/consultations/{consultation.pk}/")
    _check(page, "member-thread-390")
    context.close()
