"""Rate limits: DRF's throttle for the API, and a rolling-window counter for pages.

The page counter is hand-written because what it counts is not a request but an outcome (a
consultation stored, a consent recorded), decided after validation; django-ratelimit counts
requests in fixed windows. It keeps, in the cache, the times of the last ``limit`` + 1
attempts under a keyed hash of the value, so no address or email address is stored in clear.
"""

import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle

from . import clock
from .client_ip import client_ip


def over_limit(scope: str, value: str, *, limit: int, window_seconds: int = 3600) -> bool:
    """Count one more attempt for ``value`` in ``scope``; True if more than ``limit`` attempts
    fall within the last ``window_seconds`` (a rolling window, not a clock hour)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{scope}|{value}".encode(), hashlib.sha256).hexdigest()
    key = f"ratelimit:{scope}:{digest[:32]}"
    now = clock.now().timestamp()
    recent = [t for t in cache.get(key, []) if now - t < window_seconds]
    recent = [*recent, now][-(limit + 1) :]
    cache.set(key, recent, timeout=window_seconds)
    return len(recent) > limit


class ScopedThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, keyed by the address Kirakira trusts (see ``client_ip``) rather
    than by an ``X-Forwarded-For`` header any client can write."""

    def get_ident(self, request):
        return client_ip(request._request if hasattr(request, "_request") else request)
