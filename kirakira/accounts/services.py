"""Writes on member accounts. Pages and API views call these; nothing else saves a User."""

import uuid

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kirakira.common import clock
from kirakira.common.validation import collect

from .models import User
from .normalization import (
    normalize_email,
    normalize_login_id,
    normalize_name,
    validate_login_id,
    validate_name,
)
from .tasks import enqueue_member_email
from .tokens import email_confirmation_token


def _email_taken_message() -> str:
    return _("This email address is already registered.")


def _login_id_taken_message() -> str:
    return _("This login ID is already taken.")


def _validate_email_syntax(value: str) -> None:
    from django.core.validators import EmailValidator

    if not value:
        raise ValidationError(_("Enter your email address."), code="required")
    if len(value) > 254:
        raise ValidationError(_("An email address is at most 254 characters long."), code="max_length")
    EmailValidator(message=_("Enter a valid email address."))(value)


def member_register(*, login_id: str, name: str, email: str, password: str, language: str) -> User:
    """Create a member (unconfirmed) and send the confirmation link once the row is committed.

    Raises ``ValidationError`` with a dict of field errors; on any error nothing is created.
    """
    login_id, name, email = normalize_login_id(login_id), normalize_name(name), normalize_email(email)
    errors: dict[str, list[str]] = {}
    collect(errors, "login_id", validate_login_id, login_id)
    collect(errors, "name", validate_name, name)
    collect(errors, "email", _validate_email_syntax, email)
    if "login_id" not in errors and User.objects.filter(login_id=login_id).exists():
        errors["login_id"] = [_login_id_taken_message()]
    if "email" not in errors and User.objects.with_email(email).exists():
        errors["email"] = [_email_taken_message()]
    candidate = User(login_id=login_id, name=name, email=email, language=language)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)

    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save(force_insert=True)
    except IntegrityError:
        # Lost a race with another registration for the same login ID or email.
        raise ValidationError(
            {"login_id": [_("This login ID or email address is already registered.")]}
        ) from None
    transaction.on_commit(lambda: enqueue_member_email(candidate, "registration_confirmation"))
    return candidate


class ConfirmationResult:
    REGISTRATION = "registration"
    EMAIL_CHANGE = "email_change"


def member_confirm_email(*, user_id, token: str) -> tuple[User, str]:
    """Confirm a registration or a new email address from an emailed link.

    Raises ``ValidationError`` when the link is invalid, expired or already used.
    """
    invalid = ValidationError(
        _("This confirmation link is invalid, has expired or has already been used."), code="invalid_link"
    )
    try:
        user_id = uuid.UUID(str(user_id))
    except ValueError:
        raise invalid from None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not email_confirmation_token.check_token(user, token):
            raise invalid
        if user.pending_email:
            new_email = user.pending_email
            if User.objects.with_email(new_email).exclude(pk=user.pk).exists():
                raise ValidationError(_email_taken_message(), code="email_taken")
            user.email, user.pending_email = new_email, ""
            user.email_confirmed_at = clock.now()
            try:
                with transaction.atomic():
                    user.save(update_fields=["email", "email_index", "pending_email", "email_confirmed_at"])
            except IntegrityError:
                raise ValidationError(_email_taken_message(), code="email_taken") from None
            return user, ConfirmationResult.EMAIL_CHANGE
        if user.email_confirmed_at is not None:
            raise invalid
        user.email_confirmed_at = clock.now()
        user.save(update_fields=["email_confirmed_at"])
        return user, ConfirmationResult.REGISTRATION


def member_resend_confirmation(*, user: User) -> None:
    if user.email_confirmed_at is None:
        transaction.on_commit(lambda: enqueue_member_email(user, "registration_confirmation"))


def member_set_language(*, user: User, language: str) -> bool:
    """Keep the language a member explicitly chose (the header's switcher) on their account: their
    pages use it when no URL prefix or preferences cookie says otherwise, and so do their emails.
    It is account data, not a cookie, so it needs no cookie consent. True when it changed."""
    if language == user.language:
        return False
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return True


def member_update_profile(*, user: User, name: str | None = None, email: str | None = None) -> bool:
    """Change a member's name now, and their email once the new address is confirmed.

    Returns True when a new email address is awaiting confirmation.
    """
    errors: dict[str, list[str]] = {}
    new_name = normalize_name(name) if name is not None else None
    new_email = normalize_email(email) if email is not None else None
    if new_name is not None:
        collect(errors, "name", validate_name, new_name)
    if new_email is not None and new_email != user.email:
        collect(errors, "email", _validate_email_syntax, new_email)
        if "email" not in errors and User.objects.with_email(new_email).exclude(pk=user.pk).exists():
            errors["email"] = [_email_taken_message()]
    if errors:
        raise ValidationError(errors)

    email_change = new_email is not None and new_email != user.email
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        fields = []
        if new_name is not None and new_name != locked.name:
            locked.name = new_name
            fields.append("name")
        if email_change:
            locked.pending_email = new_email
            fields.append("pending_email")
        elif new_email is not None and locked.pending_email:
            locked.pending_email = ""  # asking for the current address again cancels a change
            fields.append("pending_email")
        if fields:
            locked.save(update_fields=fields)
        if email_change:
            transaction.on_commit(lambda: enqueue_member_email(locked, "new_email_confirmation"))
            transaction.on_commit(lambda: enqueue_member_email(locked, "email_change_notice"))
    user.name, user.pending_email = locked.name, locked.pending_email
    return email_change


def member_request_password_reset(*, email: str) -> None:
    """Send a reset link if an active account has this email; say nothing either way."""
    user = User.objects.with_email(email).filter(is_active=True).first()
    if user is not None and user.has_usable_password():
        transaction.on_commit(lambda: enqueue_member_email(user, "password_reset"))
