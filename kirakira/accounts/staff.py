"""Writes on staff access: creating staff accounts, changing an account's roles, staff and
active flags, and sending an account's owner the password-reset email.

The rules, which the back office's forms show and these functions enforce again under a row
lock (so a crafted request gets no further than a well-formed one):

- superuser status is never given here: only ``createsuperuser`` on the server gives it;
- nobody changes their own roles or flags;
- a member account never becomes staff: staff accounts are created as such, and the person
  sets their own password from the reset email (no administrator ever knows or sets one);
- roles belong to staff accounts only; removing staff status removes every role (offboarding);
- nobody sets another person's password: the owner gets the same reset email as "forgot my
  password" sends.

Every change of access is recorded by the permission-change log
(``kirakira.privacy.audit.permissions``) in the same transaction, as ``actor``'s.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kirakira.common.roles import Role
from kirakira.common.validation import collect
from kirakira.privacy.audit.permissions import acting

from .models import User
from .normalization import (
    normalize_email,
    normalize_login_id,
    normalize_name,
    validate_login_id,
    validate_name,
)
from .tasks import enqueue_member_email

CREATE_PERMISSIONS = ("accounts.add_user", "accounts.change_user")
CHANGE_PERMISSION = "accounts.change_user"


def _require(actor, *permissions: str) -> None:
    if not actor.is_active or not actor.is_staff or not actor.has_perms(permissions):
        raise PermissionDenied(_("Your role may not do this."))


def _validate_email(value: str) -> None:
    from django.core.validators import EmailValidator

    if not value:
        raise ValidationError(_("Enter an email address."), code="required")
    if len(value) > 254:
        raise ValidationError(_("An email address is at most 254 characters long."), code="max_length")
    EmailValidator(message=_("Enter a valid email address."))(value)


def _clean_roles(roles: Iterable[str], errors: dict, field: str = "roles") -> list[str]:
    roles = sorted({str(role) for role in roles})
    unknown = [role for role in roles if role not in Role.values]
    if unknown:
        errors.setdefault(field, []).append(_("Choose roles from the list."))
    return [role for role in roles if role in Role.values]


def staff_check_new(*, login_id: str, name: str, email: str, language: str, roles: Iterable[str]) -> dict:
    """The normalised values of a new staff account, or ``ValidationError`` with every
    problem by field (``login_id``, ``name``, ``email``, ``language``, ``roles``)."""
    login_id, name, email = normalize_login_id(login_id), normalize_name(name), normalize_email(email)
    errors: dict[str, list] = {}
    collect(errors, "login_id", validate_login_id, login_id)
    collect(errors, "name", validate_name, name)
    collect(errors, "email", _validate_email, email)
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose a language from the list.")]
    role_list = _clean_roles(roles, errors)
    if not role_list and "roles" not in errors:
        errors["roles"] = [_("Give the staff account at least one role.")]
    if "login_id" not in errors and User.objects.filter(login_id=login_id).exists():
        errors["login_id"] = [_("This login ID is already taken.")]
    if "email" not in errors and User.objects.with_email(email).exists():
        errors["email"] = [_("This email address is already registered.")]
    if errors:
        raise ValidationError(errors)
    return {"login_id": login_id, "name": name, "email": email, "language": language, "roles": role_list}


def staff_create(
    *, login_id: str, name: str, email: str, language: str, roles: Iterable[str], actor
) -> User:
    """A staff account with ``roles`` and no usable password; its owner is sent the
    password-reset email once the account is committed, and sets their own password from it."""
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
            user.save(force_insert=True)
            user.groups.set(Group.objects.filter(name__in=data["roles"]))
            transaction.on_commit(lambda: enqueue_member_email(user, "password_reset"))
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
    current_roles = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
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
    if roles is not None:
        wanted = set(_clean_roles(roles, errors, "groups"))
        if not user.is_staff and wanted - current_roles:
            errors.setdefault("groups", []).append(_("Only staff accounts have roles."))
    if errors:
        raise ValidationError(errors)


def access_change(
    *, user_id, actor, is_active: bool | None = None, is_staff: bool | None = None, roles=None
) -> User:
    """Change an account's active flag, staff status (removal only) or roles. Removing staff
    status removes every role with it. ``None`` leaves a setting as it is."""
    with transaction.atomic(), acting(actor):
        user = User.objects.select_for_update().get(pk=user_id)
        access_check_change(user=user, actor=actor, is_active=is_active, is_staff=is_staff, roles=roles)
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
        elif roles is not None:
            user.groups.set(Group.objects.filter(name__in={str(r) for r in roles}))
    user.__dict__.pop("_kirakira_roles", None)
    return user


def account_send_password_reset(*, user_id, actor) -> User:
    """Send the account's owner the password-reset email ("forgot my password"), also when the
    account has no usable password yet (a new staff account). The address is the account's
    own: nobody can have a reset link sent elsewhere."""
    _require(actor, CHANGE_PERMISSION)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        if not user.is_active:
            raise ValidationError(_("This account is deactivated; no email is sent to it."))
        transaction.on_commit(lambda: enqueue_member_email(user, "password_reset"))
    return user
