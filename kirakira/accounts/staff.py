"""Writes on staff access: creating staff accounts, changing an account's roles, staff and
active flags, deciding role requests, and sending an account's owner the password-reset email.

Threat model: a member of staff who gives themselves, or someone they control, more than their
role. The rules, which the back office's forms show and these functions enforce again under a
row lock (so a crafted request gets no further than a well-formed one):

- superuser status is never given here (only ``createsuperuser`` on the server gives it) and
  gives nothing (``User.has_perm`` reads the roles alone);
- nobody changes their own roles or flags;
- a member account never becomes staff: staff accounts are created as such, and the person
  sets their own password from the emailed link (no administrator ever knows or sets one);
- roles belong to staff accounts only; removing staff status removes every role (offboarding);
- nobody sets another person's password: the owner gets the same reset email as "forgot my
  password" sends, at most ``PASSWORD_RESET_BULK_LIMIT`` accounts at a time from the list and
  within the per-address limit of the public form.

Separation of duties. An administrator who may create accounts and set roles could otherwise
make a second account with an address they own and a role that sees more than theirs, or strip
the privacy officers, who alone read the permission-change log. So two kinds of change wait for
a second person, the privacy officer, as a ``RoleRequest``:

- a grant of a role that *exceeds* the actor: one that sees some personal data in full that none
  of the actor's roles sees in full, or sees masked (or may reveal) data that none of the
  actor's roles sees at all — read from the data catalog, so a new role or a new field is
  judged without a list kept here (``role_exceeds``);
- any removal of a privacy role (the roles the policy places in group b,
  ``PolicyGroup.PRIVACY``); removing staff status from an account that holds one is refused
  until that removal is approved.

Everything else applies at once: grants within the actor's own sight, and removals of other
roles and deactivations (offboarding must never wait). The officer approves or refuses in the
back office; nobody decides a request about their own account or one they made. Approval applies
the change through the same writer as a direct change (``_access_apply``), in the decision's
transaction, recorded with the approver as actor and the requester named.

Every change of access is recorded by the permission-change log
(``kirakira.privacy.audit.permissions``) in the same transaction, as ``actor``'s.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kirakira.common import clock
from kirakira.common.roles import ROLE_DECLARATIONS, PolicyGroup, Role
from kirakira.common.validation import collect
from kirakira.privacy.audit.permissions import acting
from kirakira.privacy.catalog import catalog

from .models import RoleRequest, User
from .normalization import (
    normalize_email,
    normalize_login_id,
    normalize_name,
    validate_login_id,
    validate_name,
)
from .tasks import enqueue_member_email, enqueue_role_request_notice
from .throttles import check_password_reset_limits
from .validation import collect_taken, validate_email_syntax

CREATE_PERMISSIONS = ("accounts.add_user", "accounts.change_user")
CHANGE_PERMISSION = "accounts.change_user"
DECIDE_PERMISSION = "accounts.decide_rolerequest"
# The roles whose removal waits for approval: the privacy officer and privacy staff.
PRIVACY_ROLES = frozenset(d.code for d in ROLE_DECLARATIONS if d.policy_group == PolicyGroup.PRIVACY)
# How many accounts one "send a password-reset email" action on the list may reach.
PASSWORD_RESET_BULK_LIMIT = 20


def _require(actor, *permissions: str) -> None:
    if not actor.is_active or not actor.is_staff or not actor.has_perms(permissions):
        raise PermissionDenied(_("Your role may not do this."))


def _clean_roles(roles: Iterable[str], errors: dict, field: str = "roles") -> list[str]:
    roles = sorted({str(role) for role in roles})
    unknown = [role for role in roles if role not in Role.values]
    if unknown:
        errors.setdefault(field, []).append(_("Choose roles from the list."))
    return [role for role in roles if role in Role.values]


def _roles_now(user) -> set[str]:
    """The account's roles as stored now (never the per-request cache of ``roles_of``)."""
    return set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))


def role_exceeds(role: str, roles: Iterable[str]) -> bool:
    """Whether ``role`` sees personal data that ``roles`` together do not: some catalog entry
    it sees in full that none of them sees in full, or sees masked or may reveal that none of
    them sees at all."""
    role, roles = str(role), [str(r) for r in roles]
    for entry in catalog.entries():
        theirs = entry.visibility(role)
        ours = {entry.visibility(r) for r in roles}
        if theirs == "full" and "full" not in ours:
            return True
        if (theirs == "masked" or role in entry.reveal) and ours <= {"none"}:
            return True
    return False


def _validate_staff_email(value: str) -> None:
    validate_email_syntax(value, required_message=_("Enter an email address."))  # someone else's


def staff_check_new(*, login_id: str, name: str, email: str, language: str, roles: Iterable[str]) -> dict:
    """The normalised values of a new staff account, or ``ValidationError`` with every
    problem by field (``login_id``, ``name``, ``email``, ``language``, ``roles``)."""
    login_id, name, email = normalize_login_id(login_id), normalize_name(name), normalize_email(email)
    errors: dict[str, list] = {}
    collect(errors, "login_id", validate_login_id, login_id)
    collect(errors, "name", validate_name, name)
    collect(errors, "email", _validate_staff_email, email)
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose a language from the list.")]
    role_list = _clean_roles(roles, errors)
    if not role_list and "roles" not in errors:
        errors["roles"] = [_("Give the staff account at least one role.")]
    collect_taken(errors, login_id=login_id, email=email)
    if errors:
        raise ValidationError(errors)
    return {"login_id": login_id, "name": name, "email": email, "language": language, "roles": role_list}


def _role_request_open(*, account: User, requested_by, added: Iterable[str], removed: Iterable[str]):
    """A pending request for what is not already asked for about ``account``; the privacy
    officers are told once it is committed. ``None`` when nothing is left to ask."""
    waiting = RoleRequest.objects.pending().filter(account=account)
    asked_added = {role for request in waiting for role in request.roles_added}
    asked_removed = {role for request in waiting for role in request.roles_removed}
    added, removed = sorted(set(added) - asked_added), sorted(set(removed) - asked_removed)
    if not added and not removed:
        return None
    request = RoleRequest.objects.create(
        account=account, requested_by=requested_by, roles_added=added, roles_removed=removed
    )
    enqueue_role_request_notice(request)  # in the caller's transaction, with the request
    return request


def staff_create(
    *, login_id: str, name: str, email: str, language: str, roles: Iterable[str], actor
) -> User:
    """A staff account with no usable password; its owner is sent a link to set their own once
    the account is committed. Roles within the actor's own sight are given at once; the others
    become a role request for the privacy officer (the account starts without them)."""
    _require(actor, *CREATE_PERMISSIONS)
    data = staff_check_new(login_id=login_id, name=name, email=email, language=language, roles=roles)
    user = User(
        login_id=data["login_id"],
        name=data["name"],
        email=data["email"],
        language=data["language"],
        is_staff=True,
    )
    user.set_unusable_password()
    try:
        with transaction.atomic(), acting(actor):
            actor_roles = _roles_now(actor)
            asked = [role for role in data["roles"] if role_exceeds(role, actor_roles)]
            user.save(force_insert=True)
            user.groups.set(Group.objects.filter(name__in=set(data["roles"]) - set(asked)))
            if asked:
                _role_request_open(account=user, requested_by=actor, added=asked, removed=())
            enqueue_member_email(user, "first_password")
    except IntegrityError:
        # Lost a race with another account taking the same login ID or email.
        raise ValidationError({"login_id": [_("This login ID or email address is already registered.")]}) from None
    return user


def access_check_change(
    *, user: User, actor, is_active: bool | None = None, is_staff: bool | None = None, roles=None
) -> None:
    """Refuse (``PermissionDenied`` or ``ValidationError`` by field) a change of ``user``'s
    access that ``actor`` may not make; ``None`` means "leave as it is"."""
    _require(actor, CHANGE_PERMISSION)
    changes_active = is_active is not None and is_active != user.is_active
    changes_staff = is_staff is not None and is_staff != user.is_staff
    current_roles = _roles_now(user)
    changes_roles = roles is not None and {str(r) for r in roles} != current_roles
    if not (changes_active or changes_staff or changes_roles):
        return
    if user.pk == actor.pk:
        raise PermissionDenied(_("Nobody may change their own roles or access."))
    errors: dict[str, list] = {}
    if changes_staff and is_staff:
        errors["is_staff"] = [
            _("A member account cannot be made staff. Create a staff account for the person instead.")
        ]
    if changes_staff and not is_staff and current_roles & PRIVACY_ROLES:
        errors["is_staff"] = [
            _(
                "This account holds a privacy role, and removing it needs the privacy officer's approval: "
                "untick that role first (a request is sent). To stop the person at once, deactivate the "
                "account."
            )
        ]
    if roles is not None:
        wanted = set(_clean_roles(roles, errors, "groups"))
        if not user.is_staff and wanted - current_roles:
            errors.setdefault("groups", []).append(_("Only staff accounts have roles."))
    if errors:
        raise ValidationError(errors)


def _access_apply(
    user: User, *, is_active: bool | None = None, is_staff: bool | None = None, add=(), remove=()
) -> None:
    """The one writer of an account's flags and roles, for a direct change and an approved
    request alike. The caller holds the row lock and the ``acting`` context."""
    fields = []
    if is_active is not None and is_active != user.is_active:
        user.is_active = is_active
        fields.append("is_active")
    if is_staff is False and user.is_staff:
        user.is_staff = False
        fields.append("is_staff")
    if fields:
        user.save(update_fields=fields)
    if not user.is_staff:
        user.groups.clear()  # offboarding: no role outlives staff status
    else:
        if remove:
            user.groups.remove(*Group.objects.filter(name__in=set(remove)))
        if add:
            user.groups.add(*Group.objects.filter(name__in=set(add)))
    for cache in ("_kirakira_roles", "_kirakira_perm_cache"):
        user.__dict__.pop(cache, None)


def access_change(
    *, user_id, actor, is_active: bool | None = None, is_staff: bool | None = None, roles=None
) -> RoleRequest | None:
    """Change an account's active flag, staff status (removal only) or roles (``roles`` is the
    whole new set). Removing staff status removes every role with it. ``None`` leaves a setting
    as it is. Returns the role request holding the part that waits for the privacy officer
    (see the module's docstring), or ``None`` when all of it applied."""
    with transaction.atomic(), acting(actor):
        user = User.objects.select_for_update().get(pk=user_id)
        access_check_change(user=user, actor=actor, is_active=is_active, is_staff=is_staff, roles=roles)
        add, remove, asked_add, asked_remove = (), (), set(), set()
        if roles is not None and user.is_staff and is_staff is not False:
            current, wanted = _roles_now(user), {str(r) for r in roles}
            actor_roles = _roles_now(actor)
            asked_add = {role for role in wanted - current if role_exceeds(role, actor_roles)}
            asked_remove = (current - wanted) & PRIVACY_ROLES
            add, remove = wanted - current - asked_add, current - wanted - asked_remove
        _access_apply(user, is_active=is_active, is_staff=is_staff, add=add, remove=remove)
        if asked_add or asked_remove:
            return _role_request_open(account=user, requested_by=actor, added=asked_add, removed=asked_remove)
    return None


def role_request_decide(*, request_id, approve: bool, actor) -> RoleRequest:
    """Approve (apply) or refuse a pending role request. Refusing records the decision only."""
    _require(actor, DECIDE_PERMISSION)
    with transaction.atomic():
        request = RoleRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise ValidationError(_("This role request does not exist."), code="not_found")
        if actor.pk in (request.account_id, request.requested_by_id):
            raise PermissionDenied(_("You may not decide a role request about your own account or one you made."))
        if request.status != RoleRequest.Status.PENDING:
            raise ValidationError(_("This role request has already been decided."), code="decided")
        if approve:
            with acting(actor, requested_by=request.requested_by):
                account = User.objects.select_for_update().get(pk=request.account_id)
                if request.roles_added and not account.is_staff:
                    raise ValidationError(
                        _("The account is no longer a staff account and cannot be given roles: refuse the request."),
                        code="not_staff",
                    )
                _access_apply(account, add=request.roles_added, remove=request.roles_removed)
        request.status = RoleRequest.Status.APPROVED if approve else RoleRequest.Status.REFUSED
        request.decided_by, request.decided_at = actor, clock.now()
        request.save(update_fields=["status", "decided_by", "decided_at"])
    return request


def staff_role_set_from_server(*, login_id: str, role: str, remove: bool = False) -> bool:
    """Give a staff account a role, or take it away, as the server's operator: how the first
    administrator and the first privacy officer get their roles, since superuser status gives
    no permission. Recorded in the permission-change log as "server command". True when
    something changed."""
    if str(role) not in Role.values:
        raise ValidationError(
            _("Unknown role %(role)s; the roles are: %(roles)s.") % {"role": role, "roles": ", ".join(Role.values)}
        )
    with transaction.atomic():
        user = User.objects.select_for_update().filter(login_id=normalize_login_id(login_id)).first()
        if user is None:
            raise ValidationError(_("No account has this login ID."))
        if not user.is_staff and not remove:
            raise ValidationError(_("Only staff accounts have roles; a member account never becomes staff."))
        group = Group.objects.get(name=str(role))
        holds = user.groups.filter(pk=group.pk).exists()
        if remove and holds:
            user.groups.remove(group)
        elif not remove and not holds:
            user.groups.add(group)
        else:
            return False
    return True


def account_send_password_reset(*, user_id, actor) -> User:
    """Send the account's owner the password-reset email ("forgot my password"), also when the
    account has no usable password yet (a new staff account). The address is the account's
    own: nobody can have a reset link sent elsewhere. The per-address limit of the public form
    applies (``ValidationError(code="rate_limited")`` over it), and the sending is recorded in
    the back office's history in the same transaction: a ``LogEntry``, not a permission change
    (the email gives nobody access; the owner still chooses the password), shown on the
    account's History page and declared in the catalog (two years, the privacy officer)."""
    _require(actor, CHANGE_PERMISSION)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if not user.is_active:
            raise ValidationError(_("This account is deactivated; no email is sent to it."))
        # The staff member's address is not counted: their network may be the one members use.
        check_password_reset_limits(ip=None, email=user.email)
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=[user],
            action_flag=CHANGE,
            change_message=_("Sent a password-reset email."),
            single_object=True,
        )
        enqueue_member_email(user, "password_reset")
    return user
