"""The lockout's message and Retry-After read AXES_COOLOFF_TIME as django-axes itself does
(``axes.helpers.get_cool_off``): a timedelta, hours as a number, or a callable given directly
or by its dotted path."""

import json
from datetime import timedelta

import pytest

from kirakira.common.testing import PASSWORD

from .helpers import page_text

pytestmark = pytest.mark.django_db

WRONG = "wrong-password-123"


def twenty_minutes(request):
    return timedelta(minutes=20)


def locked_out(client, login_id):
    for _ in range(5):
        client.post("/en/accounts/login/", {"username": login_id, "password": WRONG})
    return client.post("/en/accounts/login/", {"username": login_id, "password": PASSWORD})


@pytest.mark.parametrize(
    ("cool_off", "minutes"),
    [
        (timedelta(minutes=15), 15),
        (2, 120),  # hours
        (0.5, 30),  # hours
        ("kirakira.accounts.tests.test_lockout_cooloff.twenty_minutes", 20),
        (lambda request: timedelta(minutes=45), 45),
    ],
)
def test_the_page_says_the_cool_off_axes_applies(client, settings, fast_member, cool_off, minutes):
    settings.AXES_COOLOFF_TIME = cool_off
    member = fast_member()

    response = locked_out(client, member.login_id)

    assert response.status_code == 429
    assert response["Retry-After"] == str(minutes * 60)
    assert f"is blocked for {minutes} minutes." in page_text(response)


def test_the_token_api_says_it_too(client, settings, fast_member):
    settings.AXES_COOLOFF_TIME = "kirakira.accounts.tests.test_lockout_cooloff.twenty_minutes"
    member = fast_member()

    def token(password):
        return client.post(
            "/api/v1/auth/token",
            json.dumps({"login_id": member.login_id, "password": password}),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="en",
        )

    for _ in range(5):
        token(WRONG)
    response = token(PASSWORD)

    assert response.status_code == 429
    assert response["Retry-After"] == str(20 * 60)
    assert "is blocked for 20 minutes." in response.json()["message"]
