"""What a mobile client needs of the accounts API (issue 11, section 5), journey by journey.

Observed: ``PATCH /me`` answered 200 to a new ``language`` and kept the old one; confirming the
email address, sending the link again, changing the password and resetting a forgotten one were
possible on the web pages only. Each endpoint is tried here for what it does, for bad input, for
its rate limit and for the logins it ends; every error is JSON in the request's language.
"""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from knox.models import AuthToken

from kirakira.accounts import services
from kirakira.accounts.models import User
from kirakira.accounts.tokens import email_confirmation_token
from kirakira.api.testing import error_body
from kirakira.common import clock
from kirakira.common.testing import PASSWORD, MemberFactory, at_once

ME_URL = "/api/v1/me"
TOKEN_URL = "/api/v1/auth/token"
REGISTER_URL = "/api/v1/auth/register"
CONFIRM_URL = "/api/v1/auth/confirm-email"
RESEND_URL = "/api/v1/me/confirmation"
PASSWORD_URL = "/api/v1/me/password"
RESET_URL = "/api/v1/auth/password-reset"
RESET_CONFIRM_URL = "/api/v1/auth/password-reset/confirm"
NEW_PASSWORD = "Tide-pool-lantern-42"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# The links of the emails, under the member's language's prefix (none for Japanese).
CONFIRMATION_LINK = re.compile(r"http://testserver(?:/[a-z]{2})?/accounts/confirm/([^/\s]+)/([^/\s]+)/")
RESET_LINK = re.compile(r"http://testserver(?:/[a-z]{2})?/accounts/password/reset/([^/\s]+)/([^/\s]+)/")


@pytest.fixture(autouse=True)
def _fresh_counters():
    """Rate limits count in the cache, which outlives a test's database transaction."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def cheap_passwords(settings):
    """A cheap hasher: these tests log in and try passwords many times; hashing is not their subject."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def member_with_password(**fields):
    return MemberFactory(password=make_password(PASSWORD), **fields)


def call(method, url, data=None, *, token=None, language="en", client=None, **extra):
    client = client or Client()
    headers = {"HTTP_ACCEPT_LANGUAGE": language, **extra}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if data is None:
        return client.generic(method, url, **headers)
    body = data if isinstance(data, str) else json.dumps(data)
    return client.generic(method, url, body, content_type="application/json", **headers)


def log_in(member, password=PASSWORD) -> str:
    response = call("POST", TOKEN_URL, {"login_id": member.login_id, "password": password})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def works(token) -> bool:
    status = call("GET", ME_URL, token=token).status_code
    assert status in (200, 401), status
    return status == 200


def link_parts(pattern, message) -> dict:
    uid, token = pattern.search(message.body).groups()
    return {"uid": uid, "token": token}


def uid_of(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def browser_logged_in(member) -> Client:
    browser = Client()
    response = browser.post(reverse("accounts:login"), {"username": member.login_id, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def still_logged_in(browser) -> bool:
    return browser.get(reverse("accounts:mypage")).status_code == 200


# --- PATCH /me: the language -----------------------------------------------------------------------


@pytest.mark.django_db
def test_patch_changes_the_language_and_the_members_emails_follow_it(
    mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(language="ja", email_confirmed_at=None)
    token = AuthToken.objects.create(member)[1]

    response = call("PATCH", ME_URL, {"language": "en"}, token=token)
    with django_capture_on_commit_callbacks(execute=True):
        assert call("POST", RESEND_URL, token=token).status_code == 202

    assert response.status_code == 200, response.content
    assert response.json()["language"] == "en"
    member.refresh_from_db()
    assert member.language == "en"
    assert mailoutbox[0].subject == "Kirakira SNS: please confirm your email address"


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
@pytest.mark.django_db
def test_each_site_language_can_be_chosen(language):
    member = MemberFactory(language="ko" if language != "ko" else "ja")

    response = call("PATCH", ME_URL, {"language": language}, token=AuthToken.objects.create(member)[1])

    assert response.json()["language"] == language
    member.refresh_from_db()
    assert member.language == language


@pytest.mark.parametrize("language", ["fr", "JA", "en-us", "", None, 1, ["en"]])
@pytest.mark.django_db
def test_an_unknown_language_is_refused_and_nothing_else_changes(language):
    member = MemberFactory(language="ja", name="Before")

    response = call(
        "PATCH", ME_URL, {"name": "After", "language": language}, token=AuthToken.objects.create(member)[1]
    )

    assert list(error_body(response, 400)["errors"]) == ["language"]
    member.refresh_from_db()
    assert (member.name, member.language) == ("Before", "ja")


@pytest.mark.django_db
def test_a_refused_name_keeps_the_language_as_it_was():
    member = MemberFactory(language="ja")

    response = call("PATCH", ME_URL, {"name": "   ", "language": "en"}, token=AuthToken.objects.create(member)[1])

    assert list(error_body(response, 400)["errors"]) == ["name"]
    member.refresh_from_db()
    assert member.language == "ja"


@pytest.mark.django_db
def test_a_taken_email_keeps_the_language_and_sends_nothing(mailoutbox, django_capture_on_commit_callbacks):
    MemberFactory(email="taken@example.com")
    member = MemberFactory(language="ja", email="mine@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = call(
            "PATCH", ME_URL, {"email": "taken@example.com", "language": "en"}, token=AuthToken.objects.create(member)[1]
        )

    assert list(error_body(response, 400)["errors"]) == ["email"]
    member.refresh_from_db()
    assert (member.language, member.pending_email or "") == ("ja", "")
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_service_refuses_a_language_the_site_does_not_have():
    member = MemberFactory(language="ja", name="Before")

    with pytest.raises(ValidationError) as refused:
        services.member_update(user=member, name="After", language="fr")

    assert list(refused.value.message_dict) == ["language"]
    member.refresh_from_db()
    assert (member.name, member.language) == ("Before", "ja")


# --- Confirming the email address --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_member_confirms_their_address_through_the_api(mailoutbox, django_capture_on_commit_callbacks):
    data = {"login_id": "newcomer01", "name": "Newcomer", "email": "newcomer@example.com", "password": NEW_PASSWORD, "accept_terms": True}
    with django_capture_on_commit_callbacks(execute=True):
        assert call("POST", REGISTER_URL, data).status_code == 201
    token = log_in(User.objects.get(), NEW_PASSWORD)
    assert call("GET", ME_URL, token=token).json()["email_confirmed"] is False

    response = call("POST", CONFIRM_URL, link_parts(CONFIRMATION_LINK, mailoutbox[0]))

    assert response.status_code == 200, response.content
    assert response.json() == {"confirmed": "registration"}
    assert call("GET", ME_URL, token=token).json()["email_confirmed"] is True  # the token lives on


@pytest.mark.django_db
def test_a_confirmation_link_works_once(mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory(email_confirmed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.member_confirmation_resend(user=member)
    parts = link_parts(CONFIRMATION_LINK, mailoutbox[0])

    assert call("POST", CONFIRM_URL, parts).status_code == 200
    again = error_body(call("POST", CONFIRM_URL, parts), 400)

    assert again["errors"] == {"token": ["This confirmation link is invalid, has expired or has already been used."]}


@pytest.mark.django_db
def test_confirming_a_new_address_ends_every_token_and_session(
    cheap_passwords, mailoutbox, django_capture_on_commit_callbacks
):
    member = member_with_password(email="old@example.com")
    token, browser = log_in(member), browser_logged_in(member)
    with django_capture_on_commit_callbacks(execute=True):
        assert call("PATCH", ME_URL, {"email": "new@example.com"}, token=token).status_code == 200
    confirmation = next(m for m in mailoutbox if m.to == ["new@example.com"])

    response = call("POST", CONFIRM_URL, link_parts(CONFIRMATION_LINK, confirmation))

    assert response.json() == {"confirmed": "email_change"}
    assert not works(token)
    assert not still_logged_in(browser)
    body = call("GET", ME_URL, token=log_in(member)).json()
    assert (body["email"], body["pending_email"]) == ("new@example.com", "")


@pytest.mark.django_db
def test_a_new_address_registered_by_someone_else_meanwhile_is_refused():
    member = MemberFactory(email="old@example.com", pending_email="wanted@example.com")
    parts = {"uid": uid_of(member), "token": email_confirmation_token.make_token(member)}
    MemberFactory(email="wanted@example.com")

    body = error_body(call("POST", CONFIRM_URL, parts), 400)

    assert body["errors"] == {"email": ["This email address is already registered."]}
    member.refresh_from_db()
    assert member.email == "old@example.com"


@pytest.mark.django_db
def test_an_expired_confirmation_link_is_refused(settings):
    member = MemberFactory(email_confirmed_at=None)
    with clock.frozen_at(timezone.now()):
        parts = {"uid": uid_of(member), "token": email_confirmation_token.make_token(member)}
        clock.advance(timedelta(seconds=settings.EMAIL_CONFIRMATION_TIMEOUT + 1))

        body = error_body(call("POST", CONFIRM_URL, parts), 400)

    assert list(body["errors"]) == ["token"]
    member.refresh_from_db()
    assert member.email_confirmed_at is None


@pytest.mark.parametrize(
    "change",
    [
        {"uid": "not-base64!"},
        {"uid": urlsafe_base64_encode(b"not a uuid")},
        {"uid": urlsafe_base64_encode(b"00000000-0000-0000-0000-000000000000")},
        {"token": "abc-def"},
        {"token": ""},
        {"uid": ""},
    ],
)
@pytest.mark.django_db
def test_a_confirmation_with_a_bad_uid_or_token_is_refused(change):
    member = MemberFactory(email_confirmed_at=None)
    parts = {"uid": uid_of(member), "token": email_confirmation_token.make_token(member), **change}

    body = error_body(call("POST", CONFIRM_URL, parts), 400)

    assert set(body["errors"]) <= {"uid", "token"}
    member.refresh_from_db()
    assert member.email_confirmed_at is None


@pytest.mark.django_db
def test_one_members_link_does_not_confirm_another():
    member, other = MemberFactory(email_confirmed_at=None), MemberFactory(email_confirmed_at=None)
    parts = {"uid": uid_of(other), "token": email_confirmation_token.make_token(member)}

    error_body(call("POST", CONFIRM_URL, parts), 400)

    assert not User.objects.filter(pk__in=[member.pk, other.pk], email_confirmed_at__isnull=False).exists()


# --- Sending the confirmation link again --------------------------------------------------------------


@pytest.mark.django_db
def test_the_registration_link_is_sent_again_and_confirms(mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory(email="me@example.com", email_confirmed_at=None)

    with django_capture_on_commit_callbacks(execute=True):
        response = call("POST", RESEND_URL, token=AuthToken.objects.create(member)[1])

    assert response.status_code == 202
    assert response.content == b""
    assert [m.to for m in mailoutbox] == [["me@example.com"]]
    assert call("POST", CONFIRM_URL, link_parts(CONFIRMATION_LINK, mailoutbox[0])).status_code == 200


@pytest.mark.django_db
def test_a_pending_new_address_is_sent_its_link_again(mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory(email="old@example.com", pending_email="new@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = call("POST", RESEND_URL, {}, token=AuthToken.objects.create(member)[1])

    assert response.status_code == 202
    assert [m.to for m in mailoutbox] == [["new@example.com"]]
    assert call("POST", CONFIRM_URL, link_parts(CONFIRMATION_LINK, mailoutbox[0])).json() == {
        "confirmed": "email_change"
    }


@pytest.mark.django_db
def test_nothing_awaiting_confirmation_is_409(mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = call("POST", RESEND_URL, token=AuthToken.objects.create(member)[1])

    assert error_body(response, 409)["message"] == "Your email address is already confirmed."
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_link_is_sent_again_only_so_often_per_address(settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.CONFIRMATION_RESEND_LIMIT_PER_HOUR = 2
    member = MemberFactory(email_confirmed_at=None)
    token = AuthToken.objects.create(member)[1]

    with clock.frozen_at(timezone.now()), django_capture_on_commit_callbacks(execute=True):
        statuses = [call("POST", RESEND_URL, token=token).status_code for _ in range(2)]
        refused = call("POST", RESEND_URL, token=token)
        clock.advance(timedelta(minutes=30))
        still_refused = call("POST", RESEND_URL, token=token)
        clock.advance(timedelta(minutes=31))
        allowed_again = call("POST", RESEND_URL, token=token)

    assert statuses == [202, 202]
    body = error_body(refused, 429)
    assert body["message"] == "Too many confirmation emails were requested. Please try again in 60 minutes."
    assert int(refused["Retry-After"]) == 3600
    assert 1700 <= int(still_refused["Retry-After"]) <= 1800
    assert allowed_again.status_code == 202
    assert len(mailoutbox) == 3


@pytest.mark.django_db
def test_one_members_resends_do_not_use_up_anothers(settings):
    settings.CONFIRMATION_RESEND_LIMIT_PER_HOUR = 1
    member, other = MemberFactory(email_confirmed_at=None), MemberFactory(email_confirmed_at=None)
    call("POST", RESEND_URL, token=AuthToken.objects.create(member)[1])

    assert call("POST", RESEND_URL, token=AuthToken.objects.create(other)[1]).status_code == 202


@pytest.mark.django_db
def test_sending_again_needs_a_token():
    error_body(call("POST", RESEND_URL), 401)


# --- Changing the password -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_password_ends_every_login_and_the_answer_carries_a_new_token(cheap_passwords):
    member = member_with_password()
    this, other = log_in(member), log_in(member)
    browser = browser_logged_in(member)

    response = call(
        "POST", PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, token=this,
        HTTP_USER_AGENT="okhttp/4.12.0",
    )

    assert response.status_code == 200, response.content
    new = response.json()["token"]
    assert works(new)
    assert not works(this)
    assert not works(other)
    assert not still_logged_in(browser)
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert call("POST", TOKEN_URL, {"login_id": member.login_id, "password": PASSWORD}).status_code == 401
    assert works(log_in(member, NEW_PASSWORD))
    listed = call("GET", "/api/v1/auth/tokens", token=new).json()
    assert [(t["client"], t["current"]) for t in listed] == [("", False), ("OkHttp", True)]  # the login above is newer


@pytest.mark.django_db
def test_a_wrong_current_password_changes_nothing(cheap_passwords):
    member = member_with_password()
    token = log_in(member)

    response = call("POST", PASSWORD_URL, {"current_password": "not-it-1", "new_password": NEW_PASSWORD}, token=token)

    body = error_body(response, 400)
    assert body["errors"] == {"current_password": ["Your old password was entered incorrectly. Please enter it again."]}
    member.refresh_from_db()
    assert member.check_password(PASSWORD)
    assert works(token)


@pytest.mark.parametrize(
    "new_password",
    ["password", "12345678901", "short1", "member", "x" * 4097, ""],
)
@pytest.mark.django_db
def test_a_new_password_the_rules_refuse_changes_nothing(cheap_passwords, new_password):
    member = member_with_password(login_id="member7777")
    token = log_in(member)
    new_password = "member7777!" if new_password == "member" else new_password

    response = call("POST", PASSWORD_URL, {"current_password": PASSWORD, "new_password": new_password}, token=token)

    assert list(error_body(response, 400)["errors"]) == ["new_password"]
    member.refresh_from_db()
    assert member.check_password(PASSWORD)
    assert works(token)


@pytest.mark.django_db
def test_guessing_the_current_password_locks_like_the_login(cheap_passwords):
    member = member_with_password()
    token = log_in(member)
    wrong = {"current_password": "guess-1", "new_password": NEW_PASSWORD}

    statuses = [call("POST", PASSWORD_URL, wrong, token=token).status_code for _ in range(5)]
    right = call("POST", PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, token=token)
    login = call("POST", TOKEN_URL, {"login_id": member.login_id, "password": PASSWORD})

    assert statuses[:4] == [400] * 4
    assert "15 minutes" in error_body(right, 429)["message"]
    assert int(right["Retry-After"]) == 15 * 60
    error_body(login, 429)  # the same lockout: the guesses were failed logins of this login ID
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_password_changed_since_it_was_checked_is_not_overwritten(cheap_passwords):
    member = member_with_password()
    checked_hash = member.password
    elsewhere = User.objects.get(pk=member.pk)
    elsewhere.set_password("Changed-elsewhere-9")
    elsewhere.save()

    with pytest.raises(ValidationError) as refused:
        services.member_password_change(user=member, checked_hash=checked_hash, new_password=NEW_PASSWORD, client="")

    assert list(refused.value.message_dict) == ["current_password"]
    member.refresh_from_db()
    assert member.check_password("Changed-elsewhere-9")


@pytest.mark.parametrize(
    "data", [{}, {"current_password": PASSWORD}, {"new_password": NEW_PASSWORD}, {"current_password": 1, "new_password": 2}]
)
@pytest.mark.django_db
def test_a_password_change_with_missing_or_mistyped_fields_is_400(cheap_passwords, data):
    member = member_with_password()
    token = log_in(member)

    assert error_body(call("POST", PASSWORD_URL, data, token=token), 400)["errors"]
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


@pytest.mark.django_db
def test_changing_the_password_needs_a_token(cheap_passwords):
    member = member_with_password()

    error_body(call("POST", PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}), 401)

    member.refresh_from_db()
    assert member.check_password(PASSWORD)


# --- Resetting a forgotten password ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reset_is_answered_alike_whether_or_not_the_address_is_registered(
    mailoutbox, django_capture_on_commit_callbacks
):
    MemberFactory(email="member@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        registered = call("POST", RESET_URL, {"email": "Member@Example.com"})
        unknown = call("POST", RESET_URL, {"email": "nobody@example.com"})

    assert (registered.status_code, registered.content) == (unknown.status_code, unknown.content) == (202, b"")
    assert [m.to for m in mailoutbox] == [["member@example.com"]]
    assert RESET_LINK.search(mailoutbox[0].body)


@pytest.mark.django_db
def test_a_forgotten_password_is_reset_through_the_api_and_every_login_ends(
    cheap_passwords, mailoutbox, django_capture_on_commit_callbacks
):
    member = member_with_password(email="member@example.com")
    token, browser = log_in(member), browser_logged_in(member)
    with django_capture_on_commit_callbacks(execute=True):
        call("POST", RESET_URL, {"email": "member@example.com"})
    parts = link_parts(RESET_LINK, mailoutbox[0])

    response = call("POST", RESET_CONFIRM_URL, {**parts, "new_password": NEW_PASSWORD})

    assert response.status_code == 204, response.content
    assert not works(token)
    assert not still_logged_in(browser)
    assert works(log_in(member, NEW_PASSWORD))
    again = error_body(call("POST", RESET_CONFIRM_URL, {**parts, "new_password": "Another-one-77"}), 400)
    assert again["errors"] == {"token": ["This password reset link is invalid, has expired or has already been used."]}


@pytest.mark.django_db
def test_a_refused_new_password_leaves_the_link_usable(cheap_passwords):
    member = member_with_password()
    parts = {"uid": uid_of(member), "token": default_token_generator.make_token(member)}

    refused = call("POST", RESET_CONFIRM_URL, {**parts, "new_password": "password"})
    accepted = call("POST", RESET_CONFIRM_URL, {**parts, "new_password": NEW_PASSWORD})

    assert list(error_body(refused, 400)["errors"]) == ["new_password"]
    assert accepted.status_code == 204


@pytest.mark.parametrize(
    "change",
    [
        {"uid": "@@@"},
        {"uid": urlsafe_base64_encode(b"00000000-0000-0000-0000-000000000000")},
        {"token": "abc-def"},
        {"token": "x" * 201},
    ],
)
@pytest.mark.django_db
def test_a_reset_with_a_bad_link_changes_nothing(cheap_passwords, change):
    member = member_with_password()
    parts = {"uid": uid_of(member), "token": default_token_generator.make_token(member), **change}

    body = error_body(call("POST", RESET_CONFIRM_URL, {**parts, "new_password": NEW_PASSWORD}), 400)

    assert list(body["errors"]) == ["token"]
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


@pytest.mark.django_db
def test_an_expired_reset_link_is_refused(cheap_passwords, settings, monkeypatch):
    member = member_with_password()
    parts = {"uid": uid_of(member), "token": default_token_generator.make_token(member)}
    later = default_token_generator._now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)

    body = error_body(call("POST", RESET_CONFIRM_URL, {**parts, "new_password": NEW_PASSWORD}), 400)

    assert list(body["errors"]) == ["token"]
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_reset_link_of_an_ended_account_is_refused(cheap_passwords):
    member = member_with_password()
    parts = {"uid": uid_of(member), "token": default_token_generator.make_token(member)}
    User.objects.filter(pk=member.pk).update(is_active=False)

    error_body(call("POST", RESET_CONFIRM_URL, {**parts, "new_password": NEW_PASSWORD}), 400)


@pytest.mark.django_db(transaction=True)
def test_one_reset_link_used_twice_at_once_sets_one_password(cheap_passwords):
    member = member_with_password()
    parts = {"uid": uid_of(member), "token": default_token_generator.make_token(member)}

    results = at_once(
        lambda: call("POST", RESET_CONFIRM_URL, {**parts, "new_password": "First-choice-11"}).status_code,
        lambda: call("POST", RESET_CONFIRM_URL, {**parts, "new_password": "Second-choice-22"}).status_code,
    )

    assert sorted(results) == [204, 400], results
    member.refresh_from_db()
    assert member.check_password("First-choice-11") != member.check_password("Second-choice-22")


@pytest.mark.django_db
def test_reset_requests_are_limited_per_email_address_registered_or_not(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    MemberFactory(email="member@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        answers = {
            email: [call("POST", RESET_URL, {"email": email}, REMOTE_ADDR=f"203.0.113.{n}").status_code for n in range(3)]
            for email in ("member@example.com", "nobody@example.com")
        }
        refused = call("POST", RESET_URL, {"email": "member@example.com"}, REMOTE_ADDR="203.0.113.9")

    assert answers == {"member@example.com": [202, 202, 429], "nobody@example.com": [202, 202, 429]}
    body = error_body(refused, 429)
    assert body["message"] == "Too many password reset requests were made. Please try again in 60 minutes."
    assert int(refused["Retry-After"]) == 3600
    assert len(mailoutbox) == 2


@pytest.mark.django_db
def test_reset_requests_are_limited_per_client_address(settings):
    settings.PASSWORD_RESET_LIMIT_PER_IP = 2

    answers = [call("POST", RESET_URL, {"email": f"someone{n}@example.com"}).status_code for n in range(3)]

    assert answers == [202, 202, 429]
    assert call("POST", RESET_URL, {"email": "x@example.com"}, REMOTE_ADDR="198.51.100.7").status_code == 202


@pytest.mark.django_db
def test_the_reset_page_and_the_api_share_their_limits(settings):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    page = Client()
    for _ in range(2):
        assert page.post(reverse("accounts:password_reset"), {"email": "member@example.com"}).status_code == 302

    error_body(call("POST", RESET_URL, {"email": "member@example.com"}, REMOTE_ADDR="198.51.100.7"), 429)


@pytest.mark.parametrize("email", ["", "   ", "not-an-email", "a@", "a" * 250 + "@example.com", None, 5])
@pytest.mark.django_db
def test_a_reset_for_something_that_is_no_address_is_400(mailoutbox, email):
    body = error_body(call("POST", RESET_URL, {"email": email}), 400)

    assert list(body["errors"]) == ["email"]
    assert mailoutbox == []


# --- Errors in the request's language -------------------------------------------------------------------


@pytest.mark.parametrize("url", [CONFIRM_URL, RESET_URL, RESET_CONFIRM_URL, PASSWORD_URL, ME_URL])
@pytest.mark.parametrize("language", ["ja", "en", "ko"])
@pytest.mark.django_db
def test_errors_of_the_new_endpoints_are_in_the_requests_language(url, language):
    token = AuthToken.objects.create(MemberFactory())[1]
    method = "PATCH" if url == ME_URL else "POST"
    data = {"language": "xx"} if url == ME_URL else {}

    response = call(method, url, data, token=token, language=language)

    body = error_body(response, 400)
    assert response["Content-Language"] == language
    for text in [body["message"], *[m for messages in body["errors"].values() for m in messages]]:
        if language == "en":
            assert text.isascii(), text
        elif language == "ja":
            assert JAPANESE.search(text), text
        else:
            assert re.search(r"[\uac00-\ud7a3]", text), text


@pytest.mark.django_db
def test_the_reset_limit_is_told_in_japanese(settings):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 0

    body = error_body(call("POST", RESET_URL, {"email": "member@example.com"}, language="ja"), 429)

    assert JAPANESE.search(body["message"])
    assert body["message"].count("お試しください") == 1  # said once, not twice
