"""Rate limits: DRF's throttle for the API, and a rolling-window counter for pages.

The page counter is hand-written because what it counts is not a request but an outcome (a
consultation stored, a consent recorded), decided after validation; django-ratelimit counts
requests in fixed windows. It keeps, in the cache, the times of the last ``limit`` + 1
attempts under a keyed hash of the value, so no address, email address or login ID is stored
in clear. ``take_turn`` spaces attempts out (one per so many seconds) under the same kind of
key, and ``throttle_wait`` lets a page count in the API's own throttle, so that the two share
one limit per client address.

A limit per client address counts under ``client_ip.rate_limit_key`` of the address (its /64
network for IPv6), never the address itself: callers of ``hit`` and ``over_limit`` pass that
key, and ``ScopedThrottle`` uses it.
"""

import hashlib
import hmac
import math
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle

from . import clock
from .client_ip import client_rate_limit_key


def _key(scope: str, value: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{scope}|{value}".encode(), hashlib.sha256).hexdigest()
    return f"ratelimit:{scope}:{digest[:32]}"


def hit(
    scope: str, value: str, *, limit: int, window_seconds: int = 3600, count_refused: bool = True
) -> int:
    """Count one more attempt for ``value`` in ``scope``. 0 when at most ``limit`` attempts fall
    within the last ``window_seconds`` (a rolling window, not a clock hour); otherwise the
    seconds until the oldest of them leaves the window (for a ``Retry-After``).

    With ``count_refused`` false, an attempt over the limit is not counted: the limit is then on
    what went ahead, and the wait returned is exact (retrying early does not lengthen it)."""
    key = _key(scope, value)
    now = clock.now().timestamp()
    recent = [t for t in cache.get(key, []) if now - t < window_seconds]
    if not count_refused and len(recent) >= limit:
        freed_by = recent[-limit] if limit > 0 else now  # the attempt whose leaving frees a place
        return max(1, math.ceil(window_seconds - (now - freed_by)))
    recent = [*recent, now][-(limit + 1) :]
    cache.set(key, recent, timeout=window_seconds)
    if len(recent) <= limit:
        return 0
    return max(1, math.ceil(window_seconds - (now - recent[0])))


def wait_for(scope: str, value: str, *, limit: int, window_seconds: int = 3600) -> int:
    """The seconds until ``value`` may make an attempt in ``scope`` (0: now), counting nothing;
    for checking several limits before counting in any of them."""
    now = clock.now().timestamp()
    recent = [t for t in cache.get(_key(scope, value), []) if now - t < window_seconds]
    if len(recent) < limit:
        return 0
    freed_by = recent[-limit] if limit > 0 else now
    return max(1, math.ceil(window_seconds - (now - freed_by)))


def over_limit(scope: str, value: str, *, limit: int, window_seconds: int = 3600) -> bool:
    """Count one more attempt; True if more than ``limit`` fall within the window (see ``hit``)."""
    return hit(scope, value, limit=limit, window_seconds=window_seconds) > 0


def recent_count(scope: str, value: str, *, window_seconds: int) -> int:
    """How many attempts ``hit`` counted for ``value`` within the window (at most its
    ``limit`` + 1: no more are kept). Counts nothing itself."""
    now = clock.now().timestamp()
    return sum(1 for t in cache.get(_key(scope, value), []) if now - t < window_seconds)


def take_turn(scope: str, value: str, *, every_seconds: int) -> int:
    """One attempt per ``every_seconds`` for ``value``: 0 when this one may go ahead (and takes
    the turn), otherwise the seconds until the next turn. ``cache.add`` is atomic, so two
    processes racing for one turn cannot both get it (with a shared cache)."""
    key = _key(scope, value)
    now = clock.now().timestamp()
    if cache.add(key, now, timeout=every_seconds):
        return 0
    taken = cache.get(key)
    if taken is None or now - taken >= every_seconds:
        # The turn expired between the two calls, or the clock moved on (tests): take it.
        cache.set(key, now, timeout=every_seconds)
        return 0
    return max(1, math.ceil(every_seconds - (now - taken)))


def throttle_wait(request, scope: str) -> int:
    """Count a page's request against the API's throttle ``scope`` (``REST_FRAMEWORK``'s
    ``DEFAULT_THROTTLE_RATES``), in the same counter as the API's requests from that client:
    0 when it may go ahead, otherwise the seconds to wait."""
    throttle = ScopedThrottle()
    view = SimpleNamespace(throttle_scope=scope)
    if throttle.allow_request(request, view):
        return 0
    return max(1, math.ceil(throttle.wait() or 1))


class ScopedThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, keyed by the address Kirakira trusts (see ``client_ip``) rather
    than by an ``X-Forwarded-For`` header any client can write, and by its /64 network for
    IPv6 (``rate_limit_key``)."""

    def get_ident(self, request):
        return client_rate_limit_key(request._request if hasattr(request, "_request") else request)

    def get_cache_key(self, request, view):
        # DRF's key holds the address in clear; the cache holds only a keyed hash of it.
        key = super().get_cache_key(request, view)
        return None if key is None else _key("throttle", key)
