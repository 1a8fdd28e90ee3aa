"""Separation of duties: a role that sees more than the administrator's own, and the removal of
a privacy role, wait for the privacy officer.

Observed: the administrator created a staff account with the privacy officer's role and an
email address they owned, received the set-password mail and logged in as privacy officer; the
administrator could also add the privacy officer's or any other role to any staff account, and
strip the real privacy officers (the only readers of the permission-change log) of their role.
"""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from kirakira.accounts import staff
from kirakira.accounts.models import RoleRequest, User
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory, at_once
from kirakira.privacy.audit.permissions import actor_label
from kirakira.privacy.models import PermissionChange

from .helpers import link_in, page_text

USERS = "/en/backoffice/accounts/user/"
REQUESTS = "/en/backoffice/accounts/rolerequest/"
LOG = "/en/backoffice/privacy/permissionchange/"
NEW_PASSWORD = "a-brand-new-secret-42"


def roles(user) -> set[str]:
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def role_ids(*names) -> list[int]:
    return [Group.objects.get(name=str(name)).pk for name in names]


def account_post(user, **extra) -> dict:
    return {"login_id": user.login_id, "name": user.name, "language": user.language, "is_active": "on", **extra}


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # roles and permissions are cached per object


@pytest.fixture
def administrator(db):
    return StaffFactory(login_id="admin_kato", roles=[Role.ADMINISTRATOR])


@pytest.fixture
def officer(db):
    return StaffFactory(login_id="dpo_kimura", email="dpo@staff.example.com", language="en", roles=[Role.PRIVACY_OFFICER])


# --- what "more than one's own" is, read from the catalog --------------------------------------


@pytest.mark.django_db
def test_what_exceeds_a_role_is_read_from_the_catalog():
    # Customer service sees email addresses in full, the administrator masked: more.
    assert staff.role_exceeds(Role.CUSTOMER_SERVICE, [Role.ADMINISTRATOR])
    # Accounting sees payers' names, customer service masked and the administrator not at all.
    assert staff.role_exceeds(Role.ACCOUNTING, [Role.ADMINISTRATOR])
    assert staff.role_exceeds(Role.ACCOUNTING, [Role.CUSTOMER_SERVICE])
    assert staff.role_exceeds(Role.PRIVACY_OFFICER, [Role.ADMINISTRATOR])
    assert staff.role_exceeds(Role.PRIVACY_STAFF, [Role.ADMINISTRATOR, Role.CUSTOMER_SERVICE, Role.ACCOUNTING])
    # Nothing more than one's own role; the privacy officer's sight covers the administrator's.
    assert not staff.role_exceeds(Role.ADMINISTRATOR, [Role.ADMINISTRATOR])
    assert not staff.role_exceeds(Role.ADMINISTRATOR, [Role.PRIVACY_OFFICER])
    # No list is kept: a field declared anywhere counts. The test app's Secret.phone is shown to
    # accounting in full and to the privacy officer not at all, so accounting is more than her.
    assert staff.role_exceeds(Role.ACCOUNTING, [Role.PRIVACY_OFFICER])
    assert not staff.role_exceeds(Role.ACCOUNTING, [Role.PRIVACY_OFFICER, Role.ACCOUNTING])
    # Having no role at all, every role that sees anything is more.
    assert all(staff.role_exceeds(role, []) for role in Role.values)


# --- the escalation path through a second account -----------------------------------------------


@pytest.mark.django_db
def test_an_administrator_cannot_become_privacy_officer_through_a_second_account(
    client, administrator, officer, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{USERS}add/",
            {
                "login_id": "second_me",
                "name": "二番目 の私",
                "email": "me.again@example.com",
                "language": "en",
                "roles": role_ids(Role.PRIVACY_OFFICER),
            },
            follow=True,
        )

    assert response.status_code == 200
    assert "wait for the privacy officer" in page_text(response)
    second = User.objects.get(login_id="second_me")
    assert second.is_staff and roles(second) == set()
    request = RoleRequest.objects.get(account=second)
    assert (request.status, request.roles_added, request.roles_removed) == ("pending", ["privacy_officer"], [])
    assert request.requested_by == administrator

    # The administrator still receives the link, sets the password and logs in: to nothing.
    welcome = next(message for message in mailoutbox if message.to == ["me.again@example.com"])
    client.logout()
    landing = client.get(link_in(welcome))
    client.post(landing["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert fresh(second).check_password(NEW_PASSWORD)
    client.force_login(fresh(second))
    assert client.get(LOG).status_code == 403
    assert client.get(REQUESTS).status_code == 403
    assert not fresh(second).has_perm("privacy.view_permissionchange")


@pytest.mark.django_db
def test_the_administrator_adds_wider_roles_only_by_request_and_its_own_at_once(client, administrator):
    colleague = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    client.force_login(administrator)

    response = client.post(
        f"{USERS}{colleague.pk}/change/",
        account_post(
            colleague,
            is_staff="on",
            groups=role_ids(Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.ACCOUNTING, Role.ADMINISTRATOR),
        ),
        follow=True,
    )

    assert response.status_code == 200
    assert roles(colleague) == {Role.CUSTOMER_SERVICE, Role.ADMINISTRATOR}
    request = RoleRequest.objects.get(account=colleague)
    assert request.roles_added == [Role.ACCOUNTING, Role.PRIVACY_OFFICER]
    assert "wait for the privacy officer" in page_text(response)
    page = page_text(client.get(f"{USERS}{colleague.pk}/change/"))
    assert "Role changes waiting for approval" in page and "Privacy officer" in page

    # Saving the same page again asks for nothing new.
    client.post(
        f"{USERS}{colleague.pk}/change/",
        account_post(
            colleague,
            is_staff="on",
            groups=role_ids(Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.ACCOUNTING, Role.ADMINISTRATOR),
        ),
    )
    assert RoleRequest.objects.filter(account=colleague).count() == 1


@pytest.mark.django_db
def test_the_administrator_cannot_strip_the_privacy_officer(client, administrator, officer):
    client.force_login(administrator)

    untick = client.post(f"{USERS}{officer.pk}/change/", account_post(officer, is_staff="on", groups=[]))
    unstaff = client.post(f"{USERS}{officer.pk}/change/", account_post(officer, groups=[]))

    assert untick.status_code == 302
    assert roles(officer) == {Role.PRIVACY_OFFICER}
    request = RoleRequest.objects.get(account=officer)
    assert (request.roles_added, request.roles_removed) == ([], [Role.PRIVACY_OFFICER])
    assert unstaff.status_code == 200  # refused, with the way to go
    assert "is_staff" in unstaff.context["adminform"].form.errors
    assert fresh(officer).is_staff and roles(officer) == {Role.PRIVACY_OFFICER}
    with pytest.raises(ValidationError):
        staff.access_change(user_id=officer.pk, actor=administrator, is_staff=False)


@pytest.mark.django_db
def test_offboarding_stays_immediate(administrator, officer):
    leaving = StaffFactory(roles=[Role.ACCOUNTING, Role.CUSTOMER_SERVICE])

    staff.access_change(user_id=leaving.pk, actor=administrator, roles=[Role.CUSTOMER_SERVICE])
    assert roles(leaving) == {Role.CUSTOMER_SERVICE}
    staff.access_change(user_id=leaving.pk, actor=administrator, is_staff=False)
    assert roles(leaving) == set() and not fresh(leaving).is_staff
    # A departing privacy officer is stopped at once by deactivation; the role's removal waits.
    staff.access_change(user_id=officer.pk, actor=administrator, is_active=False)
    assert not fresh(officer).is_active
    assert not RoleRequest.objects.exists()


# --- the privacy officer decides ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_privacy_officer_approves_and_the_log_names_approver_and_requester(client, administrator, officer):
    colleague = StaffFactory(login_id="colleague7", name="同僚 七", email="colleague7@example.com")
    request = staff.access_change(user_id=colleague.pk, actor=administrator, roles=[Role.ACCOUNTING])
    client.force_login(officer)

    listing = page_text(client.get(REQUESTS))
    page = client.get(f"{REQUESTS}{request.pk}/change/")

    assert "colleague7" in listing and "admin_kato" in listing
    text = page_text(page)
    for shown in ("colleague7", "同僚 七", "colleague7@example.com", "admin_kato", "Accounting", "Approve", "Refuse"):
        assert shown in text, shown
    assert "colleague7" not in page.context["title"]  # titles and breadcrumbs name no one

    response = client.post(f"{REQUESTS}{request.pk}/decide/", {"decision": "approve"})

    assert response.status_code == 302
    assert roles(colleague) == {Role.ACCOUNTING}
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", officer)
    row = PermissionChange.objects.get(subject=colleague, what="role")
    assert (row.actor, row.requested_by, row.role, row.new_value) == (officer, administrator, Role.ACCOUNTING, True)
    with translation.override("en"):
        assert actor_label(row) == "dpo_kimura, approving a request by admin_kato"
    assert "approving a request by admin_kato" in page_text(client.get(LOG))


@pytest.mark.django_db
def test_refusing_changes_nothing_but_the_request(client, administrator, officer):
    target = StaffFactory(roles=[Role.PRIVACY_STAFF])
    request = staff.access_change(user_id=target.pk, actor=administrator, roles=[])
    before = PermissionChange.objects.count()
    client.force_login(officer)

    client.post(f"{REQUESTS}{request.pk}/decide/", {"decision": "refuse"})

    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("refused", officer)
    assert roles(target) == {Role.PRIVACY_STAFF}
    assert PermissionChange.objects.count() == before
    again = client.post(f"{REQUESTS}{request.pk}/decide/", {"decision": "approve"}, follow=True)
    assert "already been decided" in page_text(again)
    assert roles(target) == {Role.PRIVACY_STAFF}


@pytest.mark.django_db
def test_nobody_decides_a_request_about_their_own_account_or_one_they_made(client, administrator, officer):
    about_the_officer = staff.access_change(user_id=officer.pk, actor=administrator, roles=[])
    both = StaffFactory(login_id="both_hats", roles=[Role.ADMINISTRATOR, Role.PRIVACY_OFFICER])
    colleague = StaffFactory(roles=[Role.PRIVACY_STAFF])
    made_by_both = staff.access_change(user_id=colleague.pk, actor=both, roles=[])

    for decider, request in ((officer, about_the_officer), (both, made_by_both)):
        client.force_login(decider)
        page = page_text(client.get(f"{REQUESTS}{request.pk}/change/"))
        assert "Approve" not in page
        refused = client.post(f"{REQUESTS}{request.pk}/decide/", {"decision": "approve"}, follow=True)
        assert "You may not decide a role request about your own account" in page_text(refused)
        with pytest.raises(PermissionDenied):
            staff.role_request_decide(request_id=request.pk, approve=True, actor=decider)
        request.refresh_from_db()
        assert request.status == "pending"
    assert roles(officer) == {Role.PRIVACY_OFFICER}
    assert roles(colleague) == {Role.PRIVACY_STAFF}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "viewer",
    [{"roles": [Role.ADMINISTRATOR]}, {"roles": [Role.PRIVACY_STAFF]}, {"is_superuser": True}],
    ids=["administrator", "privacy_staff", "superuser"],
)
def test_only_the_privacy_officer_decides(client, administrator, viewer):
    target = StaffFactory()
    request = staff.access_change(user_id=target.pk, actor=administrator, roles=[Role.ACCOUNTING])
    client.force_login(StaffFactory(**viewer))

    response = client.post(f"{REQUESTS}{request.pk}/decide/", {"decision": "approve"})

    assert response.status_code == 403
    assert roles(target) == set()
    with pytest.raises(PermissionDenied):
        staff.role_request_decide(request_id=request.pk, approve=True, actor=fresh(StaffFactory(**viewer)))


@pytest.mark.django_db
def test_the_administrator_sees_their_own_requests_read_only(client, administrator):
    other_admin = StaffFactory(roles=[Role.ADMINISTRATOR])
    mine = staff.access_change(user_id=StaffFactory(login_id="mine01").pk, actor=administrator, roles=[Role.ACCOUNTING])
    theirs = staff.access_change(
        user_id=StaffFactory(login_id="theirs01").pk, actor=other_admin, roles=[Role.ACCOUNTING]
    )
    client.force_login(administrator)

    listing = page_text(client.get(REQUESTS))
    own = client.get(f"{REQUESTS}{mine.pk}/change/")
    other = client.get(f"{REQUESTS}{theirs.pk}/change/")

    assert "mine01" in listing and "theirs01" not in listing
    assert own.status_code == 200 and 'name="_save"' not in page_text(own) and "Approve" not in page_text(own)
    assert "theirs01" not in page_text(other) and other.status_code in (302, 403, 404)
    assert "mine01@example.com" not in page_text(own) and "m****@example.com" in page_text(own)  # masked
    assert client.get(f"{REQUESTS}add/").status_code == 403


@pytest.mark.django_db
def test_approving_a_grant_for_an_account_no_longer_staff_is_refused(administrator, officer):
    target = StaffFactory()
    request = staff.access_change(user_id=target.pk, actor=administrator, roles=[Role.ACCOUNTING])
    staff.access_change(user_id=target.pk, actor=administrator, is_staff=False)

    with pytest.raises(ValidationError):
        staff.role_request_decide(request_id=request.pk, approve=True, actor=officer)

    assert roles(target) == set()
    request.refresh_from_db()
    assert request.status == "pending"


# --- the privacy officer is told -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_privacy_officers_are_emailed_without_personal_data_in_the_subject(
    administrator, officer, mailoutbox, django_capture_on_commit_callbacks
):
    second_officer = StaffFactory(email="dpo2@staff.example.com", roles=[Role.PRIVACY_OFFICER])
    StaffFactory(email="ps@staff.example.com", roles=[Role.PRIVACY_STAFF])  # not an officer: not told
    target = StaffFactory(login_id="target01", name="対象 者", email="target01@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        request = staff.access_change(user_id=target.pk, actor=administrator, roles=[Role.PRIVACY_STAFF])

    assert sorted(message.to[0] for message in mailoutbox) == sorted([officer.email, second_officer.email])
    for message in mailoutbox:
        for personal in ("target01", "対象", "admin_kato", administrator.email, officer.name, second_officer.name):
            assert personal not in message.subject
        assert "target01" not in message.body and "admin_kato" not in message.body
        assert f"/backoffice/accounts/rolerequest/{request.pk}/change/" in link_in(message)


# --- the first administrator and privacy officer ------------------------------------------------


@pytest.mark.django_db
def test_the_server_command_gives_the_first_roles_recorded_as_server_command():
    call_command(
        "createsuperuser", interactive=False, login_id="root1", name="管理 者", email="root@example.com", stdout=StringIO()
    )
    root = User.objects.get(login_id="root1")
    assert not root.has_perm("accounts.add_user")  # superuser status gives nothing

    out = StringIO()
    call_command("staff_grant_role", "ROOT1", "administrator", stdout=out)
    call_command("staff_grant_role", "root1", "administrator", stdout=out)  # already held: nothing

    assert roles(root) == {Role.ADMINISTRATOR}
    assert fresh(root).has_perm("accounts.add_user")
    row = PermissionChange.objects.get(subject=root, what="role")
    with translation.override("en"):
        assert actor_label(row) == "server command"
    assert "Nothing to change." in out.getvalue()

    call_command("staff_grant_role", "root1", "administrator", "--remove", stdout=out)
    assert roles(root) == set()
    member = MemberFactory(login_id="plainmember")
    with translation.override("en"), pytest.raises(CommandError, match="member account never becomes staff"):
        call_command("staff_grant_role", "plainmember", "privacy_officer", stdout=out)
    with translation.override("en"), pytest.raises(CommandError, match="No account"):
        call_command("staff_grant_role", "nobody99", "privacy_officer", stdout=out)
    assert roles(member) == set()


# --- two officers at the same moment (both databases) --------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_officers_deciding_one_request_at_once_decide_it_once():
    administrator = StaffFactory(roles=[Role.ADMINISTRATOR])
    officers = [StaffFactory(roles=[Role.PRIVACY_OFFICER]) for _ in range(2)]
    target = StaffFactory()
    request = staff.access_change(user_id=target.pk, actor=administrator, roles=[Role.ACCOUNTING])

    results = at_once(
        lambda: staff.role_request_decide(request_id=request.pk, approve=True, actor=officers[0]),
        lambda: staff.role_request_decide(request_id=request.pk, approve=False, actor=officers[1]),
    )

    decided = [result for result in results if isinstance(result, RoleRequest)]
    refused = [result for result in results if isinstance(result, ValidationError)]
    assert len(decided) == 1 and len(refused) == 1, results
    assert refused[0].code == "decided"
    request.refresh_from_db()
    approved = request.status == "approved"
    assert roles(target) == ({Role.ACCOUNTING} if approved else set())
    assert PermissionChange.objects.filter(subject=target, what="role").count() == (1 if approved else 0)
