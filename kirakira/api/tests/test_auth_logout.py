"""The API's logins: logging out (this token or all of them), the list of a member's tokens, ending
one, and the per-member limit on live tokens."""

from datetime import timedelta

import pytest
import yaml
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from kirakira.accounts import services
from kirakira.accounts.models import MemberToken
from kirakira.api.testing import api_token, error_body
from kirakira.common.testing import PASSWORD, MemberFactory, at_once

TOKEN_URL = "/api/v1/auth/token"
LOGOUT_URL = "/api/v1/auth/logout"
LOGOUT_ALL_URL = "/api/v1/auth/logout-all"
TOKENS_URL = "/api/v1/auth/tokens"
ME_URL = "/api/v1/me"


@pytest.fixture
def member(db, settings):
    # A cheap hasher: these tests log in many times; hashing is not their subject.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return MemberFactory(password=make_password(PASSWORD))


def log_in(member, user_agent="curl/8.5.0") -> str:
    return api_token(member, user_agent=user_agent)


def auth(token) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def works(token) -> bool:
    status = Client().get(ME_URL, **auth(token)).status_code
    assert status in (200, 401), status
    return status == 200


# --- Logging out -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_ends_the_token_of_the_request_and_no_other(client, member):
    this, other = log_in(member), log_in(member)

    response = client.generic("POST", LOGOUT_URL, **auth(this))  # no body, as curl -X POST sends

    assert response.status_code == 204
    assert response.content == b""
    assert not works(this)
    assert works(other)
    assert MemberToken.objects.filter(token__user=member).count() == 1


@pytest.mark.django_db
def test_logout_all_ends_every_token_of_the_member_only(client, member):
    tokens = [log_in(member) for _ in range(3)]
    someone_else = log_in(MemberFactory(password=make_password(PASSWORD)))

    response = client.post(LOGOUT_ALL_URL, content_type="application/json", **auth(tokens[0]))

    assert response.status_code == 204
    assert not any(works(token) for token in tokens)
    assert works(someone_else)
    assert not MemberToken.objects.filter(token__user=member).exists()


@pytest.mark.django_db
def test_logout_all_leaves_the_members_browsers_logged_in(client, member):
    browser = Client()
    assert browser.post("/accounts/login/", {"username": member.login_id, "password": PASSWORD}).status_code == 302

    assert client.generic("POST", LOGOUT_ALL_URL, **auth(log_in(member))).status_code == 204

    assert browser.get("/accounts/mypage/").status_code == 200


@pytest.mark.parametrize("url", [LOGOUT_URL, LOGOUT_ALL_URL])
@pytest.mark.django_db
def test_logging_out_needs_a_valid_token_and_answers_json(client, member, url):
    token = log_in(member)

    body = error_body(client.post(url, HTTP_ACCEPT_LANGUAGE="en"), 401)
    assert body["message"]
    error_body(client.post(url, **auth("0" * 64)), 401)
    assert works(token)


@pytest.mark.parametrize("url", [LOGOUT_URL, LOGOUT_ALL_URL])
@pytest.mark.django_db
def test_logging_out_refuses_a_body_that_is_not_an_object(client, member, url):
    token = log_in(member)

    error_body(client.post(url, "[1, 2]", content_type="application/json", **auth(token)), 400)
    error_body(client.post(url, "{not json", content_type="application/json", **auth(token)), 400)
    assert works(token)
    assert client.post(url, "{}", content_type="application/json", **auth(token)).status_code == 204


@pytest.mark.parametrize("url", [LOGOUT_URL, LOGOUT_ALL_URL])
@pytest.mark.django_db
def test_logging_out_is_a_post(client, member, url):
    token = log_in(member)

    error_body(client.get(url, **auth(token)), 405)
    assert works(token)


# --- The limit on live tokens -----------------------------------------------------------------------


@pytest.mark.django_db
def test_25_logins_leave_the_20_newest_tokens_alive(member, settings):
    assert settings.REST_KNOX["TOKEN_LIMIT_PER_USER"] == 20

    tokens = [log_in(member) for _ in range(25)]

    assert AuthToken.objects.filter(user=member).count() == 20
    assert [works(token) for token in tokens] == [False] * 5 + [True] * 20
    assert MemberToken.objects.filter(token__user=member).count() == 20


@pytest.mark.django_db
def test_the_limit_is_the_setting_and_counts_each_member_alone(member, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    other = MemberFactory(password=make_password(PASSWORD))
    others = [log_in(other) for _ in range(2)]

    first, second, third = (log_in(member) for _ in range(3))

    assert (works(first), works(second), works(third)) == (False, True, True)
    assert all(works(token) for token in others)


@pytest.mark.django_db
def test_expired_tokens_are_deleted_at_login_and_do_not_count(member, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    old, live = log_in(member), log_in(member)
    AuthToken.objects.filter(token_key=old[:15]).update(expiry=timezone.now() - timedelta(seconds=1))

    new = log_in(member)

    assert works(live) and works(new)
    assert AuthToken.objects.filter(user=member).count() == 2


@pytest.mark.django_db
def test_a_login_is_refused_if_the_password_changed_after_it_was_checked(member):
    # The token service re-reads the member under a row lock: a password changed between the
    # password check and the token's creation refuses the token (as a deactivation would).
    checked = type(member).objects.get(pk=member.pk)
    member.set_password("a-brand-new-secret-42")
    member.save()

    assert services.member_token_create(user=checked, client="") is None
    assert not AuthToken.objects.filter(user=member).exists()


@pytest.mark.django_db(transaction=True)
def test_logins_at_the_same_moment_keep_to_the_limit(settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    member = MemberFactory()
    services.member_token_create(user=member, client="")
    results = at_once(*[lambda: services.member_token_create(user=member, client="")] * 4)

    assert all(isinstance(result, tuple) for result in results), results
    assert AuthToken.objects.filter(user=member).count() == 2
    assert MemberToken.objects.filter(token__user=member).count() == 2


# --- Listing and ending tokens ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_token_list_shows_each_live_token_without_its_secret(client, member):
    first = log_in(member, user_agent="python-requests/2.32.3")
    this = log_in(member, user_agent="curl/8.5.0")
    works(first)

    response = client.get(TOKENS_URL, **auth(this))

    assert response.status_code == 200
    listed = response.json()
    assert [entry["client"] for entry in listed] == ["curl", "Python"]  # newest first
    assert [entry["current"] for entry in listed] == [True, False]
    assert [entry["prefix"] for entry in listed] == [this[:8], first[:8]]
    assert listed[1]["last_used"] is not None
    assert set(listed[0]) == {"id", "prefix", "client", "created", "last_used", "expiry", "current"}
    text = response.content.decode()
    assert this not in text and first not in text
    assert this[:9] not in text
    for digest in AuthToken.objects.values_list("digest", flat=True):
        assert digest not in text


@pytest.mark.django_db
def test_a_member_ends_one_of_their_tokens_by_its_id(client, member):
    this, lost = log_in(member), log_in(member)
    lost_id = next(entry["id"] for entry in client.get(TOKENS_URL, **auth(this)).json() if not entry["current"])

    response = client.delete(f"{TOKENS_URL}/{lost_id}", **auth(this))

    assert response.status_code == 204
    assert not works(lost)
    assert works(this)


@pytest.mark.django_db
def test_another_members_token_is_a_404_and_stays(client, member):
    victim = MemberFactory(password=make_password(PASSWORD))
    victims = log_in(victim)
    victim_id = client.get(TOKENS_URL, **auth(victims)).json()[0]["id"]

    response = client.delete(f"{TOKENS_URL}/{victim_id}", **auth(log_in(member)))

    error_body(response, 404)
    assert works(victims)
    error_body(client.delete(f"{TOKENS_URL}/not-an-id", **auth(victims)), 404)


@pytest.mark.django_db
def test_listing_and_ending_tokens_need_a_token(client, member):
    error_body(client.get(TOKENS_URL), 401)
    error_body(client.delete(f"{TOKENS_URL}/00000000-0000-0000-0000-000000000000"), 401)


# --- The schema ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_describes_logout_and_the_token_list(client):
    document = yaml.safe_load(client.get("/api/schema/").content)
    paths = document["paths"]

    for path, method in [
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/logout-all", "post"),
        ("/api/v1/auth/tokens", "get"),
        ("/api/v1/auth/tokens/{token_id}", "delete"),
    ]:
        operation = paths[path][method]
        assert operation.get("security"), path
        assert "401" in operation["responses"], path
    assert "204" in paths["/api/v1/auth/logout"]["post"]["responses"]
    assert "404" in paths["/api/v1/auth/tokens/{token_id}"]["delete"]["responses"]
    # The limit is documented where clients read about logging in.
    assert "at most 20 live tokens" in paths["/api/v1/auth/token"]["post"]["description"]
