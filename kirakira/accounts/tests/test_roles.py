"""Staff roles as migrate leaves them, and the demo accounts command."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from kirakira.accounts.demo import DEMO_MEMBERS, DEMO_STAFF
from kirakira.accounts.models import User
from kirakira.common.management.commands.load_demo import DEFAULT_DEMO_PASSWORD
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory

# What the roles may do in the accounts, auth and usage apps, written out on purpose: a change to
# the declarations in kirakira/common/roles.py that touches these apps' permissions must be made
# here too, deliberately (the other apps' grants are compared with the declarations in
# kirakira/common/tests/test_role_declarations.py).
MATRIX_APPS = ("accounts", "auth", "usage")
ROLE_MATRIX = {
    "customer_service": {"accounts.view_user"},
    "accounting": {"accounts.view_user"},
    "privacy_officer": {"accounts.view_user", "accounts.decide_rolerequest", "usage.view_usagerecord", "auth.view_group"},
    "privacy_staff": {"accounts.view_user", "usage.view_usagerecord"},
    "administrator": {"accounts.view_user", "accounts.add_user", "accounts.change_user", "auth.view_group"},
}


def permissions_of(group: Group, apps=None) -> set[str]:
    permissions = group.permissions.all()
    if apps is not None:
        permissions = permissions.filter(content_type__app_label__in=apps)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in permissions.values_list("content_type__app_label", "codename")
    }


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    return {
        "users": User.objects.count(),
        "staff": User.objects.filter(is_staff=True).count(),
        "memberships": User.groups.through.objects.count(),
        "groups": Group.objects.count(),
        "passwords": dict(User.objects.values_list("login_id", "password")),
    }


@pytest.mark.django_db
def test_the_five_staff_roles_exist_after_migrations():
    names = set(Group.objects.values_list("name", flat=True))

    assert {
        "customer_service",
        "accounting",
        "privacy_officer",
        "privacy_staff",
        "administrator",
    } <= names
    assert set(Role.values) == set(ROLE_MATRIX)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_MATRIX)
def test_role_has_exactly_the_permissions_of_the_matrix(role):
    assert permissions_of(Group.objects.get(name=role), MATRIX_APPS) == ROLE_MATRIX[role]


@pytest.mark.django_db
def test_only_the_administrator_may_create_or_change_users():
    may_write = {
        group.name
        for group in Group.objects.filter(name__in=ROLE_MATRIX)
        if permissions_of(group) & {"accounts.add_user", "accounts.change_user", "accounts.delete_user"}
    }

    assert may_write == {"administrator"}


@pytest.mark.django_db
def test_no_role_may_delete_users():
    for group in Group.objects.filter(name__in=ROLE_MATRIX):
        assert "accounts.delete_user" not in permissions_of(group)


@pytest.mark.django_db
def test_staff_user_in_a_role_gets_its_permissions():
    staff = StaffFactory(roles=[Role.ACCOUNTING])

    assert staff.has_perm("accounts.view_user")
    assert not staff.has_perm("accounts.change_user")
    assert not staff.has_perm("usage.view_usagerecord")


# --- load_demo ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_hashing")
def test_load_demo_creates_the_demo_members_and_one_staff_user_per_role(monkeypatch):
    monkeypatch.delenv("KIRAKIRA_DEMO_PASSWORD", raising=False)

    load_demo()

    for user in User.objects.filter(withdrawn_at__isnull=True):
        assert user.check_password(DEFAULT_DEMO_PASSWORD)
    # One demo member has withdrawn: emptied, unable to log in, their records in separate storage.
    former = User.objects.get(withdrawn_at__isnull=False)
    assert not former.has_usable_password() and not former.is_active

    for login_id, _name, email, language, confirmed in DEMO_MEMBERS:
        user = User.objects.get(login_id=login_id)
        assert (user.email, user.language, user.is_staff) == (email, language, False)
        assert user.email_confirmed == confirmed
    for login_id, _name, role in DEMO_STAFF:
        user = User.objects.get(login_id=login_id)
        assert user.is_staff
        assert list(user.groups.values_list("name", flat=True)) == [role]
    assert {role for _l, _n, role in DEMO_STAFF} == set(Role)


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_hashing")
def test_load_demo_is_idempotent():
    load_demo()
    first = snapshot()

    output = load_demo()

    assert snapshot() == first
    assert first["users"] == len(DEMO_MEMBERS) + len(DEMO_STAFF) + 1  # and the withdrawn one
    assert output.count("(already there)") == len(DEMO_MEMBERS) + len(DEMO_STAFF)
    assert "Demo withdrawn member (sayonara): already there." in output


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_hashing")
def test_load_demo_leaves_existing_accounts_alone():
    own = MemberFactory(login_id="hanako", name="本物 花子", email="real-hanako@example.com")

    load_demo()

    own.refresh_from_db()
    assert (own.name, own.email) == ("本物 花子", "real-hanako@example.com")
    assert User.objects.filter(login_id="hanako").count() == 1


@pytest.mark.django_db
def test_load_demo_refuses_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="not in production"):
        load_demo()

    assert User.objects.count() == 0
