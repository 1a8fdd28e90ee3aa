"""Emails to members, composed in the member's language.

Subjects never carry personal data; bodies address the member by name only.
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .tokens import EmailConfirmationTokenGenerator, email_confirmation_token


class FirstPasswordTokenGenerator(EmailConfirmationTokenGenerator):
    """The link with which a new staff member sets their first password: single use like the
    reset link (its hash covers the password, which setting one changes) and valid only while
    the account has no usable password, but for ``EMAIL_CONFIRMATION_TIMEOUT`` (3 days) instead
    of the reset link's hour, so that a newcomer who reads their mail the next day does not
    depend on the administrator again."""

    key_salt = "kirakira.accounts.emails.FirstPasswordTokenGenerator"
    _make_hash_value = PasswordResetTokenGenerator._make_hash_value

    def check_token(self, user, token):
        return user is not None and not user.has_usable_password() and super().check_token(user, token)


first_password_token = FirstPasswordTokenGenerator()


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _uid(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    body = render_to_string(template, {"site_url": settings.SITE_URL, **context})
    EmailMessage(subject=subject, body=body, to=[to]).send()


def send_registration_confirmation(user) -> None:
    with translation.override(user.language):
        url = _absolute(
            reverse("accounts:confirm_email", args=[_uid(user), email_confirmation_token.make_token(user)])
        )
        _send(
            to=user.email,
            subject=_("Kirakira SNS: please confirm your email address"),
            template="accounts/email/confirm_registration.txt",
            context={"user": user, "url": url},
        )


def send_new_email_confirmation(user) -> None:
    if not user.pending_email:
        return
    with translation.override(user.language):
        url = _absolute(
            reverse("accounts:confirm_email", args=[_uid(user), email_confirmation_token.make_token(user)])
        )
        _send(
            to=user.pending_email,
            subject=_("Kirakira SNS: please confirm your new email address"),
            template="accounts/email/confirm_new_email.txt",
            context={"user": user, "url": url},
        )


def send_email_change_notice(user) -> None:
    """Tell the current address that a change was asked for, so a hijack does not go unseen."""
    with translation.override(user.language):
        _send(
            to=user.email,
            subject=_("Kirakira SNS: a change of your email address was requested"),
            template="accounts/email/email_change_notice.txt",
            context={"user": user},
        )


def send_password_reset(user) -> None:
    with translation.override(user.language):
        url = _absolute(
            reverse(
                "accounts:password_reset_confirm",
                args=[_uid(user), default_token_generator.make_token(user)],
            )
        )
        _send(
            to=user.email,
            subject=_("Kirakira SNS: resetting your password"),
            template="accounts/email/password_reset.txt",
            context={"user": user, "url": url},
        )


def send_first_password(user) -> None:
    """A new staff account's link to set its first password (``first_password_token``)."""
    with translation.override(user.language):
        url = _absolute(reverse("accounts:first_password", args=[_uid(user), first_password_token.make_token(user)]))
        _send(
            to=user.email,
            subject=_("Kirakira SNS: set the password of your staff account"),
            template="accounts/email/first_password.txt",
            context={"user": user, "url": url, "days": settings.EMAIL_CONFIRMATION_TIMEOUT // 86400},
        )


def send_role_request_notice(officer, request) -> None:
    """Tell a privacy officer that a role request waits. Neither the subject nor the body names
    the account or the requester: the back office shows them to whoever may decide."""
    with translation.override(officer.language):
        url = _absolute(reverse("admin:accounts_rolerequest_change", args=[request.pk]))
        _send(
            to=officer.email,
            subject=_("Kirakira SNS: a role request waits for your decision"),
            template="accounts/email/role_request_notice.txt",
            context={"user": officer, "url": url},
        )
