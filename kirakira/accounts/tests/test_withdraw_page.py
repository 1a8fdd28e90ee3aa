"""The withdrawal pages: my page's link, the first step (what happens, the password, the refund
account when a paid order is open), the confirmation carried by a signed token, the done page;
and every way it can be refused changing nothing. One test walks it in a real browser."""

import re
import time
from html import unescape

import pytest
from axes.models import AccessAttempt
from django.core import signing
from django.test import Client
from django.urls import reverse

from kirakira.accounts import withdraw_views
from kirakira.accounts.models import BrowserSession, User
from kirakira.accounts.withdraw_forms import CONFIRMATION_MAX_AGE, CONFIRMATION_SALT
from kirakira.api.testing import api_token
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.orders.models import Order, OrderStatus, Refund, RefundStatus
from kirakira.orders.testing import place_order, record_payment

from .helpers import logged_in_user_id, page_text

pytestmark = pytest.mark.django_db

WITHDRAW = "/en/accounts/withdraw/"
CONFIRM = "/en/accounts/withdraw/confirm/"
ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}
_TOKEN = re.compile(r'<input type="hidden" name="token" value="([^"]+)"')


def logged_in(member, client=None) -> Client:
    client = client or Client()
    response = client.post(reverse("accounts:login"), {"username": member.login_id, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def first_step(client, password=PASSWORD, url=WITHDRAW, **fields):
    return client.post(url, {"password": password, **fields})


def token_in(response) -> str:
    assert response.status_code == 200, response.status_code
    found = _TOKEN.search(page_text(response))
    assert found, "no confirmation token on the page"
    return unescape(found.group(1))


def confirm(client, token, url=CONFIRM):
    return client.post(url, {"token": token})


def still_a_member(member) -> bool:
    member.refresh_from_db()
    return member.withdrawn_at is None and member.is_active


def failures(login_id) -> int:
    return sum(AccessAttempt.objects.filter(username=login_id).values_list("failures_since_start", flat=True))


# --- my page and the first step -----------------------------------------------------------------------


def test_my_page_links_to_withdrawal_in_a_section_of_its_own(client):
    client.force_login(MemberFactory())

    html = page_text(client.get("/en/accounts/mypage/"))

    section = re.search(r'<section class="card danger-zone"[^>]*>(.*?)</section>', html, re.S)
    assert section and 'href="/en/accounts/withdraw/"' in section.group(1)


def test_staff_see_no_withdrawal_link_and_are_refused(client):
    staff = StaffFactory()
    client.force_login(staff)

    mypage = page_text(client.get("/en/accounts/mypage/"))
    page = client.get(WITHDRAW)
    posted = first_step(client)

    assert "/accounts/withdraw/" not in mypage
    assert page.status_code == posted.status_code == 403
    assert "administrator" in page_text(page)
    assert 'name="password"' not in page_text(page)
    assert still_a_member(staff)
    assert failures(staff.login_id) == 0


def test_the_page_needs_a_login(client):
    response = client.get(WITHDRAW)

    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/login/")


def test_the_first_step_says_what_happens_and_asks_only_the_password_when_nothing_is_paid(client):
    member = MemberFactory()
    place_order(member=member)
    client.force_login(member)

    html = page_text(client.get(WITHDRAW))

    assert 'href="/en/privacy/policy/#retention"' in html
    assert "Your open order is cancelled." in html
    assert "Your email address can be used to register again." in html
    # From the retention rules themselves: what moves apart, and the usage log that stays in place.
    assert re.search(r'id="withdraw-kept-apart".*Withdrawn member&#x27;s information: 5 years', html, re.S)
    assert re.search(r'id="withdraw-kept-in-place">\s*<li>Log records: 6 months', html)
    assert 'name="password"' in html
    assert 'name="bank_name"' not in html


def test_the_first_step_asks_for_the_refund_account_when_a_paid_order_is_open(client):
    member = MemberFactory()
    order = place_order(member=member)
    record_payment(order)
    client.force_login(member)

    html = page_text(client.get(WITHDRAW))

    assert 'id="withdraw-refund"' in html
    for field in ACCOUNT:
        assert f'name="{field}"' in html
    assert f"¥{order.price_yen:,}" in html
    assert "In katakana or Latin letters, exactly as the bank has it." in html  # the cancel form's own help


@pytest.mark.parametrize("language", ["", "/en", "/ko"])
def test_every_step_renders_in_each_language(language):
    member = MemberFactory()
    record_payment(place_order(member=member))
    client = Client()
    client.force_login(member)

    page = client.get(f"{language}/accounts/withdraw/")
    confirmation = first_step(client, url=f"{language}/accounts/withdraw/", **ACCOUNT)
    done = confirm(client, token_in(confirmation), url=f"{language}/accounts/withdraw/confirm/")
    done_page = client.get(done["Location"])

    code = language.strip("/") or "ja"
    assert page.status_code == 200
    assert done["Location"] == f"{language}/accounts/withdraw/done/"
    for response in (page, confirmation, done_page):
        assert response.status_code == 200
        assert f'<html lang="{code}">' in page_text(response)
    assert not still_a_member(member)


# --- the password ------------------------------------------------------------------------------------


def test_a_wrong_password_is_refused_counted_and_changes_nothing(client, fast_member):
    member = fast_member()
    logged_in(member, client)

    response = first_step(client, password="not-it-1")

    assert response.status_code == 400
    assert "The password is incorrect. Please enter it again." in page_text(response)
    assert 'name="token"' not in page_text(response)
    assert failures(member.login_id) == 1
    assert still_a_member(member)
    assert logged_in_user_id(client) == str(member.pk)


def test_guessing_the_password_locks_like_the_login(client, fast_member):
    member = fast_member()
    logged_in(member, client)

    statuses = [first_step(client, password=f"guess-{n}").status_code for n in range(5)]
    right = first_step(client)
    login = Client().post(reverse("accounts:login"), {"username": member.login_id, "password": PASSWORD})

    assert statuses[:4] == [400] * 4
    assert right.status_code == 429
    assert int(right["Retry-After"]) == 15 * 60
    assert 'name="token"' not in page_text(right)
    assert login.status_code == 429  # the same lockout: the guesses were failed logins of this login ID
    assert still_a_member(member)


def test_an_empty_password_is_asked_for_and_not_counted(client, fast_member):
    member = fast_member()
    logged_in(member, client)

    response = first_step(client, password="")

    assert response.status_code == 400
    assert failures(member.login_id) == 0


# --- the two steps -----------------------------------------------------------------------------------


def test_the_password_then_the_confirmation_withdraws_and_logs_out(fast_member):
    member = fast_member(email="hanako@example.com")
    login_id = member.login_id
    client = logged_in(member)
    elsewhere = logged_in(member)
    token = api_token(member)

    confirmation = first_step(client)
    assert still_a_member(member)  # the first step changes nothing
    done = confirm(client, token_in(confirmation))

    assert done.status_code == 302 and done["Location"] == "/en/accounts/withdraw/done/"
    assert not still_a_member(member)
    assert logged_in_user_id(client) is None
    assert not BrowserSession.objects.filter(user=member).exists()
    assert elsewhere.get("/en/accounts/mypage/").status_code == 302
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    login = Client()
    assert (
        login.post(reverse("accounts:login"), {"username": login_id, "password": PASSWORD}).status_code == 200
    )
    assert logged_in_user_id(login) is None


def test_the_done_page_is_public_and_sets_no_cookie(client):
    response = client.get("/en/accounts/withdraw/done/")

    assert response.status_code == 200
    assert not response.cookies
    assert "You can register again with the same email address" in page_text(response)


def test_the_same_email_registers_again_after_withdrawal(fast_member):
    member = fast_member(email="hanako@example.com")
    client = logged_in(member)
    confirm(client, token_in(first_step(client)))

    registered = client.post(
        "/en/accounts/register/",
        {
            "login_id": "hanako_again",
            "name": "花子",
            "email": "hanako@example.com",
            "password1": "Tide-pool-lantern-42",
            "password2": "Tide-pool-lantern-42",
            "accept_terms": "on",
        },
    )

    assert registered.status_code == 302, page_text(registered)
    assert User.objects.get(login_id="hanako_again").email == "hanako@example.com"


def test_neither_the_password_nor_its_hash_reaches_the_page_or_the_session(client, fast_member):
    member = fast_member()
    logged_in(member, client)

    confirmation = first_step(client)
    token = token_in(confirmation)
    payload = signing.TimestampSigner(salt=CONFIRMATION_SALT).unsign_object(token)

    html = page_text(confirmation)
    assert PASSWORD not in html and member.password not in html
    assert member.password not in str(payload) and PASSWORD not in str(payload)
    session = client.session.load()
    assert PASSWORD not in str(session) and member.password not in str(session) and token not in str(session)


def test_a_paid_open_order_is_cancelled_and_its_refund_stays_due(client, fast_member):
    member = fast_member()
    order = place_order(member=member)
    record_payment(order)
    logged_in(member, client)

    missing = first_step(client)
    confirmation = first_step(client, **ACCOUNT)
    html = page_text(confirmation)
    done = confirm(client, token_in(confirmation))

    assert missing.status_code == 400 and 'name="token"' not in page_text(missing)
    assert order.reference in html and f"¥{order.price_yen:,}" in html and "1234567" in html
    assert done.status_code == 302
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.amount_yen, refund.account_number) == (
        RefundStatus.DUE,
        order.price_yen,
        "1234567",
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert not still_a_member(member)


def test_a_refund_account_the_rules_refuse_is_told_on_its_field(client, fast_member):
    member = fast_member()
    record_payment(place_order(member=member))
    logged_in(member, client)

    response = first_step(client, **{**ACCOUNT, "account_number": "12"})

    assert response.status_code == 400
    html = page_text(response)
    assert 'name="token"' not in html
    assert re.search(r'name="account_number".*?An account number is 4 to 17 digits', html, re.S)
    assert still_a_member(member)


# --- a confirmation that no longer holds ---------------------------------------------------------------


def _resigned(token: str, *, age: int) -> str:
    """The same payload, signed ``age`` seconds ago."""
    signer = signing.TimestampSigner(salt=CONFIRMATION_SALT)
    payload = signer.unsign_object(token)
    signer.timestamp = lambda: signing.b62_encode(int(time.time()) - age)
    return signer.sign_object(payload)


def test_an_expired_confirmation_asks_for_the_password_again(client, fast_member):
    member = fast_member()
    logged_in(member, client)
    token = token_in(first_step(client))

    fresh_enough = _resigned(token, age=CONFIRMATION_MAX_AGE - 30)
    expired = confirm(client, _resigned(token, age=CONFIRMATION_MAX_AGE + 1))

    assert expired.status_code == 400
    assert 'name="password"' in page_text(expired)
    assert still_a_member(member)
    assert confirm(client, fresh_enough).status_code == 302  # the age is what refused it


def test_a_tampered_confirmation_is_refused(client, fast_member):
    member = fast_member()
    logged_in(member, client)
    token = token_in(first_step(client))

    response = confirm(client, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))

    assert response.status_code == 400
    assert still_a_member(member)


def test_another_members_confirmation_is_refused(fast_member):
    hanako, taro = fast_member(), fast_member()
    hanakos_token = token_in(first_step(logged_in(hanako)))

    response = confirm(logged_in(taro), hanakos_token)

    assert response.status_code == 400
    assert still_a_member(hanako) and still_a_member(taro)


def test_a_password_changed_between_the_steps_sends_the_member_back(client, fast_member):
    member = fast_member()
    logged_in(member, client)
    token = token_in(first_step(client))
    # In this same browser (another would be logged out by the change): the password page keeps
    # its own session.
    changed = client.post(
        "/en/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "Changed-here-9!", "new_password2": "Changed-here-9!"},
    )
    assert changed.status_code == 302

    response = confirm(client, token)

    assert response.status_code == 409
    assert 'name="password"' in page_text(response)
    assert still_a_member(member)


def test_a_payment_recorded_between_the_steps_sends_the_member_back_to_give_a_refund_account(
    client, fast_member
):
    member = fast_member()
    order = place_order(member=member)
    logged_in(member, client)
    token = token_in(first_step(client))
    record_payment(order)

    response = confirm(client, token)

    assert response.status_code == 409
    assert 'id="withdraw-refund"' in page_text(response)
    assert still_a_member(member)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_a_second_withdrawal_is_told_it_is_done_already(fast_member):
    member = fast_member()
    client, other_browser = logged_in(member), logged_in(member)
    token = token_in(first_step(client))
    others_token = token_in(first_step(other_browser))
    confirm(client, token)

    again = confirm(client, token)
    from_the_other_browser = confirm(other_browser, others_token)

    for response in (again, from_the_other_browser):
        assert response.status_code == 409
        assert "This membership has already been withdrawn." in page_text(response)


def test_a_withdrawal_completed_by_another_request_meanwhile_is_told_and_logs_out(
    client, fast_member, monkeypatch
):
    """A double click: the other request withdraws between this one's checks and its own
    withdrawal (run here at exactly that point)."""
    member = fast_member()
    logged_in(member, client)
    token = token_in(first_step(client))
    real = withdraw_views.member_withdraw

    def withdrawn_elsewhere_first(**kwargs):
        real(user=User.objects.get(pk=member.pk), checked_hash=kwargs["checked_hash"])
        return real(**kwargs)

    monkeypatch.setattr(withdraw_views, "member_withdraw", withdrawn_elsewhere_first)

    response = confirm(client, token)

    assert response.status_code == 409
    assert "This membership has already been withdrawn." in page_text(response)
    assert logged_in_user_id(client) is None


def test_a_confirmation_posted_after_logging_out_leads_to_the_login(client, fast_member):
    member = fast_member()
    logged_in(member, client)
    token = token_in(first_step(client))
    client.post(reverse("accounts:logout"))

    response = confirm(client, token)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert still_a_member(member)


def test_the_confirmation_url_shows_nothing_by_get(client):
    client.force_login(MemberFactory())

    assert client.get(CONFIRM)["Location"] == WITHDRAW


# --- in a real browser ------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_member_withdraws_from_my_page_in_a_browser_and_cannot_log_in_again(open_page, live_server):
    from playwright.sync_api import expect

    member = MemberFactory()
    login_id = member.login_id
    page, _context = open_page("/en/accounts/login/", locale="en-US")
    csp_violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and csp_violations.append(message.text),
    )
    page.get_by_role("button", name="Refuse").click()  # the cookie banner first
    page.locator("#id_username").fill(login_id)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My page")

    page.locator(".danger-zone").get_by_role("link", name="Withdraw from membership").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw from membership")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("The password is incorrect. Please enter it again.")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your withdrawal")
    assert still_a_member(member)
    page.get_by_role("button", name="Withdraw", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You have withdrawn")
    assert page.url == live_server.url + "/en/accounts/withdraw/done/"
    assert not still_a_member(member)

    page.goto(live_server.url + "/en/accounts/login/")
    page.locator("#id_username").fill(login_id)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("The login ID or password is incorrect.")).to_be_visible()
    page.goto(live_server.url + "/en/accounts/mypage/")
    assert "/accounts/login/" in page.url
    assert csp_violations == []
