"""The email confirmation link: it confirms once, expires after three days, and any bad link is a
clear 400 page, never a server error."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from kirakira.accounts.models import User
from kirakira.common import clock
from kirakira.common.testing import PASSWORD, MemberFactory

from .helpers import assert_page_says, confirm, en, ja, link_in, page_text

INVALID_LINK = "This confirmation link is invalid, has expired or has already been used."
FAILED_TITLE = "Email confirmation failed"
CONFIRMED = "Your email address is confirmed. You can now order services."
RESEND = "/accounts/confirm/resend/"


def register(client, capture, mailoutbox, *, language="ja", login_id="hanako") -> tuple[User, str]:
    """Register through the page; return the new member and the path of the emailed link."""
    prefix = "" if language == "ja" else f"/{language}"
    with capture(execute=True):
        response = client.post(
            f"{prefix}/accounts/register/",
            {
                "login_id": login_id,
                "name": "山田 花子",
                "email": f"{login_id}@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "accept_terms": "on",
            },
        )
    assert response.status_code == 302
    return User.objects.get(login_id=login_id), link_in(mailoutbox[-1])


def split_link(path: str) -> tuple[str, str, str]:
    """("/accounts/confirm/", uidb64, token) from a confirmation path."""
    head, uidb64, token, tail = path.rsplit("/", 3)
    assert tail == ""
    return head + "/", uidb64, token


def assert_invalid_link_page(response, translate=ja) -> None:
    assert response.status_code == 400
    assert_page_says(response, translate(FAILED_TITLE))
    assert_page_says(response, translate(INVALID_LINK))


# --- The link confirms ------------------------------------------------------------------------


@pytest.mark.django_db
def test_link_in_the_email_confirms_the_address_and_allows_ordering(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
    assert user.can_order is False

    response = confirm(client, link)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/mypage/"
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    assert user.can_order is True
    assert_page_says(client.get(response["Location"]), ja(CONFIRMED))


@pytest.mark.django_db
def test_link_opened_while_logged_out_confirms_and_leads_to_login(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
    client.logout()

    response = confirm(client, link)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    user.refresh_from_db()
    assert user.can_order is True


@pytest.mark.django_db
def test_link_holds_no_personal_data(client, mailoutbox, django_capture_on_commit_callbacks):
    user, link = register(client, django_capture_on_commit_callbacks, mailoutbox, login_id="sakurako77")

    assert "sakurako77" not in link
    assert "example.com" not in link
    assert split_link(link)[1] == urlsafe_base64_encode(force_bytes(user.pk))


@pytest.mark.django_db
def test_my_page_asks_for_confirmation_until_the_link_is_opened(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    _user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
    notice = (
        "Your email address is not confirmed yet. Open the link we sent you; "
        "until then you can use the site but cannot order."
    )

    assert notice in page_text(client.get("/en/accounts/mypage/"))
    confirm(client, link)
    assert notice not in page_text(client.get("/en/accounts/mypage/"))


# --- The link works once and for three days ---------------------------------------------------


@pytest.mark.django_db
def test_reused_link_is_refused_with_a_clear_message(client, mailoutbox, django_capture_on_commit_callbacks):
    user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
    assert confirm(client, link).status_code == 302
    user.refresh_from_db()
    confirmed_at = user.email_confirmed_at

    response = client.get(link)

    assert_invalid_link_page(response)
    user.refresh_from_db()
    assert user.email_confirmed_at == confirmed_at


@pytest.mark.django_db
def test_refused_link_on_the_english_site_explains_in_english(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    _user, link = register(client, django_capture_on_commit_callbacks, mailoutbox, language="en")
    assert link.startswith("/en/")
    confirm(client, link)

    assert_invalid_link_page(client.get(link), translate=en)


@pytest.mark.django_db
def test_confirmation_links_last_three_days():
    assert settings.EMAIL_CONFIRMATION_TIMEOUT == 3 * 24 * 60 * 60


@pytest.mark.django_db
def test_link_still_works_just_before_three_days(client, mailoutbox, django_capture_on_commit_callbacks):
    with clock.frozen_at(datetime(2026, 4, 1, 9, 0, tzinfo=UTC)):
        user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
        clock.advance(timedelta(seconds=settings.EMAIL_CONFIRMATION_TIMEOUT - 60))

        response = confirm(client, link)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.can_order is True


@pytest.mark.django_db
def test_expired_link_is_refused_and_leaves_the_member_unconfirmed(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with clock.frozen_at(datetime(2026, 4, 1, 9, 0, tzinfo=UTC)):
        user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
        clock.advance(timedelta(seconds=settings.EMAIL_CONFIRMATION_TIMEOUT + 1))

        response = client.get(link)

    assert_invalid_link_page(response)
    user.refresh_from_db()
    assert user.email_confirmed_at is None
    assert user.can_order is False


# --- Bad links are a 400 page, not a server error ---------------------------------------------


def _tamper(token: str) -> str:
    return token[:-1] + ("a" if token[-1] != "a" else "b")


TAMPERED_TOKENS = {
    "last character changed": _tamper,
    "timestamp changed": lambda t: "1" + t,
    "no dash": lambda t: t.replace("-", ""),
    "two dashes": lambda t: t + "-x",
    "garbage": lambda t: "garbage",
    "timestamp not base 36": lambda t: "!!-" + t.split("-")[1],
    "huge timestamp": lambda t: "z" * 40 + "-" + t.split("-")[1],
}


@pytest.mark.django_db
@pytest.mark.parametrize("tamper", TAMPERED_TOKENS.values(), ids=TAMPERED_TOKENS.keys())
def test_tampered_token_is_refused_with_400(tamper, client, mailoutbox, django_capture_on_commit_callbacks):
    user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
    head, uidb64, token = split_link(link)

    response = client.get(f"{head}{uidb64}/{tamper(token)}/")

    assert_invalid_link_page(response)
    user.refresh_from_db()
    assert user.email_confirmed_at is None


GARBAGE_UIDS = {
    "not base64": "!!!!",
    "base64 of a non-UUID": urlsafe_base64_encode(b"not-a-uuid"),
    "base64 of NUL bytes": "AAAA",
    "base64 of invalid UTF-8": urlsafe_base64_encode(b"\xff\xfe\xfd"),
    "base64 of an unknown UUID": urlsafe_base64_encode(force_bytes(uuid.uuid4())),
    "very long": "A" * 500,
}


@pytest.mark.django_db
@pytest.mark.parametrize("uidb64", GARBAGE_UIDS.values(), ids=GARBAGE_UIDS.keys())
def test_garbage_uid_is_refused_with_400_and_the_clear_message(
    uidb64, client, mailoutbox, django_capture_on_commit_callbacks
):
    user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
    head, _uid, token = split_link(link)

    response = client.get(f"{head}{uidb64}/{token}/")

    assert_invalid_link_page(response)
    assert "UUID" not in page_text(response)
    user.refresh_from_db()
    assert user.email_confirmed_at is None


@pytest.mark.django_db
def test_token_of_one_member_does_not_confirm_another(client, mailoutbox, django_capture_on_commit_callbacks):
    _user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
    other = MemberFactory(email_confirmed_at=None)
    head, _uid, token = split_link(link)

    response = client.get(f"{head}{urlsafe_base64_encode(force_bytes(other.pk))}/{token}/")

    assert_invalid_link_page(response)
    other.refresh_from_db()
    assert other.email_confirmed_at is None


@pytest.mark.django_db
def test_link_of_a_deactivated_member_is_refused(client, mailoutbox, django_capture_on_commit_callbacks):
    user, link = register(client, django_capture_on_commit_callbacks, mailoutbox)
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_invalid_link_page(client.get(link))


# --- Resending --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_resend_sends_a_new_link_that_confirms(client, mailoutbox, django_capture_on_commit_callbacks):
    user, _first_link = register(client, django_capture_on_commit_callbacks, mailoutbox)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/mypage/"
    assert len(mailoutbox) == 2
    assert mailoutbox[1].to == [user.email]
    assert_page_says(client.get("/accounts/mypage/"), ja("We have sent the confirmation link again."))
    assert confirm(client, link_in(mailoutbox[1])).status_code == 302
    user.refresh_from_db()
    assert user.can_order is True


@pytest.mark.django_db
def test_resend_on_the_page_is_limited_per_address(client, mailoutbox, django_capture_on_commit_callbacks, settings):
    """The page had no limit: a member who typed someone else's address could flood it."""
    settings.CONFIRMATION_RESEND_LIMIT_PER_HOUR = 2
    register(client, django_capture_on_commit_callbacks, mailoutbox)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(RESEND).status_code == 302

    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(RESEND)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert len(mailoutbox) == 3  # the registration's link and two sent again


@pytest.mark.django_db
def test_resend_sends_nothing_once_confirmed(client, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(MemberFactory())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND)

    assert response.status_code == 302
    assert mailoutbox == []


@pytest.mark.django_db
def test_resend_needs_a_logged_in_member(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESEND)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert mailoutbox == []


@pytest.mark.django_db
def test_resend_is_not_triggered_by_a_get(client, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(MemberFactory(email_confirmed_at=None))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(RESEND)

    assert response.status_code == 405
    assert mailoutbox == []
