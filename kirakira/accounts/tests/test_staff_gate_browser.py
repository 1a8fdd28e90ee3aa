"""The gate in a real browser: a new staff member's first login enrols a TOTP device from the
key on the page, keeps the backup codes, accepts the pledge and lands on the page first asked
for; the next login passes with a backup code. No page of the gate breaks the site's strict
Content-Security-Policy (the QR code is inline SVG)."""

import base64

import pytest
from django_otp.oath import totp

from kirakira.accounts.gate import services
from kirakira.accounts.gate.models import PledgeAcceptance
from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, StaffFactory

from .gate_helpers import train

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.real_gate]

WANTED = "/en/backoffice/orders/order/"


def test_first_login_enrols_keeps_the_backup_codes_accepts_the_pledge_then_a_backup_code_logs_in(
    open_page, live_server
):
    from playwright.sync_api import expect

    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    services.pledge_publish(
        texts={
            "ja": "個人情報を守ります。",
            "en": "I will protect personal data.",
            "ko": "개인정보를 지키겠습니다.",
        },
        actor=officer,
    )
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    train(staff, by=officer)

    page, _context = open_page(f"/en/backoffice/login/?next={WANTED}", locale="en-US")
    csp_violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and csp_violations.append(message.text),
    )
    page.locator("#id_username").fill(staff.login_id)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Enrolment: the QR code is drawn, the key is on the page for the app.
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    assert page.url == live_server.url + "/en/backoffice/gate/enrol/"
    expect(page.locator("#enrol-qr svg")).to_be_visible()
    secret = page.locator("#enrol-secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(f"{totp(base64.b32decode(secret)):06d}")
    page.get_by_role("button", name="Confirm").click()

    expect(page.locator("#backup-codes li")).to_have_count(10)
    backup_code = page.locator("#backup-codes li").first.inner_text()
    page.get_by_role("link", name="I have kept my backup codes — continue").click()

    # The pledge, in the page's language, then the page first asked for.
    expect(page.locator("#pledge-text")).to_have_text("I will protect personal data.")
    page.get_by_role("button", name="I accept this pledge").click()
    expect(page.get_by_role("heading", name="Select order to view")).to_be_visible()
    assert page.url == live_server.url + WANTED
    assert PledgeAcceptance.objects.filter(staff=staff).count() == 1

    # The next login: the second factor again, this time with a backup code.
    page.get_by_role("button", name="Log out").click()
    page.goto(live_server.url + f"/en/backoffice/login/?next={WANTED}")
    page.locator("#id_username").fill(staff.login_id)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    page.get_by_label("Code").fill(backup_code)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Select order to view")).to_be_visible()
    assert page.url == live_server.url + WANTED
    assert csp_violations == []
