"""Staff sessions end after 15 minutes without a request (members keep the normal length), and
deactivating a staff member ends their sessions and API tokens at once, whichever way it is done."""

import datetime

import pytest
from django.test import Client
from knox.models import AuthToken

from kirakira.accounts import staff as staff_services
from kirakira.accounts.models import BrowserSession
from kirakira.accounts.services import member_token_create
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 4, 1, 1, 0, tzinfo=datetime.UTC)
CHANGELIST = "/en/backoffice/orders/order/"


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_staff_session_ends_after_fifteen_minutes_idle(client, settings):
    assert settings.STAFF_SESSION_IDLE_SECONDS == 15 * 60
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    with clock.frozen_at(START):
        client.force_login(staff)
        assert client.get(CHANGELIST).status_code == 200
        # Each request starts the 15 minutes again.
        for _step in range(3):
            clock.advance(datetime.timedelta(minutes=14))
            assert client.get(CHANGELIST).status_code == 200

        clock.advance(datetime.timedelta(minutes=15, seconds=1))
        response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/en/backoffice/login/")
    assert not signed_in(client)
    assert not BrowserSession.objects.filter(user=staff).exists()


def test_the_idle_limit_holds_on_member_pages_too(client):
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    with clock.frozen_at(START):
        client.force_login(staff)
        client.get("/en/")
        clock.advance(datetime.timedelta(minutes=16))
        client.get("/en/")
    assert not signed_in(client)


def test_the_session_cookie_of_staff_expires_with_the_idle_limit(client):
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))

    response = client.get(CHANGELIST)

    assert response.cookies["sessionid"]["max-age"] == 15 * 60


def test_a_members_session_keeps_the_normal_length(client):
    member = MemberFactory()
    with clock.frozen_at(START):
        client.force_login(member)
        client.get("/en/accounts/mypage/")
        clock.advance(datetime.timedelta(hours=3))
        response = client.get("/en/accounts/mypage/")
    assert response.status_code == 200
    assert signed_in(client)


# --- deactivation ------------------------------------------------------------------------------


def _deactivate_with_the_service(user):
    admin = StaffFactory(roles=[Role.ADMINISTRATOR])
    staff_services.access_change(user_id=user.pk, actor=admin, is_active=False)


def _deactivate_in_the_back_office(user):
    admin = StaffFactory(roles=[Role.ADMINISTRATOR])
    office = Client()
    office.force_login(admin)
    page = f"/en/backoffice/accounts/user/{user.pk}/change/"
    assert office.get(page).status_code == 200
    response = office.post(
        page,
        {
            "login_id": user.login_id,
            "name": user.name,
            "email": user.email,
            "language": user.language,
            "is_staff": "on",
            "groups": [str(group.pk) for group in user.groups.all()],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]


def _deactivate_with_save(user):
    user.is_active = False
    user.save()


def _deactivate_with_save_of_the_flag(user):
    user.is_active = False
    user.save(update_fields=["is_active"])


@pytest.mark.parametrize(
    "deactivate",
    [
        _deactivate_with_the_service,
        _deactivate_in_the_back_office,
        _deactivate_with_save,
        _deactivate_with_save_of_the_flag,
    ],
)
def test_deactivating_a_staff_member_ends_their_sessions_and_tokens_at_once(client, deactivate):
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    other_browser = Client()
    for browser in (client, other_browser):
        browser.force_login(staff)
        assert browser.get(CHANGELIST).status_code == 200
    _instance, token = member_token_create(user=staff, client="test")
    assert BrowserSession.objects.filter(user=staff).count() == 2

    deactivate(staff)

    assert not BrowserSession.objects.filter(user=staff).exists()
    assert not AuthToken.objects.filter(user=staff).exists()
    for browser in (client, other_browser):
        assert browser.get(CHANGELIST)["Location"].startswith("/en/backoffice/login/")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
