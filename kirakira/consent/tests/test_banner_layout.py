"""The cookie banner and the popups (the policy-change notice, staff notices) never cover the
page (C8, C11): in a real browser at 1280 and 390 px, with a policy change announced and no
cookie choice made yet, their boxes do not intersect the page's own content, and on a phone the
page's heading still shows on the first screen. Screenshots go to
``test-artifacts/layout/`` (or ``KIRAKIRA_ARTIFACTS_DIR``)."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.consent.models import Audience, Notice
from kirakira.orders.testing import make_service
from kirakira.privacy.policy import services as policy_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(os.environ.get("KIRAKIRA_ARTIFACTS_DIR", settings.BASE_DIR / "test-artifacts")) / "layout"
VIEWPORTS = {1280: 800, 390: 844}
PAGES = ("/", "/accounts/register/", "/consultations/new/")

# The boxes of the banner and the popups, and of every visible piece of the page's content
# (headings, paragraphs, list items, form controls, cards) that overlaps one of them.
OVERLAPS = """() => {
  const box = (el) => el.getBoundingClientRect();
  const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const layers = [...document.querySelectorAll("[data-consent-banner], .popups [data-popup]")]
    .filter((el) => el.checkVisibility());
  const content = [...document.querySelectorAll(
    "main h1, main h2, main h3, main p, main li, main label, main input, main textarea, main select, main .card"
  )].filter((el) => el.checkVisibility() && !el.closest("[data-consent-banner], .popups"));
  const hits = [];
  for (const layer of layers) {
    for (const el of content) {
      if (overlap(box(layer), box(el))) hits.push(`${layer.className || layer.tagName} covers ${el.tagName}: ${el.textContent.trim().slice(0, 40)}`);
    }
  }
  return {layers: layers.length, hits};
}"""


@pytest.fixture
def announced_change():
    make_service(name_ja="フォロワー分析", name_en="Follower analysis")
    make_service(name_ja="プロフィール写真", name_en="Profile photo")
    make_service(name_ja="投稿デザイン", name_en="Post design", description_en="Three designed posts a month.")
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    policy_services.policy_version_publish(
        effective_on=timezone.localdate(clock.now()) + timedelta(days=10),
        reason={
            "ja": "新しいサービスの追加に伴い、利用目的を追記するためです。",
            "en": "We add a purpose of use for a new service.",
            "ko": "새 서비스 추가에 따라 이용 목적을 추가하기 위해서입니다.",
        },
        summary={"ja": "利用目的の追記", "en": "A purpose added", "ko": "이용 목적 추가"},
        actor=officer,
    )
    now = clock.now()
    Notice.objects.create(
        title_ja="メンテナンスのお知らせ",
        title_en="Maintenance",
        body_ja="12月5日 2:00〜4:00 はサービスを停止します。",
        body_en="The service stops on 5 December, 2:00–4:00.",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        audience=Audience.EVERYONE,
    )


@pytest.mark.parametrize("language", ["", "/en"], ids=["ja", "en"])
def test_the_banner_and_the_notices_cover_no_content(browser, live_server, announced_change, language):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    found = {}
    for width, height in VIEWPORTS.items():
        context = browser.new_context(locale="ja-JP", viewport={"width": width, "height": height})
        page = context.new_page()
        for path in PAGES:
            page.goto(live_server.url + language + path)
            assert page.locator("[data-consent-banner]").is_visible()
            assert page.locator(".popups [data-popup^=p]").is_visible()  # the policy-change notice
            slug = (path.strip("/").replace("/", "_") or "home") + f"{language.replace('/', '-')}-{width}"
            page.screenshot(path=str(ARTIFACTS / f"{slug}.png"))
            result = page.evaluate(OVERLAPS)
            assert result["layers"] == 3
            if result["hits"]:
                found[f"{language}{path} at {width}px"] = result["hits"]
            # On the first screen: the page's heading, below the banner and the notices.
            heading = page.locator("main h1").bounding_box()
            assert heading["y"] + heading["height"] <= height, f"{path} at {width}px: the heading is off screen"
        context.close()
    assert found == {}


def test_the_notices_are_read_and_closed_without_javascript(browser, live_server, announced_change):
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/en/")
    notice = page.locator(".popups [data-popup^=p]")
    assert notice.is_visible()
    assert "Our privacy policy will change on" in notice.inner_text()
    notice.get_by_role("button", name="Close").click()  # a form of method "dialog": no script needed
    assert not notice.is_visible()
    assert page.locator("main h1").is_visible()
    context.close()
