"""Rate limits on the account pages and the login: what each one stops, and what it must not.

Registration (page and ``POST /api/v1/auth/register``)
    Threat: one client creating accounts in bulk (spam, squatting login IDs, mail sent to
    addresses it does not own). Both routes count every attempt in DRF's ``register`` throttle
    (``REGISTER_THROTTLE_RATE`` per client address, ``common.client_ip``), in one counter:
    moving from the API to the page gains nothing. Every limit here on a client address (and
    axes' lockout) counts an IPv6 client by its /64 network (``client_ip.rate_limit_key``),
    which one client may hop around in at will.

Password reset requests
    Threats: one client mailing reset links to many addresses, and anyone mail-bombing one
    person with reset links. Counted per client address and per email address asked about
    (``PASSWORD_RESET_LIMIT_PER_IP``, ``PASSWORD_RESET_LIMIT_PER_EMAIL`` per rolling hour), by
    a keyed hash, so no address is stored. The per-address count applies to every address
    asked about, registered or not, and the answer is the same either way, so the limit
    reveals nobody's registration. The cost, accepted: someone who knows a member's address
    can hold back that member's reset mails for an hour; the member can still log in.

Login: one login ID tried from many addresses
    django-axes refuses a (login ID, address) pair after 5 failures; a guesser who spreads
    over many addresses (a botnet, a cloud's address pool) is not slowed by it at all. Here
    failures are also counted per login ID across all addresses (``user_login_failed``, a
    rolling ``LOGIN_ID_SLOWDOWN_WINDOW``, a keyed hash of the normalised login ID). Past
    ``LOGIN_ID_SLOWDOWN_AFTER`` failures, attempts for that login ID from addresses that are
    not familiar to the account share one turn per ``LOGIN_ID_SLOWDOWN_SECONDS``; the others
    are answered 429 with ``Retry-After`` before any password is checked (so a turned-away
    guess learns nothing), and are not counted as failures of that address by axes. With the
    defaults a distributed guesser gets 120 guesses an hour instead of thousands.

    What it must not do: let an attacker lock the owner out. Nothing is locked, and the
    owner's usual addresses are never slowed. An address is familiar when, within
    ``LOGIN_ID_FAMILIAR_DAYS``, the account logged in successfully from it (``KnownLoginAddress``,
    written on every ``user_logged_in``: pages, back office and token API, members and staff
    alike) or, for a member, used the site from it (the usage log). Familiarity is by
    ``rate_limit_key``, so an IPv6 owner stays familiar when their device picks a new address in
    its /64. What remains: an owner on an address never used before (a trip, a new phone
    network) competes with the guesser for the turns while an attack lasts, and is told how
    long to wait; once a turn lets them in, that address is familiar from then on. A
    successful login does not reset the count: the owner logging in from home must not reopen
    the way for the guesser. Unknown login IDs are treated exactly as known ones (no address is
    familiar to them, found by the same queries), so the slowdown reveals no account.

    Known addresses are kept as HMACs (the blind-index key) of the address's rate-limit key and
    the account's ID: they answer "is this one of this account's addresses" and nothing else.

Counters live in the cache (``CACHE_URL``): with several server processes it must be a shared
one, or each process counts alone.
"""

import hmac
import math
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.utils.translation import ngettext

from kirakira.common import clock
from kirakira.common.client_ip import UNKNOWN_ADDRESS, client_ip, rate_limit_key
from kirakira.common.ratelimit import hit, recent_count, take_turn, wait_for
from kirakira.privacy.crypto.keyring import keyring

from .models import KnownLoginAddress
from .normalization import normalize_email, normalize_login_id

FAILURES = "login-id-failures"
TURNS = "login-id-turn"


# --- one login ID from many addresses ----------------------------------------------------------
def slowdown_message(wait: int) -> str:
    return ngettext(
        "Many failed login attempts were made with this login ID recently. To protect the account, "
        "please wait %(seconds)d second and try again.",
        "Many failed login attempts were made with this login ID recently. To protect the account, "
        "please wait %(seconds)d seconds and try again.",
        wait,
    ) % {"seconds": wait}


def login_address_hash(user_id, ip: str) -> str:
    """The keyed hash ``KnownLoginAddress`` keeps of ``ip`` (by its ``rate_limit_key``) for one
    account: the account's ID is mixed in, so equal hashes never show two accounts sharing an
    address."""
    message = f"accounts.KnownLoginAddress|{user_id}|{rate_limit_key(ip)}".encode()
    return hmac.digest(keyring().blind_index_key, message, "sha256").hex()


def _familiar(login_id: str, ip: str) -> bool:
    from kirakira.usage.models import UsageRecord

    since = clock.now() - timedelta(days=settings.LOGIN_ID_FAMILIAR_DAYS)
    # One query whether or not the login ID exists (the account's ID comes with its rows).
    known = list(
        KnownLoginAddress.objects.filter(user__login_id=login_id, last_seen_at__gte=since).values_list(
            "user_id", "address_hash"
        )
    )
    if known and login_address_hash(known[0][0], ip) in {digest for _user_id, digest in known}:
        return True
    # Security is exempt from a stop of processing (policy C7: "use of the usage log beyond
    # security"): the rows of a member who stopped the usage log, or everything, still tell
    # their own addresses from a guesser's, so the stop never slows the owner down.
    return UsageRecord.objects.filter(
        member__login_id=login_id, occurred_at__gte=since, ip_address=ip
    ).exists()


class LoginIdSlowdownBackend:
    """Authenticates nobody: turns an attempt away (``PermissionDenied``, which ends
    ``authenticate``) when its login ID is under attack and its address is not one of the
    account's. Listed first in ``AUTHENTICATION_BACKENDS``, before axes and the password check.

    A turned-away request carries ``login_turned_away`` (seconds to wait) and axes' own
    ``axes_locked_out`` flag, so that axes' middleware, and the token API's check of that flag,
    answer with ``lockout.lockout_response``.

    Not a ``BaseBackend``: a backend with ``get_user`` would be the one the test client's
    ``force_login`` and others pick for sessions, and this one authenticates nobody."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not isinstance(username, str):
            return None
        login_id = normalize_login_id(username)
        if not login_id:
            return None
        failures = recent_count(FAILURES, login_id, window_seconds=settings.LOGIN_ID_SLOWDOWN_WINDOW)
        if failures < settings.LOGIN_ID_SLOWDOWN_AFTER or _familiar(login_id, client_ip(request)):
            return None
        wait = take_turn(TURNS, login_id, every_seconds=settings.LOGIN_ID_SLOWDOWN_SECONDS)
        if not wait:
            return None
        request.login_turned_away = wait
        request.axes_locked_out = True
        raise PermissionDenied

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return await sync_to_async(self.authenticate)(request, username, password, **kwargs)


def turned_away(request, credentials=None) -> bool:
    """``AXES_WHITELIST_CALLABLE``: axes records no failure for an attempt this module turned
    away (its password was never checked), so an owner who is slowed down on a new network is
    not also locked out there by axes."""
    return bool(getattr(request, "login_turned_away", 0))


@receiver(user_login_failed, dispatch_uid="kirakira.accounts.throttles.count_failure")
def count_failure(sender, credentials=None, request=None, **kwargs):
    """Every failed login counts for its login ID, whatever the address. (The module is
    imported when ``authenticate`` loads the backends, before it sends this signal.)"""
    if request is None or turned_away(request):
        return
    login_id = normalize_login_id((credentials or {}).get("username") or "")
    if login_id:
        hit(
            FAILURES,
            login_id,
            limit=settings.LOGIN_ID_SLOWDOWN_AFTER,
            window_seconds=settings.LOGIN_ID_SLOWDOWN_WINDOW,
        )


@receiver(user_logged_in, dispatch_uid="kirakira.accounts.throttles.remember_address")
def remember_address(sender, request=None, user=None, **kwargs):
    """Every successful login makes its address familiar to the account: the page's, the back
    office's and the token API's (which sends this signal too). The module is imported with
    ``services`` when the URLs load, and by ``authenticate``, before any login."""
    if request is not None and user is not None:
        login_address_remember(user=user, ip=client_ip(request))


def login_address_remember(*, user, ip: str) -> None:
    """Record that ``user`` logged in from ``ip`` now (a keyed hash, see ``login_address_hash``)."""
    if ip == UNKNOWN_ADDRESS:
        return  # no usable address (a test client's force_login): nothing to recognise later
    with transaction.atomic():
        KnownLoginAddress.objects.update_or_create(
            user=user,
            address_hash=login_address_hash(user.pk, ip),
            defaults={"last_seen_at": clock.now()},
        )


def login_addresses_prune() -> int:
    """Delete the known addresses unseen for ``LOGIN_ID_FAMILIAR_DAYS``: they no longer count as
    the owner's, so their purpose is met. Returns how many were deleted."""
    cutoff = clock.now() - timedelta(days=settings.LOGIN_ID_FAMILIAR_DAYS)
    deleted, _by_model = KnownLoginAddress.objects.filter(last_seen_at__lt=cutoff).delete()
    return deleted


# --- registration and password reset -------------------------------------------------------------
def registration_message(wait: int) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return ngettext(
        "Too many registrations came from your network. Please try again in %(minutes)d minute.",
        "Too many registrations came from your network. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def check_password_reset_limits(*, ip: str | None, email: str) -> None:
    """Count a password reset request for this client address and for the email address asked
    about (registered or not); raise ``ValidationError(code="rate_limited")``, with the seconds
    to wait as ``params["retry_after"]``, when either is over its hourly limit."""
    counters = [
        ("password-reset-ip", rate_limit_key(ip), settings.PASSWORD_RESET_LIMIT_PER_IP),
        ("password-reset-email", normalize_email(email), settings.PASSWORD_RESET_LIMIT_PER_EMAIL),
    ]
    counters = [(scope, value, limit) for scope, value, limit in counters if value]
    # Both are checked before either counts: a refused request uses up neither limit.
    wait = max((wait_for(scope, value, limit=limit) for scope, value, limit in counters), default=0)
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        raise ValidationError(
            ngettext(
                "Too many password reset requests were made. Please try again in %(minutes)d minute.",
                "Too many password reset requests were made. Please try again in %(minutes)d minutes.",
                minutes,
            ),
            code="rate_limited",
            params={"minutes": minutes, "retry_after": wait},
        )
    for scope, value, limit in counters:
        hit(scope, value, limit=limit)
