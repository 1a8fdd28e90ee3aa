"""Hooks that make django-axes count failures per normalised login ID and answer in the
page's language (or as JSON for the API) once a login ID and address pair is locked."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .normalization import normalize_login_id

LOCKOUT_STATUS = 429


def lockout_username(request, credentials):
    raw = (credentials or {}).get("username")
    if raw is None and request is not None and hasattr(request, "POST"):
        raw = request.POST.get("username")
    return normalize_login_id(raw or "")


def lockout_message() -> str:
    return _(
        "Too many failed login attempts. For your security, logging in with this login ID "
        "from your connection is blocked for 15 minutes."
    )


def lockout_response(request, credentials=None, *args, **kwargs):
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"message": lockout_message(), "errors": {}}, status=LOCKOUT_STATUS)
    else:
        response = render(
            request, "accounts/locked_out.html", {"message": lockout_message()}, status=LOCKOUT_STATUS
        )
    response["Retry-After"] = str(15 * 60)
    return response
