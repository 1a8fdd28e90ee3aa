"""Rate limits on the account pages: the registration page counts with the API's register
throttle; password reset requests are limited per client address and per address asked about,
without telling who is registered; and one login ID tried from many addresses is slowed down,
never locked, and never for the addresses its owner uses.

Over a limit the answer is 429 with Retry-After and a message in the page's language (JSON for
the API); a page keeps what was typed."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as live_settings
from django.core.cache import cache
from rest_framework.settings import api_settings

from kirakira.accounts.models import User
from kirakira.api.testing import error_body
from kirakira.common import clock
from kirakira.common.ratelimit import ScopedThrottle
from kirakira.common.testing import PASSWORD, StaffFactory
from kirakira.usage.models import UsageRecord

from .helpers import full_width, logged_in_user_id, page_text

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def same_page(response) -> str:
    """The page without its form's CSRF token (a new mask on every page)."""
    return _CSRF.sub("", page_text(response))

pytestmark = pytest.mark.django_db

REGISTER_PAGE = "/en/accounts/register/"
REGISTER_API = "/api/v1/auth/register"
RESET = "/en/accounts/password/reset/"
LOGIN = "/en/accounts/login/"
TOKEN = "/api/v1/auth/token"
START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
WRONG = "wrong-password-123"


def use_register_rate(settings, monkeypatch, rate):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "register": rate}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # DRF's throttle classes copy the rates when rest_framework.throttling is imported.
    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", rates)


def registration(n=0, **overrides):
    data = {
        "login_id": f"hanako{n}",
        "name": f"山田 花子{n}",
        "email": f"hanako{n}@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "accept_terms": "on",
    }
    data.update(overrides)
    return data


def api_register(client, n=0, **extra):
    data = {"login_id": f"taro{n}", "name": "Taro", "email": f"taro{n}@example.com", "password": PASSWORD, "accept_terms": True}
    return client.post(REGISTER_API, json.dumps(data), content_type="application/json", **extra)


# --- Registration ---------------------------------------------------------------------------------


def test_the_registration_page_over_the_rate_is_429_and_keeps_the_form(client, settings, monkeypatch):
    use_register_rate(settings, monkeypatch, "2/hour")
    assert client.post(REGISTER_PAGE, {}).status_code == 200  # refused input counts, as in the API
    assert client.post(REGISTER_PAGE, {}).status_code == 200

    response = client.post(REGISTER_PAGE, registration(1))

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    body = page_text(response)
    assert "Too many registrations came from your network. Please try again in 60 minutes." in body
    assert (
        'value="hanako1"' in body and 'value="山田 花子1"' in body and 'value="hanako1@example.com"' in body
    )
    assert not User.objects.exists()


def test_the_page_and_the_api_share_one_count_per_address(client, settings, monkeypatch):
    use_register_rate(settings, monkeypatch, "2/hour")

    assert api_register(client, 1).status_code == 201
    client.logout()
    assert client.post(REGISTER_PAGE, registration(2)).status_code == 302
    client.logout()

    assert client.post(REGISTER_PAGE, registration(3)).status_code == 429
    error_body(api_register(client, 4), 429)
    assert User.objects.count() == 2


def test_a_page_refused_by_the_api_count_tells_the_api_too(client, settings, monkeypatch):
    use_register_rate(settings, monkeypatch, "1/hour")
    assert client.post(REGISTER_PAGE, {}).status_code == 200

    error_body(api_register(client), 429)


def test_another_address_is_not_held_back(client, settings, monkeypatch):
    use_register_rate(settings, monkeypatch, "1/hour")
    client.post(REGISTER_PAGE, {}, REMOTE_ADDR="203.0.113.1")
    assert client.post(REGISTER_PAGE, {}, REMOTE_ADDR="203.0.113.1").status_code == 429

    assert client.post(REGISTER_PAGE, registration(1), REMOTE_ADDR="203.0.113.2").status_code == 302


def test_opening_the_registration_page_does_not_count(client, settings, monkeypatch):
    use_register_rate(settings, monkeypatch, "1/hour")
    for _ in range(3):
        assert client.get(REGISTER_PAGE).status_code == 200

    assert client.post(REGISTER_PAGE, registration(1)).status_code == 302


def test_the_page_obeys_the_configured_rate(client):
    allowed, _duration = ScopedThrottle().parse_rate(api_settings.DEFAULT_THROTTLE_RATES["register"])
    for _ in range(allowed):
        assert client.post(REGISTER_PAGE, {}).status_code == 200

    assert client.post(REGISTER_PAGE, registration(1)).status_code == 429


# --- Password reset requests ----------------------------------------------------------------------


def ask(client, email, ip="198.51.100.1"):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip)


RESET_LIMITED = "Too many password reset requests were made. Please try again in"


def test_the_defaults():
    assert live_settings.PASSWORD_RESET_LIMIT_PER_IP == 10
    assert live_settings.PASSWORD_RESET_LIMIT_PER_EMAIL == 3
    assert live_settings.LOGIN_ID_SLOWDOWN_AFTER == 10
    assert live_settings.LOGIN_ID_SLOWDOWN_WINDOW == 15 * 60
    assert live_settings.LOGIN_ID_SLOWDOWN_SECONDS == 30
    assert live_settings.LOGIN_ID_FAMILIAR_DAYS == 30


def test_reset_requests_are_limited_per_client_address(
    client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_LIMIT_PER_IP = 2
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 100
    member = User.objects.create_user("victim01", "Victim", "victim@example.com", PASSWORD)
    with clock.frozen_at(START):
        assert ask(client, "a@example.com").status_code == 302
        clock.advance(timedelta(minutes=15))
        assert ask(client, "b@example.com").status_code == 302

        with django_capture_on_commit_callbacks(execute=True):
            response = ask(client, member.email)

    assert response.status_code == 429
    assert int(response["Retry-After"]) == 45 * 60  # when the first request is an hour old
    assert f"{RESET_LIMITED} 45 minutes." in page_text(response)
    assert 'value="victim@example.com"' in page_text(response)
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert ask(client, member.email, ip="198.51.100.2").status_code == 302
    assert [m.to for m in mailoutbox] == [[member.email]]


def test_reset_requests_are_limited_per_address_asked_about_in_any_case_or_width(
    client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_LIMIT_PER_IP = 100
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    member = User.objects.create_user("victim01", "Victim", "victim@example.com", PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        assert ask(client, "victim@example.com", ip="203.0.113.1").status_code == 302
        assert ask(client, "VICTIM@example.com", ip="203.0.113.2").status_code == 302
        response = ask(client, full_width("victim@example.com"), ip="203.0.113.3")

    assert response.status_code == 429
    assert RESET_LIMITED in page_text(response)
    assert [m.to for m in mailoutbox] == [[member.email]] * 2
    assert ask(client, "someone.else@example.com", ip="203.0.113.3").status_code == 302


def test_the_limit_looks_the_same_for_a_registered_and_an_unknown_address(client, settings):
    settings.PASSWORD_RESET_LIMIT_PER_IP = 100
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    User.objects.create_user("known001", "Known", "known@example.com", PASSWORD)

    def answers(email, ip):
        responses = [ask(client, email, ip=ip) for _ in range(3)]
        return [r.status_code for r in responses], responses[-1]

    known_statuses, known = answers("known@example.com", "203.0.113.1")
    unknown_statuses, unknown = answers("nobody@example.com", "203.0.113.2")

    assert known_statuses == unknown_statuses == [302, 302, 429]
    assert known["Retry-After"] == unknown["Retry-After"]
    assert same_page(known).replace("known@", "X@") == same_page(unknown).replace("nobody@", "X@")


def test_the_counters_hold_no_address_in_clear(client, settings, monkeypatch):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 1
    use_register_rate(settings, monkeypatch, "1/hour")
    assert client.post(REGISTER_PAGE, {}, REMOTE_ADDR="192.0.2.77").status_code == 200
    assert client.post(REGISTER_PAGE, {}, REMOTE_ADDR="192.0.2.77").status_code == 429  # counted
    assert ask(client, "secret.person@example.com", ip="192.0.2.77").status_code == 302
    assert ask(client, "secret.person@example.com", ip="192.0.2.77").status_code == 429  # counted

    def stored() -> str:
        return repr([(key, cache.get(key.split(":", 2)[-1])) for key in list(cache._cache)])  # locmem

    assert "secret.person" not in stored()
    assert "192.0.2.77" not in stored()
    cache.set("planted", "secret.person@example.com")  # the scan would see an address in clear
    assert "secret.person" in stored()


# --- One login ID from many addresses ------------------------------------------------------------


@pytest.fixture
def slowdown(settings, fast_hashing):
    settings.LOGIN_ID_SLOWDOWN_AFTER = 3
    settings.LOGIN_ID_SLOWDOWN_SECONDS = 30
    settings.LOGIN_ID_SLOWDOWN_WINDOW = 15 * 60


def log_in(client, login_id, password, ip, path=LOGIN):
    return client.post(path, {"username": login_id, "password": password}, REMOTE_ADDR=ip)


def token(client, login_id, password, ip):
    return client.post(
        TOKEN,
        json.dumps({"login_id": login_id, "password": password}),
        content_type="application/json",
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def spread_failures(client, login_id, count=3):
    """Wrong passwords from as many addresses: axes, counting per address, sees one each."""
    for n in range(count):
        assert log_in(client, login_id, WRONG, f"198.51.100.{n + 1}").status_code == 200


SLOWED = (
    "Many failed login attempts were made with this login ID recently. To protect the account, please wait"
)


def test_a_login_id_tried_from_many_addresses_gets_one_attempt_per_turn(client, slowdown, fast_member):
    member = fast_member(login_id="hanako")
    with clock.frozen_at(START):
        spread_failures(client, "hanako")
        # The next address takes the turn: its password is checked (and is wrong).
        assert log_in(client, "hanako", WRONG, "203.0.113.1").status_code == 200
        clock.advance(timedelta(seconds=10))

        response = log_in(client, "hanako", PASSWORD, "203.0.113.2")  # even the right password

        assert response.status_code == 429
        assert response["Retry-After"] == "20"
        assert f"{SLOWED} 20 seconds and try again." in page_text(response)
        assert 'value="hanako"' in page_text(response)  # the login ID typed is kept
        assert logged_in_user_id(client) is None

        clock.advance(timedelta(seconds=20))
        assert log_in(client, "hanako", PASSWORD, "203.0.113.2").status_code == 302
    assert logged_in_user_id(client) == str(member.pk)


def test_the_token_api_is_slowed_down_alike_with_json(client, slowdown, fast_member):
    fast_member(login_id="hanako")
    with clock.frozen_at(START):
        spread_failures(client, "hanako")
        assert token(client, "hanako", WRONG, "203.0.113.1").status_code == 401

        response = token(client, "hanako", PASSWORD, "203.0.113.2")

    body = error_body(response, 429)
    assert body["message"] == f"{SLOWED} 30 seconds and try again."
    assert response["Retry-After"] == "30"


def test_an_address_the_owner_used_recently_is_never_slowed(client, slowdown, fast_member):
    member = fast_member(login_id="hanako")
    home = "192.0.2.10"
    with clock.frozen_at(START):
        assert log_in(client, "hanako", PASSWORD, home).status_code == 302  # the usage log sees home
        assert UsageRecord.objects.filter(member=member, ip_address=home).exists()
        client.post("/en/accounts/logout/", REMOTE_ADDR=home)
        clock.advance(timedelta(days=29))
        spread_failures(client, "hanako")
        assert log_in(client, "hanako", WRONG, "203.0.113.1").status_code == 200  # the turn is taken
        assert log_in(client, "hanako", WRONG, "203.0.113.2").status_code == 429

        assert log_in(client, "hanako", WRONG, home).status_code == 200  # a typo at home: not slowed
        response = log_in(client, "hanako", PASSWORD, home)

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(member.pk)


def test_an_address_not_used_for_longer_than_the_familiar_days_is_slowed(client, slowdown, fast_member):
    member = fast_member(login_id="hanako")
    UsageRecord.objects.create(
        member=member,
        occurred_at=START - timedelta(days=31),
        ip_address="192.0.2.10",
        method="GET",
        route="accounts:mypage",
        status_code=200,
    )
    with clock.frozen_at(START):
        spread_failures(client, "hanako")
        log_in(client, "hanako", WRONG, "203.0.113.1")

        assert log_in(client, "hanako", PASSWORD, "192.0.2.10").status_code == 429


def test_a_slowed_down_owner_is_not_also_locked_out_by_axes(client, slowdown, fast_member):
    member = fast_member(login_id="hanako")
    travelling = "203.0.113.50"
    with clock.frozen_at(START):
        spread_failures(client, "hanako")
        log_in(client, "hanako", WRONG, "203.0.113.1")
        for _ in range(8):  # more than axes' 5 failures for a pair
            assert log_in(client, "hanako", PASSWORD, travelling).status_code == 429
        assert not AccessAttempt.objects.filter(ip_address=travelling).exists()

        clock.advance(timedelta(seconds=30))
        assert log_in(client, "hanako", PASSWORD, travelling).status_code == 302
    assert logged_in_user_id(client) == str(member.pk)


def test_an_unknown_login_id_is_slowed_down_the_same_way(client, slowdown, fast_member):
    fast_member(login_id="hanako")
    with clock.frozen_at(START):
        spread_failures(client, "hanako")
        spread_failures(client, "nobody99")
        log_in(client, "hanako", WRONG, "203.0.113.1")
        log_in(client, "nobody99", WRONG, "203.0.113.1")

        known = log_in(client, "hanako", WRONG, "203.0.113.2")
        unknown = log_in(client, "nobody99", WRONG, "203.0.113.2")

    assert known.status_code == unknown.status_code == 429
    assert known["Retry-After"] == unknown["Retry-After"]
    assert same_page(known).replace("hanako", "X") == same_page(unknown).replace("nobody99", "X")


def test_the_login_id_is_counted_whatever_its_case_or_width(client, slowdown, fast_member):
    fast_member(login_id="hanako")
    with clock.frozen_at(START):
        for n, typed in enumerate(["HANAKO", full_width("hanako"), " Hanako "]):
            log_in(client, typed, WRONG, f"198.51.100.{n + 1}")
        log_in(client, "hanako", WRONG, "203.0.113.1")

        assert log_in(client, full_width("HANAKO"), PASSWORD, "203.0.113.2").status_code == 429


def test_failures_older_than_the_window_no_longer_count(client, slowdown, fast_member):
    fast_member(login_id="hanako")
    with clock.frozen_at(START):
        spread_failures(client, "hanako")
        clock.advance(timedelta(minutes=15, seconds=1))

        for n in range(3):
            assert log_in(client, "hanako", PASSWORD, f"203.0.113.{n + 1}").status_code == 302
            client.post("/en/accounts/logout/")


def test_below_the_threshold_nothing_is_slowed(client, slowdown, fast_member):
    fast_member(login_id="hanako")
    with clock.frozen_at(START):
        spread_failures(client, "hanako", count=2)
        for n in range(3):  # successes are not failures: the count stays below the threshold
            assert log_in(client, "hanako", PASSWORD, f"203.0.113.{n + 1}").status_code == 302
            client.post("/en/accounts/logout/")


def test_the_back_office_login_is_slowed_down_with_a_page_of_its_own(client, slowdown, fast_hashing):
    from django.contrib.auth.hashers import make_password

    StaffFactory(login_id="staff-hanako", password=make_password(PASSWORD))
    with clock.frozen_at(START):
        for n in range(3):
            log_in(client, "staff-hanako", WRONG, f"198.51.100.{n + 1}", path="/en/backoffice/login/")
        log_in(client, "staff-hanako", WRONG, "203.0.113.1", path="/en/backoffice/login/")

        response = log_in(client, "staff-hanako", PASSWORD, "203.0.113.2", path="/en/backoffice/login/")

    assert response.status_code == 429
    assert "Please wait" in page_text(response)
    assert f"{SLOWED} 30 seconds and try again." in page_text(response)
