"""Error pages in the page's language. ``server_error`` renders without the request context
so that a fault in a context processor cannot turn the error page itself into an error.

Under ``/backoffice/`` an error is drawn as a back-office page (staff stay in the back office,
with its header and a way back), elsewhere as a member page."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language_from_path
from django.utils.translation import gettext as _

from . import request_id

BACK_OFFICE_PREFIX = "/backoffice/"


def in_back_office(request) -> bool:
    path = request.path_info
    language = get_language_from_path(path)
    if language:
        path = path.removeprefix(f"/{language}")
    return path.startswith(BACK_OFFICE_PREFIX)


def _page(request, status, title, message):
    # The request's ID, for the member to quote to support (kirakira/common/request_id.py).
    context = {"title": title, "message": message, "request_id": request_id.current()}
    # The back office's header needs the signed-in user (set by the authentication middleware,
    # which an error raised before it has not passed).
    if in_back_office(request) and hasattr(request, "user"):
        from django.contrib import admin

        return render(
            request, "admin/error_page.html", {**admin.site.each_context(request), **context}, status=status
        )
    return render(request, "common/error.html", context, status=status)


def not_found(request, exception=None):
    return _page(request, 404, _("Page not found"), _("The page you asked for does not exist."))


def bad_request(request, exception=None):
    return _page(request, 400, _("Bad request"), _("The request could not be understood."))


def permission_denied(request, exception=None):
    return _page(request, 403, _("Access denied"), _("You do not have permission to see this page."))


def too_many_requests(request):
    return _page(
        request,
        429,
        _("Too many requests"),
        _("Too many requests came from your network. Please try again later."),
    )


def csrf_failure(request, reason=""):
    if request.path_info.startswith("/api/"):
        from kirakira.api.errors import csrf_failure as api_csrf_failure

        return api_csrf_failure(request, reason)
    return _page(
        request,
        403,
        _("The form has expired"),
        _("For your security the form could not be sent. Please go back, reload the page and try again."),
    )


def server_error(request):
    body = render_to_string("common/500.html", {"request_id": request_id.current()})
    return HttpResponseServerError(body)
