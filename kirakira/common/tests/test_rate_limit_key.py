"""Limits per client address count an IPv6 client by its /64 network: one client is given a
whole /64 and may use any address in it, so keyed by the full address every limit could be
dodged by changing address. IPv4 addresses are counted as they are."""

import json

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from rest_framework.settings import api_settings

from kirakira.common.client_ip import client_rate_limit_key, rate_limit_key
from kirakira.common.ratelimit import ScopedThrottle
from kirakira.common.testing import PASSWORD, MemberFactory
from kirakira.consent.models import ConsentRecord
from kirakira.consent.testing import ORIGIN
from kirakira.consultations.services import check_visitor_limits

SAME_64 = ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2:1234::99")
OTHER_64 = "2001:db8:1:3::1"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:a:b:c:d", "2001:db8:1:2::"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::"),
        ("2001:db8:1:3::1", "2001:db8:1:3::"),
        ("::ffff:192.0.2.1", "192.0.2.1"),  # an IPv4 client seen through an IPv6 socket
        ("::1", "::"),
        ("", ""),
        (None, None),
    ],
)
def test_the_key_of_an_address(address, key):
    assert rate_limit_key(address) == key


def test_the_key_of_a_request_follows_the_trusted_client_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="2001:db8:9:9::77")
    assert client_rate_limit_key(request) == "2001:db8:9:9::"


def test_axes_is_given_the_key():
    from django.conf import settings

    assert settings.AXES_CLIENT_IP_CALLABLE == "kirakira.common.client_ip.client_rate_limit_key"


# --- each limit, over IPv6 --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_registration_throttle_counts_one_64_as_one_client(client, settings, monkeypatch):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "register": "1/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", rates)

    assert client.post("/en/accounts/register/", {}, REMOTE_ADDR=SAME_64[0]).status_code == 200
    assert client.post("/en/accounts/register/", {}, REMOTE_ADDR=SAME_64[1]).status_code == 429
    api = client.post(
        "/api/v1/auth/register",
        json.dumps({"login_id": "taro01", "name": "Taro", "email": "taro@example.com", "password": PASSWORD}),
        content_type="application/json",
        REMOTE_ADDR=SAME_64[2],
    )
    assert api.status_code == 429
    assert client.post("/en/accounts/register/", {}, REMOTE_ADDR=OTHER_64).status_code == 200


@pytest.mark.django_db
def test_password_reset_requests_count_one_64_as_one_client(client, settings):
    settings.PASSWORD_RESET_LIMIT_PER_IP = 1
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 100

    def ask(email, ip):
        return client.post("/en/accounts/password/reset/", {"email": email}, REMOTE_ADDR=ip)

    assert ask("a@example.com", SAME_64[0]).status_code == 302
    assert ask("b@example.com", SAME_64[1]).status_code == 429
    assert ask("c@example.com", OTHER_64).status_code == 302


@pytest.mark.django_db
def test_visitor_consultations_count_one_64_as_one_client(settings):
    settings.CONSULTATION_VISITOR_LIMIT_PER_IP = 1
    settings.CONSULTATION_VISITOR_LIMIT_PER_EMAIL = 100
    check_visitor_limits(ip=SAME_64[0], email="a@example.net")

    with pytest.raises(ValidationError) as refused:
        check_visitor_limits(ip=SAME_64[1], email="b@example.net")

    assert refused.value.code == "rate_limited"
    check_visitor_limits(ip=OTHER_64, email="c@example.net")


@pytest.mark.django_db
def test_first_cookie_choices_count_one_64_as_one_client(client, settings):
    settings.CONSENT_NEW_RECORDS_PER_IP = 1

    def choose(ip):
        client.cookies.clear()
        return client.post("/consent/", {"choice": "accept", "next": "/"}, HTTP_ORIGIN=ORIGIN, REMOTE_ADDR=ip)

    assert choose(SAME_64[0]).status_code == 303
    assert choose(SAME_64[1]).status_code == 429
    assert choose(OTHER_64).status_code == 303
    assert ConsentRecord.objects.count() == 2


@pytest.mark.django_db
def test_the_lockout_counts_one_64_as_one_address(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    member = MemberFactory(password=make_password(PASSWORD))

    def log_in(password, ip):
        return client.post(
            "/en/accounts/login/", {"username": member.login_id, "password": password}, REMOTE_ADDR=ip
        )

    for n in range(4):  # each from another address of one /64
        assert log_in("wrong-password-123", f"2001:db8:1:2::{n + 1}").status_code == 200
    assert log_in("wrong-password-123", "2001:db8:1:2::5").status_code == 429  # axes' fifth: locked

    assert log_in(PASSWORD, "2001:db8:1:2::99").status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["2001:db8:1:2::"]
    assert log_in(PASSWORD, OTHER_64).status_code == 302
