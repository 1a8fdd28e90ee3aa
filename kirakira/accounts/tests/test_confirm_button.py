"""The emailed confirmation link (registration and change of email address) confirms only when
its button is pressed: opening it (GET), as a mail scanner does, shows the button and changes
nothing. A link that cannot be used says so on opening already."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client

from kirakira.accounts.models import User
from kirakira.common import clock
from kirakira.common.testing import MemberFactory

from .helpers import assert_page_says, en, link_in, page_text
from .test_email_confirmation import INVALID_LINK, register

pytestmark = pytest.mark.django_db

BUTTON = re.compile(
    r'<form method="post">\s*<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">'
    r'\s*<button type="submit">'
)


def button_token(response) -> str:
    match = BUTTON.search(page_text(response))
    assert match, "no confirmation button on the page"
    return match.group(1)


def change_email(client, capture, mailoutbox, member, new_email) -> str:
    client.force_login(member)
    with capture(execute=True):
        response = client.post("/accounts/mypage/", {"name": member.name, "email": new_email})
    assert response.status_code == 302
    (confirmation,) = [m for m in mailoutbox if m.to == [new_email]]
    return link_in(confirmation)


def test_opening_the_registration_link_confirms_nothing_and_shows_a_button(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)

    response = client.get(link)

    assert response.status_code == 200
    button_token(response)
    user.refresh_from_db()
    assert user.email_confirmed_at is None
    assert user.can_order is False


def test_a_mail_scanner_opening_the_link_leaves_it_usable(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
    scanner = Client()
    for _ in range(3):
        assert scanner.get(link).status_code == 200
        assert scanner.head(link).status_code == 200
    user.refresh_from_db()
    assert user.email_confirmed_at is None

    response = client.post(link)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/mypage/"
    user.refresh_from_db()
    assert user.can_order is True


def test_the_button_works_for_a_visitor_who_is_not_logged_in_with_csrf_checks(
    mailoutbox, django_capture_on_commit_callbacks
):
    user, link = register(Client(), django_capture_on_commit_callbacks, mailoutbox)
    browser = Client(enforce_csrf_checks=True)

    page = browser.get(link)
    assert settings.CSRF_COOKIE_NAME in page.cookies  # a declared, essential cookie
    forged = browser.post(link)  # no token: another site's form
    assert forged.status_code == 403
    user.refresh_from_db()
    assert user.email_confirmed_at is None

    response = browser.post(link, {"csrfmiddlewaretoken": button_token(page)})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    user.refresh_from_db()
    assert user.can_order is True


def test_the_page_speaks_the_links_language_and_shows_no_personal_data(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    _user, link = register(
        client, django_capture_on_commit_callbacks, mailoutbox, language="en", login_id="sakurako77"
    )
    client.logout()

    response = client.get(link)

    assert '<html lang="en">' in page_text(response)
    assert_page_says(response, "Press the button to confirm your email address. Then you can order services.")
    assert "sakurako77" not in page_text(response)


def test_a_used_link_says_so_on_opening_and_on_pressing(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    _user, link = register(client, django_capture_on_commit_callbacks, mailoutbox, language="en")
    assert client.post(link).status_code == 302

    opened = client.get(link)
    pressed = client.post(link)

    for response in (opened, pressed):
        assert response.status_code == 400
        assert_page_says(response, en(INVALID_LINK))
        assert BUTTON.search(page_text(response)) is None


def test_an_expired_link_says_so_on_opening(client, mailoutbox, django_capture_on_commit_callbacks):
    with clock.frozen_at(datetime(2026, 4, 1, 9, 0, tzinfo=UTC)):
        user, link = register(client, django_capture_on_commit_callbacks, mailoutbox, language="en")
        clock.advance(timedelta(seconds=settings.EMAIL_CONFIRMATION_TIMEOUT + 1))

        response = client.get(link)

    assert response.status_code == 400
    assert_page_says(response, en(INVALID_LINK))
    assert BUTTON.search(page_text(response)) is None


def test_a_tampered_link_says_so_on_opening(client, mailoutbox, django_capture_on_commit_callbacks):
    _user, link = register(client, django_capture_on_commit_callbacks, mailoutbox, language="en")

    response = client.get(link[:-2] + ("a/" if link[-2] != "a" else "b/"))

    assert response.status_code == 400
    assert_page_says(response, en(INVALID_LINK))


def test_opening_the_email_change_link_changes_nothing_until_the_button(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(email="hanako@example.com", language="en")
    link = change_email(
        client, django_capture_on_commit_callbacks, mailoutbox, member, "hanako.new@example.com"
    )

    opened = client.get(link)

    assert opened.status_code == 200
    assert_page_says(opened, "Press the button to start using your new email address.")
    member.refresh_from_db()
    assert (member.email, member.pending_email) == ("hanako@example.com", "hanako.new@example.com")

    pressed = client.post(link)

    assert pressed.status_code == 302
    member.refresh_from_db()
    assert (member.email, member.pending_email) == ("hanako.new@example.com", "")


def test_an_email_change_to_an_address_taken_meanwhile_says_so_on_opening(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(email="hanako@example.com", language="en")
    link = change_email(
        client, django_capture_on_commit_callbacks, mailoutbox, member, "contested@example.com"
    )
    MemberFactory(email="contested@example.com")

    response = client.get(link)

    assert response.status_code == 400
    assert_page_says(response, "This email address is already registered.")
    assert BUTTON.search(page_text(response)) is None
    assert User.objects.get(pk=member.pk).email == "hanako@example.com"
