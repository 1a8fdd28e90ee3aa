"""Whole pages that are the same for every visitor, served from the shared cache.

The home page, the privacy policy and its versions and changes are drawn alike for every visitor
who is not logged in, per language and consent state; drawing them costs queries and template
rendering on every hit, while a cached copy costs a cache read at most (a copy this process has
already read or stored is kept in its memory under the same key). Django's own
``cache_page`` does not fit: it keys on the URL and the ``Vary`` headers (here ``Cookie``, which
differs for everyone) and stores cookies with the page.

What keeps one visitor's page from another:

- only a visitor's GET or HEAD without a query string is served or stored, never a logged-in
  user's, and never when a session or a one-time message cookie is present (a message, or a
  form that uses the session, makes the page personal);
- a page is stored only if drawing it set no cookie, touched no CSRF token (the token would be
  served to everyone), used no message and changed no session, answered 200 and asked for no
  private caching;
- the key holds the path, the language and every part of the consent state a page shows (chosen,
  accepted, the consent digest the choice was made for, the popups dismissed); the visitor's
  consent record ID, shown in the cookie settings, is put in per answer;
- only the body and its content type are stored, never a header of the answer: the middleware
  around the view adds each visitor's own headers and cookies as for any page.

Stale copies: the key also holds a generation that a published policy version, a notice, a
service or a platform bumps when it changes (and again when the change commits), a fingerprint of
the code and settings of the running process, and the current minute, so that what changes by
time alone (a policy version or a notice taking effect) shows within the minute. A copy lives
``PAGE_CACHE_SECONDS`` at most; 0 turns the cache off.
"""

import hashlib
import time
from functools import cache, wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache as shared_cache
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import get_max_age
from django.utils.html import escape
from django.utils.translation import get_language

from . import clock

GENERATION_KEY = "kirakira:page-cache:generation"
# Stands in the stored body for the visitor's consent record ID; no page text looks like it.
CONSENT_ID_MARK = "kk-page-cache-consent-id-6f1d2b"
MESSAGES_COOKIE = "messages"


@cache
def code_fingerprint() -> str:
    """Changes with any template, translation, module or setting of this deployment."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for pattern in ("kirakira/**/*.py", "kirakira/**/*.html", "locale/**/*.mo"):
        for path in sorted(root.glob(pattern)):
            stat = path.stat()
            digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    for name in sorted(dir(settings)):
        if name.isupper():
            value = repr(getattr(settings, name))
            if " at 0x" not in value:  # an object's address differs in each process
                digest.update(f"{name}={value}".encode())
    return digest.hexdigest()[:16]


# The generation as this process last read it, and when: read again after a second, so that one
# request's cache keys cost one read at most, and another process's change shows within a second
# (this process's own change at once: _bump forgets it).
_local_generation: list = [None, 0.0]
GENERATION_REREAD_SECONDS = 1.0


def generation() -> int:
    value, read_at = _local_generation
    now = time.monotonic()
    if value is not None and now - read_at < GENERATION_REREAD_SECONDS:
        return value
    value = shared_cache.get(GENERATION_KEY)
    if value is None:
        shared_cache.add(GENERATION_KEY, 1, timeout=None)
        value = shared_cache.get(GENERATION_KEY, 1)
    _local_generation[:] = [value, now]
    return value


# What this process last read from, or wrote to, the shared cache under a key of this module:
# a key holds the generation and the minute, so a copy here is exactly as fresh as the shared
# one, and a page or a drawing used on every request costs no round trip to the cache server.
# Emptied when this process bumps the generation; bounded, since old keys are never asked again.
_local: dict[str, tuple[float, object]] = {}
LOCAL_ENTRIES = 256


def _cached(key: str):
    entry = _local.get(key)
    if entry is not None:
        if entry[0] > time.monotonic():
            return entry[1]
        del _local[key]
    value = shared_cache.get(key)
    if value is not None:
        _keep(key, value)
    return value


def _store(key: str, value) -> None:
    shared_cache.set(key, value, timeout=settings.PAGE_CACHE_SECONDS)
    _keep(key, value)


def _keep(key: str, value) -> None:
    if len(_local) >= LOCAL_ENTRIES:
        _local.clear()
    _local[key] = (time.monotonic() + settings.PAGE_CACHE_SECONDS, value)


def memo(name: str, compute):
    """``compute()``'s result, shared by every process until the cached pages go stale (the same
    generation and minute): for what every page shows, such as the popups. Small values only."""
    if settings.PAGE_CACHE_SECONDS <= 0:
        return compute()
    key = f"kirakira:memo:{code_fingerprint()}:{generation()}:{clock.now():%Y%m%d%H%M}:{name}"
    value = _cached(key)
    if value is None:
        value = compute()
        _store(key, value)
    return value


def invalidate() -> None:
    """Every cached page goes stale now, and again once the current transaction commits: a page
    drawn in between still shows the old state and would otherwise be kept as new."""
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    _local_generation[:] = [None, 0.0]
    _local.clear()
    try:
        shared_cache.incr(GENERATION_KEY)
    except ValueError:  # not there yet (or evicted): any new value leaves the old keys behind
        shared_cache.set(GENERATION_KEY, 2, timeout=None)


def _servable(request) -> bool:
    if settings.PAGE_CACHE_SECONDS <= 0:
        return False
    if request.method not in ("GET", "HEAD") or request.META.get("QUERY_STRING"):
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES or MESSAGES_COOKIE in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return user is not None and not user.is_authenticated and getattr(request, "consent", None) is not None


def _key(request) -> str:
    state = request.consent
    dismissed = ",".join(sorted(state.dismissed)) if state.accepted else ""
    shape = f"{int(bool(state.chosen))}{int(bool(state.accepted))}:{state.digest or ''}:{dismissed}"
    raw = f"{request.path}|{get_language()}|{shape}|{clock.now():%Y%m%d%H%M}"
    return f"kirakira:page:{code_fingerprint()}:{generation()}:{hashlib.sha256(raw.encode()).hexdigest()}"


def _storable(request, response) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    messages = getattr(request, "_messages", None)
    if messages is not None and getattr(messages, "used", False):
        return False
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False
    cache_control = response.get("Cache-Control", "")
    return "private" not in cache_control and "no-store" not in cache_control and get_max_age(response) != 0


def _body_for_storage(request, body: str) -> str:
    consent_id = request.consent.consent_id
    return body.replace(escape(consent_id), CONSENT_ID_MARK) if consent_id else body


def visitor_page(view):
    """Serve ``view``'s answer to visitors from the shared cache (see the module's docstring)."""

    @wraps(view)
    def cached_view(request, *args, **kwargs):
        if not _servable(request):
            return view(request, *args, **kwargs)
        key = _key(request)
        stored = _cached(key)
        if stored is not None:
            content_type, body = stored
            consent_id = request.consent.consent_id
            body = body.replace(CONSENT_ID_MARK, escape(consent_id) if consent_id else "")
            response = HttpResponse(body, content_type=content_type)
            response["Content-Language"] = get_language()
            return response
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if _storable(request, response):
            body = response.content.decode(response.charset)
            _store(key, (response["Content-Type"], _body_for_storage(request, body)))
        return response

    return cached_view


# What the cached pages show of the database: a change to any of these makes every copy stale.
SHOWN_MODELS = ("privacy.PolicyVersion", "legal.TermsVersion", "consent.Notice", "orders.Service", "orders.SnsPlatform")


def _changed(sender, **kwargs) -> None:
    invalidate()


def connect_signals() -> None:
    from django.apps import apps
    from django.db.models.signals import m2m_changed, post_delete, post_save

    for label in SHOWN_MODELS:
        model = apps.get_model(label)
        post_save.connect(_changed, sender=model, dispatch_uid=f"page_cache.save.{label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"page_cache.delete.{label}")
    through = apps.get_model("orders.Service").platforms.through
    m2m_changed.connect(_changed, sender=through, dispatch_uid="page_cache.platforms")
