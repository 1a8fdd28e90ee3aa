"""Every change of roles, staff, active or superuser flags is recorded append-only — who, whom,
what, when, from where — whatever the path, kept three years and listed for the privacy roles."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory
from django.utils import translation

from kirakira.accounts import staff
from kirakira.accounts.models import User
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.privacy.audit.permissions import (
    DirectPermissionRefused,
    PermissionChangeMiddleware,
    acting,
    actor_label,
)
from kirakira.privacy.catalog import Retention, catalog
from kirakira.privacy.models import PermanentRecordError, PermissionChange

LOG = "/en/backoffice/privacy/permissionchange/"


def changes(subject) -> list[tuple]:
    """The log's rows about ``subject``, oldest first, as (what, role, old, new, actor)."""
    rows = PermissionChange.objects.filter(subject=subject).order_by("occurred_at", "id")
    return [(row.what, row.role, row.old_value, row.new_value, row.actor_id) for row in rows]


def as_request(user, *, ip="192.0.2.10"):
    """Run the rest of a test's block as a request by ``user`` (what the middleware sees)."""
    request = RequestFactory().post("/en/backoffice/", REMOTE_ADDR=ip)
    request.user = user
    return request


def in_request(request, work):
    return PermissionChangeMiddleware(lambda req: work())(request)


@pytest.fixture
def administrator(db):
    return StaffFactory(roles=[Role.ADMINISTRATOR])


# --- every path is recorded, with its actor -----------------------------------------------------


@pytest.mark.django_db
def test_createsuperuser_is_recorded_as_a_server_command():
    call_command(
        "createsuperuser",
        interactive=False,
        login_id="rootuser",
        name="管理 者",
        email="root@example.com",
        stdout=StringIO(),
    )

    root = User.objects.get(login_id="rootuser")
    assert changes(root) == [("is_staff", "", False, True, None), ("is_superuser", "", False, True, None)]
    row = PermissionChange.objects.filter(subject=root).first()
    with translation.override("en"):
        assert actor_label(row) == "server command"
    assert row.ip_address is None and row.request_id == ""


@pytest.mark.django_db
def test_a_shell_save_that_makes_a_superuser_is_recorded():
    member = MemberFactory()
    member.is_staff = member.is_superuser = True
    member.save()

    assert changes(member) == [("is_staff", "", False, True, None), ("is_superuser", "", False, True, None)]


@pytest.mark.django_db
def test_back_office_changes_are_recorded_with_actor_request_id_and_address(client, administrator):
    colleague = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    client.force_login(administrator)
    administrators = Group.objects.get(name=Role.ADMINISTRATOR).pk

    response = client.post(
        f"/en/backoffice/accounts/user/{colleague.pk}/change/",
        {"login_id": colleague.login_id, "name": colleague.name, "language": "ja", "is_staff": "on", "groups": [administrators]},
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 302
    after = changes(colleague)[-3:]
    assert sorted(after) == sorted(
        [
            ("role", Role.CUSTOMER_SERVICE, True, False, administrator.pk),
            ("role", Role.ADMINISTRATOR, False, True, administrator.pk),
            ("is_active", "", True, False, administrator.pk),
        ]
    )
    rows = PermissionChange.objects.filter(subject=colleague, actor=administrator)
    assert {row.ip_address for row in rows} == {"203.0.113.9"}
    assert len({row.request_id for row in rows}) == 1 and rows[0].request_id  # one request, one ID


@pytest.mark.django_db
def test_creating_and_offboarding_a_staff_account_are_recorded(administrator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = staff.staff_create(
            login_id="newcomer",
            name="新人",
            email="newcomer@example.com",
            language="ja",
            roles=[Role.ADMINISTRATOR],
            actor=administrator,
        )
    staff.access_change(user_id=newcomer.pk, actor=administrator, is_staff=False)

    assert changes(newcomer) == [
        ("is_staff", "", False, True, administrator.pk),
        ("role", Role.ADMINISTRATOR, False, True, administrator.pk),
        ("is_staff", "", True, False, administrator.pk),
        ("role", Role.ADMINISTRATOR, True, False, administrator.pk),
    ]


@pytest.mark.django_db
def test_role_changes_from_either_side_of_the_relation_are_recorded():
    person = StaffFactory()
    accounting = Group.objects.get(name=Role.ACCOUNTING)
    officer = Group.objects.get(name=Role.PRIVACY_OFFICER)

    accounting.user_set.add(person)
    person.groups.add(accounting)  # already there: nothing happens, nothing is recorded
    person.groups.set([officer])
    officer.user_set.remove(person)
    person.groups.add(accounting)
    person.groups.remove(officer)  # not there: nothing recorded
    person.groups.clear()

    assert [(what, role, old, new) for what, role, old, new, _actor in changes(person)] == [
        ("is_staff", "", False, True),
        ("role", Role.ACCOUNTING, False, True),
        ("role", Role.ACCOUNTING, True, False),
        ("role", Role.PRIVACY_OFFICER, False, True),
        ("role", Role.PRIVACY_OFFICER, True, False),
        ("role", Role.ACCOUNTING, False, True),
        ("role", Role.ACCOUNTING, True, False),
    ]


@pytest.mark.django_db
def test_a_members_own_deactivation_is_not_a_permission_change_but_a_staff_members_is():
    member = MemberFactory()
    colleague = StaffFactory()
    before = PermissionChange.objects.count()

    member.is_active = False
    in_request(as_request(member), lambda: member.save(update_fields=["is_active"]))  # closing one's own
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])
    colleague.last_login = clock.now()
    colleague.save(update_fields=["last_login"])  # no flag touched: not even looked at

    assert PermissionChange.objects.count() == before + 1
    assert changes(colleague)[-1][:4] == ("is_active", "", True, False)


@pytest.mark.django_db
def test_staff_deactivating_or_reactivating_a_member_is_recorded(client, administrator):
    member = MemberFactory()
    client.force_login(administrator)
    page = {"login_id": member.login_id, "name": member.name, "language": member.language}

    closed = client.post(f"/en/backoffice/accounts/user/{member.pk}/change/", page, REMOTE_ADDR="203.0.113.7")
    reopened = client.post(f"/en/backoffice/accounts/user/{member.pk}/change/", {**page, "is_active": "on"})
    member.is_active = False
    member.save(update_fields=["is_active"])  # the shell: a server command

    assert closed.status_code == reopened.status_code == 302
    assert changes(member) == [
        ("is_active", "", True, False, administrator.pk),
        ("is_active", "", False, True, administrator.pk),
        ("is_active", "", True, False, None),
    ]
    assert PermissionChange.objects.filter(subject=member).order_by("id").first().ip_address == "203.0.113.7"


@pytest.mark.django_db
def test_a_permission_given_directly_to_an_account_is_refused_and_would_give_nothing():
    person = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    delete_users = Permission.objects.get(content_type__app_label="accounts", codename="delete_user")

    with pytest.raises(DirectPermissionRefused, match="only through their roles"), transaction.atomic():
        with translation.override("en"):
            person.user_permissions.add(delete_users)
    with pytest.raises(DirectPermissionRefused), transaction.atomic():
        delete_users.user_set.add(person)
    with pytest.raises(DirectPermissionRefused), transaction.atomic():
        person.user_permissions.set([delete_users])
    assert not person.user_permissions.exists()

    # A row written into the table itself (no signal) still grants nothing: roles alone count.
    User.user_permissions.through.objects.create(user=person, permission=delete_users)
    fresh = User.objects.get(pk=person.pk)
    assert not fresh.has_perm("accounts.delete_user")
    assert "accounts.delete_user" not in fresh.get_all_permissions()
    person.user_permissions.clear()  # taking one away is always allowed
    assert not person.user_permissions.exists()


@pytest.mark.django_db
def test_a_change_and_its_record_commit_or_roll_back_together(administrator):
    colleague = StaffFactory()
    before = PermissionChange.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        staff.access_change(user_id=colleague.pk, actor=administrator, roles=[Role.ADMINISTRATOR])
        assert PermissionChange.objects.count() == before + 1
        raise RuntimeError("the change fails after the row was written")

    assert PermissionChange.objects.count() == before
    assert not colleague.groups.exists()


# --- nobody changes their own access, whatever the path -----------------------------------------


@pytest.mark.django_db
def test_a_request_cannot_change_its_own_users_flags_or_roles_on_any_path():
    climber = StaffFactory(roles=[Role.ADMINISTRATOR])
    request = as_request(climber)

    def make_myself_superuser():
        climber.is_superuser = True
        climber.save()

    def give_myself_a_role():
        climber.groups.add(Group.objects.get(name=Role.PRIVACY_OFFICER))

    for attempt in (make_myself_superuser, give_myself_a_role):
        with pytest.raises(PermissionDenied), transaction.atomic():
            in_request(request, attempt)
        with pytest.raises(PermissionDenied), transaction.atomic(), acting(climber):
            attempt()

    climber.refresh_from_db()
    assert not climber.is_superuser
    assert set(climber.groups.values_list("name", flat=True)) == {Role.ADMINISTRATOR}


@pytest.mark.django_db
def test_a_request_by_someone_else_is_recorded_as_theirs():
    administrator = StaffFactory(roles=[Role.ADMINISTRATOR])
    colleague = StaffFactory()

    in_request(as_request(administrator, ip="198.51.100.4"), lambda: colleague.groups.add(Group.objects.get(name=Role.ACCOUNTING)))

    row = PermissionChange.objects.filter(subject=colleague, what="role").get()
    assert (row.actor_id, row.ip_address) == (administrator.pk, "198.51.100.4")
    assert actor_label(row) == administrator.login_id


# --- append-only, kept three years --------------------------------------------------------------


@pytest.fixture
def row(db):
    StaffFactory(is_superuser=True)
    return PermissionChange.objects.latest("id")


def test_a_record_cannot_be_changed(row):
    row.new_value = False
    with pytest.raises(PermanentRecordError):
        row.save()
    with pytest.raises(PermanentRecordError):
        PermissionChange.objects.filter(pk=row.pk).update(new_value=False)
    with pytest.raises(PermanentRecordError), transaction.atomic():
        PermissionChange.objects.bulk_update([row], ["new_value"])
    assert PermissionChange.objects.get(pk=row.pk).new_value is True


def test_a_record_cannot_be_deleted_within_three_years(row):
    with pytest.raises(PermanentRecordError):
        row.delete()
    with pytest.raises(PermanentRecordError):
        PermissionChange.objects.all().delete()
    assert PermissionChange.objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
def test_records_past_three_years_may_be_disposed_of():
    with clock.frozen_at(clock.now() - timedelta(days=3 * 365 + 1)):
        StaffFactory(is_superuser=True)
    old = PermissionChange.objects.filter(what="is_superuser").latest("id")
    StaffFactory(is_superuser=True)

    PermissionChange.objects.expired().delete()

    assert not PermissionChange.objects.filter(pk=old.pk).exists()
    assert PermissionChange.objects.filter(what="is_superuser").count() == 1


def test_the_catalog_keeps_the_log_three_years_for_the_privacy_roles(db):
    record = catalog.for_model(PermissionChange).record
    assert record.retention == Retention.PERMISSION_CHANGE_3Y
    assert {role for role in Role.values if record.visibility(role) == "full"} == {
        Role.PRIVACY_OFFICER,
        Role.PRIVACY_STAFF,
    }


# --- the privacy officer's list ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF])
def test_the_privacy_roles_see_the_log_read_only(client, role, administrator):
    colleague = StaffFactory(login_id="colleague1")
    staff.access_change(user_id=colleague.pk, actor=administrator, roles=[Role.ADMINISTRATOR])
    client.force_login(StaffFactory(roles=[role]))

    listing = client.get(LOG)
    row = PermissionChange.objects.filter(subject=colleague, what="role").get()
    detail = client.get(f"{LOG}{row.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    page = listing.content.decode()
    assert "colleague1" in page and administrator.login_id in page and "role administrator added" in page
    assert "server command" in page  # the factory's own grant of staff status
    assert 'name="_save"' not in detail.content.decode()
    assert client.get(f"{LOG}add/").status_code == 403
    assert client.post(f"{LOG}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(LOG, {"action": "delete_selected", "_selected_action": [row.pk]}).status_code in (200, 302)
    assert PermissionChange.objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "viewer",
    [
        {"roles": [Role.CUSTOMER_SERVICE]},
        {"roles": [Role.ADMINISTRATOR]},
        {"roles": [Role.ACCOUNTING]},
        {"is_superuser": True},
    ],
)
def test_other_roles_and_a_superuser_without_a_privacy_role_get_403(client, viewer):
    StaffFactory(is_superuser=True)
    client.force_login(StaffFactory(**viewer))

    response = client.get(LOG)

    assert response.status_code == 403
    assert "permission change" not in client.get("/en/backoffice/").content.decode().lower()
