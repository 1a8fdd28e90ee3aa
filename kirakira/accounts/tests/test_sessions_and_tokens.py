"""A member's logins: a new password (changed or reset), a confirmed email change and a
deactivation end every API token and every other browser session; "my page" lists the member's
browsers and tokens (when made, last used, which client) and ends each of them for real."""

import io
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from kirakira.accounts.models import BrowserSession, MemberToken, User
from kirakira.accounts.services import logins_prune
from kirakira.accounts.session_tracking import LAST_USE_INTERVAL, describe_client
from kirakira.api.testing import api_token
from kirakira.common import clock
from kirakira.common.testing import PASSWORD, MemberFactory
from kirakira.privacy.catalog import catalog
from kirakira.privacy.catalog.checks import catalog_problems

from .helpers import link_in, page_text

LOGIN = "/accounts/login/"
MYPAGE = "/accounts/mypage/"
SESSIONS = "/accounts/sessions/"
SESSIONS_EN = "/en/accounts/sessions/"
TOKEN_URL = "/api/v1/auth/token"
ME_URL = "/api/v1/me"
NEW_PASSWORD = "a-brand-new-secret-42"

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters (login, password reset) live in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


def browser(user_agent=FIREFOX_WINDOWS) -> Client:
    return Client(HTTP_USER_AGENT=user_agent)


def log_in(client, member, password=PASSWORD) -> Client:
    """Log in through the login page, as a person would."""
    response = client.post(LOGIN, {"username": member.login_id, "password": password})
    assert response.status_code == 302, page_text(response)
    assert is_logged_in(client)
    return client


def is_logged_in(client) -> bool:
    return client.get(MYPAGE).status_code == 200


def token_works(token) -> bool:
    status = Client().get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {token}").status_code
    assert status in (200, 401), status
    return status == 200


def row_of(client) -> BrowserSession:
    return BrowserSession.objects.get(session_key=client.cookies["sessionid"].value)


@pytest.fixture
def member(db):
    return MemberFactory(login_id="hanako", email="hanako@example.com")


# --- A new password ends the other logins ----------------------------------------------------------


@pytest.mark.django_db
def test_changing_the_password_ends_every_token_and_every_other_browser(member):
    here, elsewhere = log_in(browser(), member), log_in(browser(SAFARI_IPHONE), member)
    token = api_token(member)
    assert token_works(token)

    response = here.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert not token_works(token)
    assert not is_logged_in(elsewhere)
    assert is_logged_in(here)  # the browser that changed it stays logged in
    assert list(BrowserSession.objects.filter(user=member)) == [row_of(here)]
    assert not AuthToken.objects.filter(user=member).exists()


@pytest.mark.django_db
def test_a_password_reset_by_the_mailed_link_ends_every_token_and_browser(
    member, mailoutbox, django_capture_on_commit_callbacks
):
    logged_in = log_in(browser(SAFARI_IPHONE), member)
    token = api_token(member)
    resetting = browser()
    with django_capture_on_commit_callbacks(execute=True):
        assert resetting.post("/accounts/password/reset/", {"email": member.email}).status_code == 302

    landing = resetting.get(link_in(mailoutbox[0]))
    assert landing.status_code == 302
    response = resetting.post(landing["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/complete/"
    assert not token_works(token)
    assert not is_logged_in(logged_in)
    assert not BrowserSession.objects.filter(user=member).exists()
    assert token_works(api_token(member, password=NEW_PASSWORD))


@pytest.mark.django_db
def test_a_reset_in_a_browser_logged_in_as_the_member_logs_that_browser_out_cleanly(
    member, mailoutbox, django_capture_on_commit_callbacks
):
    # Django keeps a reset from logging anyone in; the browser that reset it is not kept either.
    here = log_in(browser(), member)
    with django_capture_on_commit_callbacks(execute=True):
        here.post("/accounts/password/reset/", {"email": member.email})
    landing = here.get(link_in(mailoutbox[0]))

    response = here.post(landing["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert not is_logged_in(here)
    assert not BrowserSession.objects.filter(user=member).exists()


@pytest.mark.django_db
def test_a_password_upgraded_on_login_keeps_the_tokens(member, settings):
    # Logging in may re-hash the same password with another hasher: not a new password. (Django
    # itself logs other browsers out then, as their session hash is made from the password hash.)
    token = api_token(member)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]

    log_in(browser(), member)

    member.refresh_from_db()
    assert member.password.startswith("pbkdf2_")
    assert token_works(token)


# --- An email change and a deactivation end them too ----------------------------------------------


@pytest.mark.django_db
def test_confirming_a_new_email_address_ends_every_token_and_every_other_browser(
    member, mailoutbox, django_capture_on_commit_callbacks
):
    here, elsewhere = log_in(browser(), member), log_in(browser(SAFARI_IPHONE), member)
    token = api_token(member)
    with django_capture_on_commit_callbacks(execute=True):
        here.post(MYPAGE, {"name": member.name, "email": "hanako.new@example.com"})
    link = link_in(next(m for m in mailoutbox if m.to == ["hanako.new@example.com"]))
    assert token_works(token)  # asking for the change ends nothing: only the confirmation does

    assert here.get(link).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert here.post(link).status_code == 302

    assert User.objects.get(pk=member.pk).email == "hanako.new@example.com"
    assert not token_works(token)
    assert not is_logged_in(elsewhere)
    assert is_logged_in(here)


@pytest.mark.django_db
def test_a_confirmation_opened_while_logged_out_ends_every_browser(
    member, mailoutbox, django_capture_on_commit_callbacks
):
    logged_in = log_in(browser(), member)
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(MYPAGE, {"name": member.name, "email": "hanako.new@example.com"})
    link = link_in(next(m for m in mailoutbox if m.to == ["hanako.new@example.com"]))

    assert browser(SAFARI_IPHONE).post(link).status_code == 302

    assert not is_logged_in(logged_in)


@pytest.mark.parametrize("update_fields", [None, ["is_active"]])
@pytest.mark.django_db
def test_deactivating_a_member_ends_every_token_and_browser_for_good(member, update_fields):
    logged_in = log_in(browser(), member)
    token = api_token(member)

    member.is_active = False
    member.save(update_fields=update_fields)  # as the back office's form does
    member.is_active = True
    member.save()  # reactivated: what was ended stays ended

    assert not token_works(token)
    assert not is_logged_in(logged_in)
    assert not BrowserSession.objects.filter(user=member).exists()
    assert not MemberToken.objects.filter(token__user=member).exists()


@pytest.mark.django_db
def test_saving_other_fields_of_an_active_member_ends_nothing(member):
    logged_in = log_in(browser(), member)
    token = api_token(member)

    member.name = "山田 花子"
    member.save()

    assert token_works(token)
    assert is_logged_in(logged_in)


@pytest.mark.django_db
def test_logging_out_removes_the_browsers_row(member):
    logged_in = log_in(browser(), member)

    logged_in.post("/accounts/logout/")

    assert not BrowserSession.objects.filter(user=member).exists()


# --- "My page": the list ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_page_links_to_the_logins_page(member):
    assert 'href="/accounts/sessions/"' in page_text(log_in(browser(), member).get(MYPAGE))


@pytest.mark.django_db
def test_the_logins_page_lists_browsers_and_tokens_with_a_short_client_label(member):
    here = log_in(browser(FIREFOX_WINDOWS), member)
    log_in(browser(SAFARI_IPHONE), member)
    token = api_token(member, user_agent="curl/8.5.0")

    response = here.get(SESSIONS_EN)

    assert response.status_code == 200
    text = page_text(response)
    assert "Firefox (Windows)" in text
    assert "Safari (iPhone)" in text
    assert "curl" in text
    rows = re.findall(r"<tr>(.*?)</tr>", text, flags=re.S)
    marked = [row for row in rows if "(this browser)" in row]
    assert len(marked) == 1 and "Firefox (Windows)" in marked[0]
    # Nothing that logs in: no session key, no token beyond its first characters.
    for row in BrowserSession.objects.filter(user=member):
        assert row.session_key not in text
    assert token not in text
    assert token[:8] in text
    assert token[:9] not in text
    # The raw header is neither shown nor kept.
    assert "Gecko/20100101" not in text
    assert not BrowserSession.objects.filter(session_data__contains="Gecko").exists()


@pytest.mark.django_db
def test_the_logins_page_shows_when_each_login_was_made_and_last_used(member):
    here = log_in(browser(), member)
    token = api_token(member)
    token_works(token)
    row = row_of(here)
    member_token = MemberToken.objects.get(token__user=member)

    assert row.created_at is not None and row.last_used_at is not None
    assert member_token.last_used_at is not None
    text = page_text(here.get(SESSIONS_EN))
    assert "Not used yet" not in text


@pytest.mark.django_db
def test_the_logins_page_is_only_for_logged_in_members(client):
    response = client.get(SESSIONS)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={SESSIONS}"


@pytest.mark.django_db
def test_the_logins_page_makes_a_fixed_number_of_queries(member, django_assert_num_queries):
    here = log_in(browser(), member)
    api_token(member)
    here.get(SESSIONS)  # warm-up: the first page view may record the session's first use

    # The session with its member (one query); the browsers and the tokens; what every page reads
    # (the policy version, the policy and terms change notices, notices) and the usage log's row.
    with django_assert_num_queries(9):
        assert here.get(SESSIONS).status_code == 200
    for user_agent in (SAFARI_IPHONE, CHROME_ANDROID, EDGE_WINDOWS):
        log_in(browser(user_agent), member)
        api_token(member, user_agent=user_agent)
    with django_assert_num_queries(9):  # as many with four browsers and four tokens
        response = here.get(SESSIONS)
    assert page_text(response).count("<form method=\"post\" action=\"/accounts/sessions/") == 8


# --- "My page": ending a login ------------------------------------------------------------------------


def _end_session_url(row) -> str:
    return f"/accounts/sessions/{row.public_id}/end/"


def _end_token_url(member_token) -> str:
    return f"/accounts/sessions/tokens/{member_token.pk}/end/"


@pytest.mark.django_db
def test_ending_another_browser_logs_it_out_on_its_next_request(member):
    here, elsewhere = log_in(browser(), member), log_in(browser(SAFARI_IPHONE), member)

    response = here.post(_end_session_url(row_of(elsewhere)))

    assert response.status_code == 302
    assert response["Location"] == SESSIONS
    after = elsewhere.get(MYPAGE)
    assert after.status_code == 302 and after["Location"].startswith("/accounts/login/")
    assert is_logged_in(here)
    assert BrowserSession.objects.filter(user=member).count() == 1


@pytest.mark.django_db
def test_ending_this_browser_logs_it_out(member):
    here = log_in(browser(), member)

    response = here.post(_end_session_url(row_of(here)))

    assert response.status_code == 302
    assert not is_logged_in(here)
    assert not BrowserSession.objects.filter(user=member).exists()


@pytest.mark.django_db
def test_ending_a_token_on_the_page_makes_the_api_refuse_it(member):
    here = log_in(browser(), member)
    token, other = api_token(member), api_token(member)
    member_token = MemberToken.objects.get(token__token_key=token[:15])

    response = here.post(_end_token_url(member_token))

    assert response.status_code == 302
    assert Client().get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert token_works(other)


@pytest.mark.django_db
def test_another_member_cannot_end_my_browser_or_my_token(member):
    mine = log_in(browser(), member)
    token = api_token(member)
    intruder = log_in(browser(SAFARI_IPHONE), MemberFactory())

    session_response = intruder.post(_end_session_url(row_of(mine)))
    token_response = intruder.post(_end_token_url(MemberToken.objects.get(token__user=member)))

    assert session_response.status_code == 404
    assert token_response.status_code == 404
    assert is_logged_in(mine)
    assert token_works(token)


@pytest.mark.django_db
def test_ending_an_unknown_login_is_a_404(member):
    here = log_in(browser(), member)

    assert here.post("/accounts/sessions/00000000-0000-0000-0000-000000000000/end/").status_code == 404
    assert here.post("/accounts/sessions/tokens/00000000-0000-0000-0000-000000000000/end/").status_code == 404
    assert here.post("/accounts/sessions/not-an-id/end/").status_code == 404


@pytest.mark.django_db
def test_ending_needs_a_post_with_the_csrf_token(member):
    here = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=FIREFOX_WINDOWS)
    log_in_page = here.get(LOGIN)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page_text(log_in_page)).group(1)
    here.post(LOGIN, {"username": member.login_id, "password": PASSWORD, "csrfmiddlewaretoken": csrf})
    elsewhere = log_in(browser(SAFARI_IPHONE), member)
    url = _end_session_url(row_of(elsewhere))

    assert here.get(url).status_code == 405
    assert here.post(url).status_code == 403
    assert is_logged_in(elsewhere)
    page = here.get(SESSIONS)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page_text(page)).group(1)
    assert here.post(url, {"csrfmiddlewaretoken": csrf}).status_code == 302
    assert not is_logged_in(elsewhere)


# --- Last use, expiry and the records' own lifetime -------------------------------------------------


@pytest.mark.django_db
def test_last_use_is_written_at_most_every_few_minutes(member):
    with clock.frozen_at(timezone.now()):
        here = log_in(browser(), member)
        token = api_token(member)
        token_works(token)
        session_use, token_use = row_of(here).last_used_at, MemberToken.objects.get().last_used_at
        assert session_use == token_use == clock.now()

        clock.advance(LAST_USE_INTERVAL - timedelta(seconds=1))
        here.get(MYPAGE)
        token_works(token)
        assert row_of(here).last_used_at == session_use
        assert MemberToken.objects.get().last_used_at == token_use

        clock.advance(timedelta(seconds=2))
        here.get(MYPAGE)
        token_works(token)
        assert row_of(here).last_used_at == clock.now()
        assert MemberToken.objects.get().last_used_at == clock.now()


@pytest.mark.django_db
def test_pruning_removes_expired_sessions_and_tokens_and_those_of_deactivated_members(member):
    kept = log_in(browser(), member)
    kept_token = api_token(member)
    expired = log_in(browser(SAFARI_IPHONE), member)
    BrowserSession.objects.filter(pk=row_of(expired).pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired_token = api_token(member)
    AuthToken.objects.filter(token_key=expired_token[:15]).update(expiry=timezone.now() - timedelta(seconds=1))
    gone = MemberFactory()
    log_in(browser(), gone)
    api_token(gone)
    User.objects.filter(pk=gone.pk).update(is_active=False)  # bypasses User.save

    assert logins_prune() == (2, 2)

    assert BrowserSession.objects.filter(user__isnull=False).count() == 1
    assert is_logged_in(kept) and token_works(kept_token)
    assert MemberToken.objects.count() == 1


@pytest.mark.django_db
def test_the_prune_command_and_clearsessions_both_clear_expired_sessions(member):
    expired = log_in(browser(), member)
    BrowserSession.objects.filter(pk=row_of(expired).pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    call_command("clearsessions")
    assert not BrowserSession.objects.exists()

    log_in(browser(), member)
    BrowserSession.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    call_command("prune_logins", stdout=io.StringIO())
    assert not BrowserSession.objects.exists()


# --- The client's label and the catalog ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (FIREFOX_WINDOWS, "Firefox (Windows)"),
        (SAFARI_IPHONE, "Safari (iPhone)"),
        (CHROME_ANDROID, "Chrome (Android)"),
        (EDGE_WINDOWS, "Edge (Windows)"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/18.1 Safari/605.1.15",
            "Safari (macOS)",
        ),
        ("curl/8.5.0", "curl"),
        ("python-requests/2.32.3", "Python"),
        ("", ""),
        ("my-own-app/1.0 (hanako@example.com)", ""),
    ],
)
def test_the_client_label_comes_from_a_closed_list(user_agent, label):
    assert describe_client(user_agent) == label


def test_the_login_records_are_declared_in_the_privacy_catalog():
    assert catalog_problems([BrowserSession, MemberToken], catalog) == []
    assert catalog.for_model(BrowserSession).record is not None
    assert catalog.for_model(MemberToken).record is not None
