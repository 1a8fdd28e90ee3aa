"""Writes on member accounts. Pages and API views call these; nothing else saves a User."""

import math
import uuid

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from knox.models import AuthToken
from knox.settings import knox_settings

from kirakira.common import clock
from kirakira.common.ratelimit import hit
from kirakira.common.validation import collect
from kirakira.legal.models import TermsAgreement
from kirakira.legal.services import terms_agree
from kirakira.privacy.retention.storage import registration_matches

from .models import BrowserSession, MemberToken, User
from .normalization import (
    normalize_email,
    normalize_login_id,
    normalize_name,
    validate_login_id,
    validate_name,
)
from .session_tracking import current_session_key
from .tasks import enqueue_member_email
from .throttles import check_password_reset_limits, login_addresses_prune
from .tokens import email_confirmation_token
from .validation import collect_taken
from .validation import email_taken_message as _email_taken_message
from .validation import validate_email_syntax as _validate_email_syntax


def registration_errors(*, login_id: str, name: str, email: str, password: str, language: str) -> dict:
    """Every field error a registration with these values would meet (``{field: [message]}``),
    nothing written: for a form that cannot call ``member_register`` yet (its passwords differ)
    and must still show every error at once."""
    return _registration_checked(login_id, name, email, password, language)[1]


def _registration_checked(login_id, name, email, password, language) -> tuple[User, dict[str, list[str]]]:
    login_id, name, email = normalize_login_id(login_id), normalize_name(name), normalize_email(email)
    errors: dict[str, list[str]] = {}
    collect(errors, "login_id", validate_login_id, login_id)
    collect(errors, "name", validate_name, name)
    collect(errors, "email", _validate_email_syntax, email)
    collect_taken(errors, login_id=login_id, email=email)
    candidate = User(login_id=login_id, name=name, email=email, language=language)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = exc.messages
    return candidate, errors


def terms_refused_message() -> str:
    return _("Agree to the terms of service to register.")


def member_register(
    *, login_id: str, name: str, email: str, password: str, language: str, accept_terms: bool
) -> User:
    """Create a member (unconfirmed), record their agreement to the terms of service in force,
    and queue the confirmation link with the row: all committed or none.

    Raises ``ValidationError`` with a dict of field errors; on any error nothing is created.
    """
    candidate, errors = _registration_checked(login_id, name, email, password, language)
    if accept_terms is not True:
        errors["accept_terms"] = [terms_refused_message()]
    if errors:
        raise ValidationError(errors)
    email = candidate.email

    candidate.set_password(password)
    with transaction.atomic():
        try:
            with transaction.atomic():
                candidate.save(force_insert=True)
        except IntegrityError:
            # Lost a race with another registration for the same login ID or email.
            raise ValidationError(
                {"login_id": [_("This login ID or email address is already registered.")]}
            ) from None
        terms_agree(member=candidate, channel=TermsAgreement.Channel.REGISTRATION)
        # The fraud check the policy states: a lead for the privacy officer, never a refusal.
        registration_matches(user=candidate, email=email)
        enqueue_member_email(candidate, "registration_confirmation")
    return candidate


class ConfirmationResult:
    REGISTRATION = "registration"
    EMAIL_CHANGE = "email_change"


def _confirmation_user(users, *, user_id, token: str) -> User:
    invalid = ValidationError(
        _("This confirmation link is invalid, has expired or has already been used."), code="invalid_link"
    )
    try:
        user_id = uuid.UUID(str(user_id))
    except ValueError:
        raise invalid from None
    user = users.filter(pk=user_id, is_active=True).first()
    if user is None or not email_confirmation_token.check_token(user, token):
        raise invalid
    if user.pending_email:
        if User.objects.with_email(user.pending_email).exclude(pk=user.pk).exists():
            raise ValidationError(_email_taken_message(), code="email_taken")
    elif user.email_confirmed_at is not None:
        raise invalid
    return user


def member_check_confirmation(*, user_id, token: str) -> User:
    """The member an emailed confirmation link (registration or a new email address) is for,
    when the link can still be used; reads only, for the page that shows the button.

    Raises ``ValidationError`` when the link is invalid, expired or already used
    (``invalid_link``), or when the new address was registered by someone else meanwhile
    (``email_taken``). ``member_confirm_email`` checks the same again, under a row lock."""
    return _confirmation_user(User.objects.all(), user_id=user_id, token=token)


def member_confirm_email(*, user_id, token: str) -> tuple[User, str]:
    """Confirm a registration or a new email address from an emailed link.

    Raises ``ValidationError`` as ``member_check_confirmation`` does.
    """
    with transaction.atomic():
        user = _confirmation_user(User.objects.select_for_update(), user_id=user_id, token=token)
        if user.pending_email:
            user.email, user.pending_email = user.pending_email, ""
            user.email_confirmed_at = clock.now()
            try:
                with transaction.atomic():
                    user.save(update_fields=["email", "email_index", "pending_email", "email_confirmed_at"])
            except IntegrityError:
                raise ValidationError(_email_taken_message(), code="email_taken") from None
            # The address that can reset the password changed: no other login outlives that.
            member_logins_end(user=user, keep_session_key=current_session_key(user))
            return user, ConfirmationResult.EMAIL_CHANGE
        user.email_confirmed_at = clock.now()
        user.save(update_fields=["email_confirmed_at"])
        return user, ConfirmationResult.REGISTRATION


def member_set_language(*, user: User, language: str) -> bool:
    """Keep the language a member explicitly chose (the header's switcher) on their account: their
    pages use it when no URL prefix or preferences cookie says otherwise, and so do their emails.
    It is account data, not a cookie, so it needs no cookie consent. True when it changed."""
    if language == user.language:
        return False
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return True


def profile_errors(*, user: User, name: str | None = None, email: str | None = None) -> dict:
    """Every field error ``member_update_profile`` would raise for these values, nothing written:
    for a form that cannot call it yet (another field is missing) and must still show every
    error at once."""
    return _profile_checked(user, name, email)[2]


def _profile_checked(user, name, email) -> tuple[str | None, str | None, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    new_name = normalize_name(name) if name is not None else None
    new_email = normalize_email(email) if email is not None else None
    if new_name is not None:
        collect(errors, "name", validate_name, new_name)
    if new_email is not None and new_email != user.email:
        collect(errors, "email", _validate_email_syntax, new_email)
        if "email" not in errors and User.objects.with_email(new_email).exclude(pk=user.pk).exists():
            errors["email"] = [_email_taken_message()]
    return new_name, new_email, errors


def member_update_profile(*, user: User, name: str | None = None, email: str | None = None) -> bool:
    """Change a member's name now, and their email once the new address is confirmed.

    Returns True when a new email address is awaiting confirmation.
    """
    new_name, new_email, errors = _profile_checked(user, name, email)
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
            enqueue_member_email(locked, "new_email_confirmation")
            enqueue_member_email(locked, "email_change_notice")
    user.name, user.pending_email = locked.name, locked.pending_email
    return email_change


def member_request_password_reset(*, email: str, ip: str | None = None) -> None:
    """Send a reset link if an active account has this email; say nothing either way.

    Raises ``ValidationError(code="rate_limited")`` when the client address ``ip`` or this
    email address (registered or not, so the limit reveals nothing) asked too often."""
    check_password_reset_limits(ip=ip, email=email)
    user = User.objects.with_email(email).filter(is_active=True).first()
    if user is not None and user.has_usable_password():
        enqueue_member_email(user, "password_reset")


# --- Logins: browser sessions and API tokens (design in session_tracking.py) --------------------


def member_logins_end(*, user: User, keep_session_key: str | None = None) -> None:
    """End every API token and every browser session of ``user`` but the session whose key is
    ``keep_session_key`` (the one making the change). A new password, a confirmed email change
    and a deactivation call this."""
    with transaction.atomic():
        sessions = BrowserSession.objects.filter(user=user)
        if keep_session_key is not None:
            sessions = sessions.exclude(session_key=keep_session_key)
        sessions.delete()
        AuthToken.objects.filter(user=user).delete()


def member_token_create(*, user: User, client: str):
    """A new API token for ``user``, whose password has just been checked: ``(AuthToken, token)``.

    A member keeps at most ``REST_KNOX["TOKEN_LIMIT_PER_USER"]`` live tokens; logging in at the
    limit ends the oldest, so a member who lost a device can always log in again. ``None`` when
    the account changed since the password was checked (a new password or a deactivation
    committed in between), so that such a login cannot outlive the change.
    """
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    now = clock.now()
    with transaction.atomic():
        # The member's row lock serialises their logins (two at once could pass the limit) and
        # orders them after a password change or deactivation.
        locked = User.objects.select_for_update().filter(pk=user.pk).first()
        if locked is None or not locked.is_active or locked.password != user.password:
            return None
        tokens = AuthToken.objects.filter(user=locked)
        tokens.filter(expiry__lte=now).delete()
        if limit is not None:
            live = tokens.filter(Q(expiry__isnull=True) | Q(expiry__gt=now)).order_by("-created", "-pk")
            oldest = list(live.values_list("pk", flat=True)[max(limit - 1, 0) :])
            if oldest:
                AuthToken.objects.filter(pk__in=oldest).delete()
        instance, token = AuthToken.objects.create(locked)
        MemberToken.objects.create(token=instance, client=client[:60])
    return instance, token


def member_token_end(*, user: User, token_id=None, digest: str | None = None) -> bool:
    """End one of ``user``'s API tokens, named by its public ID (pages, ``DELETE auth/tokens/{id}``)
    or by its digest (the token of the request: ``auth/logout``). False when ``user`` has none such."""
    if (token_id is None) == (digest is None):
        raise ValueError("name the token by token_id or by digest")
    tokens = AuthToken.objects.filter(user=user)
    tokens = tokens.filter(member_token__id=token_id) if token_id is not None else tokens.filter(pk=digest)
    with transaction.atomic():
        deleted, _ = tokens.delete()
    return deleted > 0


def member_tokens_end(*, user: User) -> None:
    """End every API token of ``user`` (``auth/logout-all``); browser sessions stay."""
    with transaction.atomic():
        AuthToken.objects.filter(user=user).delete()


def member_session_end(*, user: User, session_id) -> bool:
    """End one of ``user``'s browser sessions, named by its public ID: that browser's next request
    is anonymous. False when ``user`` has no such session."""
    with transaction.atomic():
        deleted, _ = BrowserSession.objects.filter(user=user, public_id=session_id).delete()
    return deleted > 0


def logins_prune() -> tuple[int, int]:
    """Delete what can no longer log anyone in: expired browser sessions (as Django's
    ``clearsessions``), expired API tokens (knox deletes a member's own only when that member
    next uses the API), and the sessions and tokens of deactivated accounts (a deactivation by
    ``QuerySet.update()`` does not pass through ``User.save``); and the known login addresses
    unseen for ``LOGIN_ID_FAMILIAR_DAYS`` (``throttles.login_addresses_prune``). Returns the
    numbers of sessions and of tokens deleted."""
    now = clock.now()
    with transaction.atomic():
        sessions = BrowserSession.objects.filter(Q(expire_date__lt=now) | Q(user__is_active=False)).delete()
        tokens = AuthToken.objects.filter(Q(expiry__lt=now) | Q(user__is_active=False)).delete()
        login_addresses_prune()
    return sessions[1].get(BrowserSession._meta.label, 0), tokens[1].get(AuthToken._meta.label, 0)


# --- The account API's own writes (kirakira/accounts/api.py) -------------------------------------


def member_update(
    *, user: User, name: str | None = None, email: str | None = None, language: str | None = None
) -> bool:
    """``PATCH /api/v1/me``: the profile (``member_update_profile``) and the language
    (``member_set_language``) in one transaction, so that a request with any error changes
    nothing; every field's errors are reported together. True when a new email address awaits
    confirmation."""
    errors: dict[str, list[str]] = {}
    if language is not None and language not in dict(settings.LANGUAGES):
        errors["language"] = [
            _("Select a valid choice. %(value)s is not one of the available choices.") % {"value": language}
        ]
    with transaction.atomic():
        try:
            email_change = member_update_profile(user=user, name=name, email=email)
        except ValidationError as exc:
            raise ValidationError({**exc.message_dict, **errors}) from None
        if errors:
            raise ValidationError(errors)  # rolls the profile back
        if language is not None:
            member_set_language(user=user, language=language)
    return email_change


def member_confirmation_resend(*, user: User) -> str:
    """Send again the link that confirms what ``user`` has not confirmed yet: a new address
    awaiting confirmation, or else the address registered with. Returns the email's kind.

    Threat: a member who typed someone else's address asking again and again, to flood that
    mailbox. Requests are counted per address the link goes to (a keyed hash, no address
    stored), ``CONFIRMATION_RESEND_LIMIT_PER_HOUR`` in a rolling hour; a refused one is not
    counted, so the wait told is exact. Raises ``ValidationError`` with code
    ``nothing_to_confirm``, or ``rate_limited`` with the seconds to wait as
    ``params["retry_after"]``."""
    with transaction.atomic():
        # The row lock orders this after a confirmation or an email change being committed.
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.pending_email:
            kind, address = "new_email_confirmation", locked.pending_email
        elif locked.email_confirmed_at is None:
            kind, address = "registration_confirmation", locked.email
        else:
            raise ValidationError(_("Your email address is already confirmed."), code="nothing_to_confirm")
        wait = hit(
            "confirmation-resend",
            normalize_email(address),
            limit=settings.CONFIRMATION_RESEND_LIMIT_PER_HOUR,
            count_refused=False,
        )
        if wait:
            minutes = max(1, math.ceil(wait / 60))
            raise ValidationError(
                ngettext(
                    "Too many confirmation emails were requested. Please try again in %(minutes)d minute.",
                    "Too many confirmation emails were requested. Please try again in %(minutes)d minutes.",
                    minutes,
                ),
                code="rate_limited",
                params={"minutes": minutes, "retry_after": wait},
            )
        enqueue_member_email(locked, kind)
    return kind


def member_password_change(*, user: User, checked_hash: str, new_password: str, client: str):
    """``POST /api/v1/me/password``: set a new password for ``user``, whose current password the
    caller has just checked (``checked_hash``: the password hash it was checked against), and
    issue a new API token, ``(AuthToken, token)``.

    As any new password does (``User.save``), this ends every token and browser session of the
    member, the token of the request included: the new token keeps the client that made the
    change logged in, as the password page keeps its browser's session. Raises
    ``ValidationError`` naming ``new_password`` (Django's password validators) or
    ``current_password`` (the password changed since it was checked, or the account ended)."""
    try:
        password_validation.validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    with transaction.atomic():
        locked = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
        if locked is None or locked.password != checked_hash:
            raise ValidationError(
                {"current_password": [_("Your old password was entered incorrectly. Please enter it again.")]}
            )
        locked.set_password(new_password)
        locked.save(update_fields=["password"])
        created = member_token_create(user=locked, client=client)
    user.password = locked.password
    return created


def member_password_reset(*, user_id, token: str, new_password: str) -> User:
    """``POST /api/v1/auth/password-reset/confirm``: set a new password with an emailed reset
    link's ``uid`` (decoded: the account's ID) and token, as the link's page does. The token is
    Django's: valid for ``PASSWORD_RESET_TIMEOUT`` and once only (it covers the password hash).
    Ends every token and browser session of the member (``User.save``).

    Raises ``ValidationError`` naming ``token`` (an unusable link) or ``new_password``."""
    invalid = ValidationError(
        {"token": [_("This password reset link is invalid, has expired or has already been used.")]}
    )
    try:
        user_id = uuid.UUID(str(user_id))
    except ValueError:
        raise invalid from None
    with transaction.atomic():
        # Locked: two requests with one link must not both pass the check before either saves.
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not default_token_generator.check_token(user, token):
            raise invalid
        try:
            password_validation.validate_password(new_password, user=user)
        except ValidationError as exc:
            raise ValidationError({"new_password": exc.messages}) from None
        user.set_password(new_password)
        user.save(update_fields=["password"])
    return user
