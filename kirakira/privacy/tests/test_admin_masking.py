"""The back office shows a member's fields as the catalog allows the viewer's roles."""

import pytest

from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory


@pytest.fixture
def member(db):
    return MemberFactory(login_id="maskme", email="hanako.yamada@example.com")


def _change_page(client, staff, member):
    client.force_login(staff)
    response = client.get(f"/en/backoffice/accounts/user/{member.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_customer_service_sees_the_email_in_full(client, member):
    html = _change_page(client, StaffFactory(roles=[Role.CUSTOMER_SERVICE]), member)
    assert "hanako.yamada@example.com" in html


def test_accounting_sees_the_email_masked_and_cannot_edit_it(client, member):
    html = _change_page(client, StaffFactory(roles=[Role.ACCOUNTING]), member)
    assert "hanako.yamada@example.com" not in html
    assert "h****@example.com" in html
    assert 'name="email"' not in html


def test_customer_service_does_not_see_the_last_login(client, member):
    html = _change_page(client, StaffFactory(roles=[Role.CUSTOMER_SERVICE]), member)
    assert "Last login" not in html
    privacy = _change_page(client, StaffFactory(roles=[Role.PRIVACY_STAFF]), member)
    assert "Last login" in privacy


def test_two_roles_get_the_better_view(client, member):
    html = _change_page(client, StaffFactory(roles=[Role.ACCOUNTING, Role.CUSTOMER_SERVICE]), member)
    assert "hanako.yamada@example.com" in html


def test_the_administrator_edits_names_but_sees_emails_masked(client, member):
    staff = StaffFactory(roles=[Role.ADMINISTRATOR])
    html = _change_page(client, staff, member)
    assert 'name="name"' in html
    assert "h****@example.com" in html
    response = client.post(
        f"/en/backoffice/accounts/user/{member.pk}/change/",
        {
            "login_id": "maskme",
            "name": "新しい名前",
            "language": "ja",
            "is_active": "on",
            "date_joined_0": "2026-11-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    member.refresh_from_db()
    assert member.name == "新しい名前"
    assert member.email == "hanako.yamada@example.com"  # untouched by a form that never showed it
