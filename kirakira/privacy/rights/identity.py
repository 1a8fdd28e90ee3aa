"""The identity check before a rights request: the member's password and a six-digit code
mailed to their address.

The code is derived from the code row's random ID with a keyed HMAC (as Django derives its
password-reset tokens from ``SECRET_KEY``), so that neither the table nor the task queue ever
holds it: the task that mails it recomputes it from the row's ID. The latest code mailed is the
only one that works; it expires after ``IDENTITY_CODE_MINUTES`` and dies at its
``IDENTITY_CODE_TRIES``-th wrong try. Every wrong password and every wrong code is a failed
login of the member's login ID for django-axes (``user_login_failed``), so guessing either
locks the login ID out exactly as guessing at the login page does.
"""

import hmac
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kirakira.common import clock, ratelimit
from kirakira.common.tasks import enqueue_in_transaction

from .models import IdentityCode

CODE_DIGITS = 6


class IdentityLocked(Exception):
    """The login ID is locked out (too many failed logins, wrong codes included)."""


class CodeRequestsExceeded(Exception):
    def __init__(self, wait: int):
        super().__init__("identity codes requested too often")
        self.wait = wait


def code_of(row: IdentityCode) -> str:
    digest = hmac.digest(
        settings.SECRET_KEY.encode(), f"privacy.IdentityCode|{row.pk}|{row.member_id}".encode(), "sha256"
    )
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def code_send(member) -> IdentityCode:
    """Mail a new code to the member; an earlier one stops working."""
    wait = ratelimit.hit(
        "privacy.identity_code", str(member.pk), limit=settings.IDENTITY_CODES_PER_HOUR, count_refused=False
    )
    if wait:
        raise CodeRequestsExceeded(wait)
    from .tasks import send_identity_code

    now = clock.now()
    with transaction.atomic():
        # Only the latest code works: the earlier ones go (their wrong tries were counted by axes).
        IdentityCode.objects.filter(member=member, used_at__isnull=True).delete()
        row = IdentityCode.objects.create(
            member=member, created_at=now, expires_at=now + timedelta(minutes=settings.IDENTITY_CODE_MINUTES)
        )
        enqueue_in_transaction(send_identity_code, code_id=str(row.pk))
    return row


def _failed_login(member, http_request) -> None:
    user_login_failed.send(sender=__name__, credentials={"username": member.login_id}, request=http_request)


def identity_check(member, *, password: str, code: str, http_request) -> None:
    """Check the password and the code, and spend the code. Raises ``ValidationError`` (under
    "password" or "identity_code") or ``IdentityLocked``. Wrong tries are kept whatever the
    caller's transaction does: call it outside one, after the request's own input is valid."""
    checked = authenticate(http_request, username=member.login_id, password=password or "")
    if getattr(http_request, "axes_locked_out", False):
        raise IdentityLocked()
    if checked is None or checked.pk != member.pk:
        raise ValidationError({"password": [_("The password is incorrect. Please enter it again.")]})
    code = (code or "").strip()
    with transaction.atomic():
        refusal = _spend(member, code, clock.now())
    if refusal is None:
        return
    if refusal == "wrong":
        _failed_login(member, http_request)
        if getattr(http_request, "axes_locked_out", False):
            raise IdentityLocked()
    raise refusal_error(refusal, member)


def _spend(member, code: str, now) -> str | None:
    """Spend the member's latest code if ``code`` is it; otherwise say why not ("expired",
    "spent", "wrong"), having counted a wrong try. Its own transaction: a refusal is kept."""
    row = (
        IdentityCode.objects.select_for_update()
        .filter(member=member, used_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if row is None or row.expires_at <= now:
        return "expired"
    if row.tries >= settings.IDENTITY_CODE_TRIES:
        return "spent"
    if not (code.isdigit() and hmac.compare_digest(code, code_of(row))):
        row.tries += 1
        row.save(update_fields=["tries"])
        return "wrong"
    row.used_at = now
    row.save(update_fields=["used_at"])
    return None


def refusal_error(refusal: str, member) -> ValidationError:
    if refusal == "expired":
        message = _("This code has expired or was never sent. Ask for a new code.")
    elif refusal == "spent":
        message = _("This code was entered wrongly too many times. Ask for a new code.")
    else:
        latest = IdentityCode.objects.filter(member=member).order_by("-created_at").first()
        left = settings.IDENTITY_CODE_TRIES - (latest.tries if latest else settings.IDENTITY_CODE_TRIES)
        message = (
            _("The code is incorrect. You may try %(left)d more times before asking for a new code.")
            % {"left": left}
            if left > 0
            else _("The code is incorrect, and has now been tried too many times. Ask for a new code.")
        )
    return ValidationError({"identity_code": [message]}, code=refusal)
