"""Checks shared by every way an account comes into being: a member registering
(``services.member_register``) and the administrator creating a staff account
(``staff.staff_check_new``). One implementation, so the two cannot drift apart."""

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _

from .models import User


def email_taken_message() -> str:
    return _("This email address is already registered.")


def login_id_taken_message() -> str:
    return _("This login ID is already taken.")


def validate_email_syntax(value: str, *, required_message: str | None = None) -> None:
    """A normalised email address's form (not whether it is taken). ``required_message``
    replaces "Enter your email address." where someone types another person's address."""
    if not value:
        raise ValidationError(required_message or _("Enter your email address."), code="required")
    if len(value) > 254:
        raise ValidationError(_("An email address is at most 254 characters long."), code="max_length")
    EmailValidator(message=_("Enter a valid email address."))(value)


def collect_taken(errors: dict, *, login_id: str, email: str) -> None:
    """Add to ``errors`` that the (normalised) login ID or email address belongs to an account
    already, for each field that has no error yet. The database's unique constraints still
    decide a race; this gives the usual case its message by field."""
    if "login_id" not in errors and User.objects.filter(login_id=login_id).exists():
        errors["login_id"] = [login_id_taken_message()]
    if "email" not in errors and User.objects.with_email(email).exists():
        errors["email"] = [email_taken_message()]
