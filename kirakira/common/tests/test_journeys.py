"""Whole journeys in a real browser, as a person goes through them, in Japanese and English:

(a) a visitor registers, confirms the emailed link, logs in, orders a service and sees the bank
    box with the payment deadline;
(b) a member cancels a paid order giving a refund account and sees the refund's amount, state
    and masked account;
(c) a visitor sends a consultation, confirms it through the emailed link and sees the thanks on
    its private page;
(d) accounting records a payment in the back office, typing the date as 2026/11/30, and sees
    the amount with separators.

Each step asserts what the person reads, in the page's language (the Japanese text comes from
the catalogs: an untranslated message fails). One headless Chromium serves the whole module;
the Japanese journeys are walked on a 390 px phone, the English ones at 1280 px, and every step
is photographed at both widths (``test-artifacts/journeys/``, or ``KIRAKIRA_ARTIFACTS_DIR``).
The final page of each journey is checked with axe at both widths (as
``test_accessibility.py`` does).
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connections
from django.utils import formats, timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext

from kirakira.common import clock
from kirakira.common.browser_testing import CHROMIUM_ARGS, _unavailable, chromium_executable
from kirakira.common.roles import Role
from kirakira.common.templatetags.kirakira import yen
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.orders import bank
from kirakira.orders.models import Order, Payment
from kirakira.orders.testing import make_service, place_order, record_payment
from kirakira.privacy.catalog.masking import mask_value
from kirakira.privacy.catalog.vocabulary import Mask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(os.environ.get("KIRAKIRA_ARTIFACTS_DIR", settings.BASE_DIR / "test-artifacts")) / "journeys"
WIDTHS = {"ja": 390, "en": 1280}  # the width each language's journey is walked at
HEIGHT = 844
LANGUAGES = ("ja", "en")
PRICE = 12345


# --- one browser for the module ------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium():
    executable = chromium_executable()
    if not executable or not Path(executable).exists():
        _unavailable(f"no Chromium at {executable}" if executable else "no chromium executable on the PATH")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the ORM calls made while Playwright runs
    expect.set_options(timeout=10_000)
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                yield instance
            finally:
                instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _close_connections():
    # Connections opened in Playwright's context are not the ones pytest-django closes (see
    # kirakira/common/browser_testing.py): close them before the database is flushed.
    yield
    connections.close_all()


@pytest.fixture
def person(chromium, live_server, settings):
    """person(language) -> a Journey in a new browser profile of that language."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    settings.CLAMAV_SOCKET = ""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    contexts = []

    def _new(language: str, name: str) -> "Journey":
        context = chromium.new_context(
            locale="ja-JP" if language == "ja" else "en-US",
            viewport={"width": WIDTHS[language], "height": HEIGHT},
        )
        contexts.append(context)
        return Journey(context.new_page(), live_server.url, language, name)

    yield _new
    for context in contexts:
        context.close()


class Journey:
    """A person's browser tab: pages in their language, each step photographed at both widths."""

    def __init__(self, page, base: str, language: str, name: str):
        self.page, self.base, self.language, self.name = page, base, language, name
        self.prefix = "" if language == "ja" else f"/{language}"
        self.steps = 0

    def t(self, msgid: str, **params) -> str:
        """``msgid`` as the person's language says it (Japanese must be translated)."""
        with translation.override(self.language):
            text = gettext(msgid)
        if self.language != "en":
            assert text != msgid, f"not translated into {self.language}: {msgid!r}"
        return text % params if params else text

    def in_language(self, function, *args, **kwargs):
        with translation.override(self.language):
            return function(*args, **kwargs)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + self.prefix + path)

    def sees(self, *texts: str, within: str = "main") -> None:
        from playwright.sync_api import expect

        region = self.page.locator(within).first
        for text in texts:
            expect(region).to_contain_text(text)

    def heading(self, text: str) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_role("heading", level=1)).to_have_text(text)

    def message(self, text: str) -> None:
        self.sees(text, within=".messages, .messagelist")

    def snap(self, step: str) -> None:
        self.steps += 1
        own = self.page.viewport_size["width"]
        for width in (own, *(w for w in WIDTHS.values() if w != own)):
            self.page.set_viewport_size({"width": width, "height": HEIGHT})
            path = ARTIFACTS / f"{self.name}-{self.language}-{self.steps:02d}-{step}-{width}.png"
            self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size({"width": own, "height": HEIGHT})

    def axe_at_both_widths(self) -> dict:
        from axe_playwright_python.sync_playwright import Axe

        found = {}
        own = self.page.viewport_size["width"]
        for width in WIDTHS.values():
            self.page.set_viewport_size({"width": width, "height": HEIGHT})
            results = Axe().run(self.page)
            problems = [
                f"{violation['id']} ({violation['impact']}): {node['target']}"
                for violation in results.response["violations"]
                if violation["impact"] in {"serious", "critical"}
                for node in violation["nodes"]
            ]
            if problems:
                found[width] = problems
        self.page.set_viewport_size({"width": own, "height": HEIGHT})
        return found

    def refuse_cookies(self) -> None:
        self.page.locator("[data-consent-banner] button[value=refuse]").click()
        self.page.locator("[data-consent-banner]").wait_for(state="detached")

    def log_in(self, login_id: str, *, back_office: bool = False) -> None:
        self.goto("/backoffice/login/" if back_office else "/accounts/login/")
        self.page.locator("input[name=username]").fill(login_id)
        self.page.locator("input[name=password]").fill(PASSWORD)
        self.page.locator("input[name=password]").press("Enter")
        self.page.wait_for_url(
            f"**{self.prefix}/backoffice/" if back_office else f"**{self.prefix}/accounts/mypage/"
        )


def _link(pattern: str) -> str:
    message = mail.outbox[-1]
    return re.search(pattern, message.body).group(0)


# --- (a) register, confirm, log in, order, see how to pay ----------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_visitor_registers_confirms_logs_in_orders_and_sees_how_to_pay(person, language):
    service = make_service(
        name_ja="インスタ写真レタッチ", name_en="Instagram photo retouch", price_yen=PRICE, photo_link_count=1
    )
    you = person(language, "a-register-order")
    you.goto("/")
    you.refuse_cookies()
    you.page.locator("main").get_by_role("link", name=you.t("Register"), exact=True).click()
    you.heading(you.t("Register"))
    form = you.page.locator("main form")
    form.locator("input[name=login_id]").fill(f"hanako{language}")
    form.locator("input[name=name]").fill("山田 花子" if language == "ja" else "Hanako Yamada")
    form.locator("input[name=email]").fill(f"hanako.{language}@example.com")
    form.locator("input[name=password1]").fill(PASSWORD)
    form.locator("input[name=password2]").fill(PASSWORD)
    if form.locator("input[name=accept_terms]").count():
        form.locator("input[name=accept_terms]").check()
    you.snap("register-form")
    form.locator("button[type=submit]").click()
    you.page.wait_for_url("**/accounts/mypage/")
    you.message(
        you.t("Welcome! We have sent a confirmation link to your email address. Open it to start ordering.")
    )
    you.snap("registered")

    # Later, from the email: the link shows a button; confirming sends a logged-out person to log in.
    you.page.locator("header").get_by_role("button", name=you.t("Log out")).click()
    link = _link(r"https?://\S+/accounts/confirm/\S+/")
    you.page.goto(link)
    you.heading(you.t("Confirm your email address"))
    you.snap("confirm-link")
    you.page.locator("main").get_by_role("button", name=you.t("Confirm"), exact=True).click()
    you.page.wait_for_url("**/accounts/login/**")
    you.message(you.t("Your email address is confirmed. You can now order services."))
    you.snap("confirmed")
    you.log_in(f"hanako{language}")

    you.goto("/")
    you.page.locator("main").get_by_role(
        "link", name=re.compile(re.escape(service.name_ja if language == "ja" else service.name_en))
    ).click()
    you.heading(you.t("Order: %(service)s", service=service.name_ja if language == "ja" else service.name_en))
    you.sees(you.in_language(yen, PRICE))
    form = you.page.locator("main form.stacked")
    form.locator("[name=sns_account_id]").fill("kirakira.hanako")
    form.locator("[name=photo_links]").fill("https://photos.example.com/1.jpg")
    form.locator("[name=phone]").fill("090-1234-5678")
    you.snap("order-form")
    form.locator("button[type=submit]").click()

    order = Order.objects.get(member__login_id=f"hanako{language}")
    you.page.wait_for_url(f"**/orders/{order.pk}/")
    box = "section.payment"
    you.sees(you.t("Please pay by bank transfer"), within=box)
    you.sees(you.in_language(yen, PRICE), order.reference, within=box)
    deadline = you.in_language(
        formats.date_format, timezone.localtime(order.payment_due_at), "DATETIME_FORMAT"
    )
    you.sees(you.t("Please transfer by"), deadline, within=box)
    account = you.in_language(bank.studio_account)
    you.sees(account["bank_name"], account["account_number"], within=box)
    you.snap("bank-box")
    assert you.axe_at_both_widths() == {}


# --- (b) cancel a paid order, give the refund account, see the refund ------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_member_cancels_a_paid_order_and_sees_the_refund(person, language):
    member = MemberFactory(language=language)
    order = place_order(member=member, service=make_service(price_yen=PRICE))
    record_payment(order, accountant=StaffFactory(roles=[Role.ACCOUNTING]))
    you = person(language, "b-cancel-refund")
    you.goto("/")
    you.refuse_cookies()
    you.log_in(member.login_id)
    you.goto(f"/orders/{order.pk}/")
    you.heading(you.t("Order %(reference)s", reference=order.reference))
    cancel = you.page.locator("#cancel")
    cancel.locator("summary").click()
    you.sees(
        you.t(
            "We will refund the amount you have paid, %(amount)s, to this account.",
            amount=you.in_language(yen, PRICE),
        ),
        within="#cancel",
    )
    cancel.locator("[name=reason]").fill("予定が変わったため" if language == "ja" else "My plans changed.")
    cancel.locator("[name=bank_name]").fill("きらきら銀行")
    cancel.locator("[name=branch]").fill("渋谷支店")
    cancel.locator("[name=account_number]").fill("1234567")
    cancel.locator("[name=account_holder]").fill("ヤマダ ハナコ")
    you.snap("cancel-form")
    cancel.locator("button.danger").click()

    you.page.wait_for_url(f"**/orders/{order.pk}/")
    you.message(
        you.t(
            "Your order has been cancelled. We will transfer the refund of %(amount)s yen to your account.",
            amount=f"{PRICE:,}",
        )
    )
    refunds = "#refunds"
    you.sees(you.t("Refunds"), you.in_language(yen, PRICE), you.t("To be transferred"), within=refunds)
    you.sees(mask_value("1234567", Mask.LAST4), "きらきら銀行", within=refunds)
    assert "1234567" not in you.page.locator(refunds).inner_text()  # the number, masked
    you.snap("refund")
    assert you.axe_at_both_widths() == {}


# --- (c) a visitor's consultation, confirmed through its private link ------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_visitor_consults_confirms_and_is_thanked(person, language):
    subject = "料金について" if language == "ja" else "About prices"
    you = person(language, "c-consultation")
    you.goto("/")
    you.refuse_cookies()
    you.page.locator("footer").get_by_role("link", name=you.t("Contact us")).click()
    you.heading(you.t("Contact us"))
    form = you.page.locator("main form")
    form.locator("[name=name]").fill("訪問 花子" if language == "ja" else "Hanako Visitor")
    form.locator("[name=email]").fill(f"visitor.{language}@example.net")
    form.locator("[name=category]").select_option("question")
    form.locator("[name=subject]").fill(subject)
    form.locator("[name=body]").fill(
        "1. 料金を教えてください。\n2. 納期は？"
        if language == "ja"
        else "1. What is the price?\n2. When is it done?"
    )
    you.snap("contact-form")
    form.locator("button[type=submit]").click()
    you.heading(you.t("Please confirm your email address"))
    you.snap("check-your-email")

    you.page.goto(_link(r"https?://\S+/consultations/confirm/\S+/"))
    you.heading(you.t("Confirm your email address"))
    you.page.locator("main").get_by_role("button", name=you.t("Confirm and send")).click()
    you.heading(subject)
    you.message(
        you.t(
            "Thank you: your consultation has reached our staff. This page is your private link "
            "to it, where their replies appear: bookmark it or keep the email we sent you, and do "
            "not share it."
        )
    )
    you.sees("1." if language == "en" else "1. 料金を教えてください。", within="ol.thread")
    you.snap("thanked")
    assert you.axe_at_both_widths() == {}


# --- (d) accounting records a payment in the back office --------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_accounting_records_a_payment_typed_as_on_the_statement(person, language):
    order = place_order(service=make_service(price_yen=PRICE))
    staff = StaffFactory(roles=[Role.ACCOUNTING])
    received_on = timezone.localdate(clock.now()) - timedelta(days=1)
    you = person(language, "d-backoffice-payment")
    you.log_in(staff.login_id, back_office=True)
    you.goto("/backoffice/orders/payment/add/")
    form = you.page.locator("#payment_form")
    form.locator("[name=reference]").fill(order.reference.lower())
    form.locator("[name=amount_yen]").fill(str(PRICE))
    form.locator("[name=received_on]").fill(received_on.strftime("%Y/%m/%d"))  # as typed in Japan: 2026/11/30
    form.locator("[name=payer_name]").fill("ヤマダ ハナコ")
    you.snap("payment-form")
    form.locator("[name=_save]").click()

    you.page.wait_for_url("**/backoffice/orders/payment/")
    payment = Payment.objects.get(order=order)
    assert payment.received_on == received_on and payment.amount_yen == PRICE
    written = you.in_language(yen, PRICE)  # ¥12,345 / 12,345円
    you.sees(f"{order.reference} +{written}", within=".messagelist")
    row = you.page.locator("#result_list tbody tr").first
    you.sees(written, within="#result_list tbody tr")
    assert you.in_language(formats.date_format, received_on, "DATE_FORMAT") in row.inner_text()
    you.snap("payment-list")

    you.goto(f"/backoffice/orders/order/{order.pk}/change/")
    you.sees(capfirst(you.t("received so far")), written, within="#content-main")  # as admin labels
    with translation.override(language):
        status = str(Order.objects.get(pk=order.pk).get_status_display())
    you.sees(status, within="#content-main")
    you.snap("order-paid")
    assert you.axe_at_both_widths() == {}
