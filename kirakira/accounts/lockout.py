"""Hooks that make django-axes count failures per normalised login ID and answer in the
page's language (or as JSON for the API) once a login ID and address pair is locked, or once
``throttles.LoginIdSlowdownBackend`` has turned an attempt away."""

from axes.helpers import get_cool_off
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .normalization import normalize_login_id
from .throttles import slowdown_message

LOCKOUT_STATUS = 429


def lockout_username(request, credentials):
    raw = (credentials or {}).get("username")
    if raw is None and request is not None and hasattr(request, "POST"):
        raw = request.POST.get("username")
    return normalize_login_id(raw or "")


def cooloff_seconds(request=None) -> int:
    """How long a locked login ID and address pair waits, read as django-axes reads
    ``AXES_COOLOFF_TIME`` (a timedelta, hours as a number, or a callable or its dotted path)."""
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off is not None else 0


def lockout_message(request=None) -> str:
    minutes = max(1, cooloff_seconds(request) // 60)
    return ngettext(
        "Too many failed login attempts. For your security, logging in with this login ID "
        "from your connection is blocked for %(minutes)d minute.",
        "Too many failed login attempts. For your security, logging in with this login ID "
        "from your connection is blocked for %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _slowed_down_response(request, original_response, wait: int):
    message = slowdown_message(wait)
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"message": message, "errors": {}}, status=LOCKOUT_STATUS)
    elif original_response is not None and getattr(request, "login_slowdown_in_form", False):
        # The login page already shows the message above its form, with the login ID kept.
        response = original_response
        response.status_code = LOCKOUT_STATUS
    else:
        response = render(
            request,
            "accounts/locked_out.html",
            {"title": _("Please wait"), "message": message},
            status=LOCKOUT_STATUS,
        )
    response["Retry-After"] = str(wait)
    return response


def lockout_response(request, original_response=None, credentials=None, *args, **kwargs):
    """``AXES_LOCKOUT_CALLABLE`` (called with the response the view drew) and the token API's
    answer to a refused attempt."""
    wait = getattr(request, "login_turned_away", 0)
    if wait:
        return _slowed_down_response(request, original_response, wait)
    message = lockout_message(request)
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"message": message, "errors": {}}, status=LOCKOUT_STATUS)
    else:
        response = render(request, "accounts/locked_out.html", {"message": message}, status=LOCKOUT_STATUS)
    response["Retry-After"] = str(cooloff_seconds(request))
    return response
