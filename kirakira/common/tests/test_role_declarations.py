"""Each staff role is declared once (kirakira.common.roles) and everything else follows: the
``Role`` enum, the groups' permissions after ``migrate``, the consultation routing, the officer's
desk, the policy's grouping and the demo accounts."""

import pytest
from django.contrib.auth.models import Group, Permission

from kirakira.accounts.demo import DEMO_STAFF
from kirakira.common import roles
from kirakira.common.roles import ROLE_DECLARATIONS, PolicyGroup, Role, sync_role_groups
from kirakira.consultations import routing


def permissions_of(group: Group) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_the_role_enum_is_made_from_the_declarations():
    assert Role.values == [d.code for d in ROLE_DECLARATIONS]
    assert Role.ACCOUNTING == "accounting"
    assert [str(label) for label in Role.labels] == [str(d.label) for d in ROLE_DECLARATIONS]


def test_every_role_is_placed_in_one_of_the_policys_groups():
    assert {d.code: d.policy_group for d in ROLE_DECLARATIONS} == {
        "customer_service": PolicyGroup.CUSTOMER_FACING,
        "accounting": PolicyGroup.OTHERS,
        "privacy_officer": PolicyGroup.PRIVACY,
        "privacy_staff": PolicyGroup.PRIVACY,
        "administrator": PolicyGroup.OTHERS,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("entry", ROLE_DECLARATIONS, ids=lambda d: d.code)
def test_after_migrate_each_group_holds_exactly_its_declared_permissions(entry):
    assert permissions_of(Group.objects.get(name=entry.code)) == set(entry.permissions)


@pytest.mark.django_db
def test_syncing_restores_a_removed_permission_and_takes_away_an_extra_one():
    group = Group.objects.get(name="accounting")
    group.permissions.remove(Permission.objects.get(codename="record_payment"))
    group.permissions.add(Permission.objects.get(codename="delete_user"))

    sync_role_groups()

    assert permissions_of(group) == set(roles.declaration("accounting").permissions)


@pytest.mark.django_db
def test_a_declared_permission_that_does_not_exist_stops_a_strict_sync(monkeypatch):
    broken = roles.RoleDeclaration(
        "auditor", "Auditor", PolicyGroup.OTHERS, permissions=frozenset({"orders.audit_everything"})
    )
    monkeypatch.setattr(roles, "ROLE_DECLARATIONS", (*ROLE_DECLARATIONS, broken))
    with pytest.raises(LookupError, match="orders.audit_everything"):
        sync_role_groups()
    sync_role_groups(strict=False)  # after a partial migrate: granted later, no error now
    assert permissions_of(Group.objects.get(name="auditor")) == set()


def test_consultations_are_routed_as_the_roles_declare():
    assert routing.ROUTES == {
        "question": {"customer_service"},
        "proposal": {"customer_service"},
        "complaint": {"customer_service", "privacy_officer"},
        "personal_information": {"privacy_officer", "privacy_staff"},
    }
    assert routing.DESK_ROLES == {"privacy_officer", "privacy_staff"}


def test_every_role_has_one_demo_account():
    assert sorted(role for _login, _name, role in DEMO_STAFF) == sorted(Role.values)
    assert len({login for login, _name, _role in DEMO_STAFF}) == len(Role.values)


@pytest.mark.django_db
def test_a_superuser_gets_no_role_by_that_status_alone():
    from kirakira.common.testing import StaffFactory

    superuser = StaffFactory(is_superuser=True)
    assert roles.roles_of(superuser) == set()
    officer = StaffFactory(is_superuser=True, roles=[Role.PRIVACY_OFFICER])
    assert roles.roles_of(officer) == {"privacy_officer"}


def test_the_readme_shows_the_roles_as_they_are_declared():
    """The README's role table is `privacy_catalog --roles`, not a second place to edit."""
    from pathlib import Path

    from django.conf import settings

    from kirakira.privacy.management.commands.privacy_catalog import role_matrix

    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    assert role_matrix() in readme
