"""Under ``/api/`` every answer is JSON, and a body over ``API_MAX_BODY_BYTES`` is refused
before it is read.

The API's views answer their own errors in the one error shape (``kirakira.api.errors``), but
some errors are drawn before or around a view: Django's technical 404 and 500 pages under
``DEBUG``, a 405 from a plain Django view, a CSRF failure, a 400 for a suspicious request.
This middleware sits outside everything that can draw such a page (only ``SecurityMiddleware``
and the CSP middleware, which never draw one, are before it, so their headers still reach the
answers given here) and turns any non-JSON error into the one shape, with the same status and
headers, in the request's language.

A multipart upload to a view that takes files (one with an ``upload_max_bytes()``, such as
``kirakira.consultations.api.TakesFiles``) gets that view's limit instead, and must declare its
length: an undeclared one would have to be held in memory before the caller is even known.
"""

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from kirakira.common.middleware import LANGUAGE_QUERY_PARAMETER, supported_language

from .errors import json_error
from .parsers import max_body_bytes, too_large_message

API_PREFIX = "/api/"
# Not carried over to the JSON that replaces an error page: the ETag was that page's.
_NOT_COPIED = {"content-type", "content-length", "etag"}


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _request_language(request) -> str:
    """The language of an answer given before ``LanguageMiddleware`` has run: ``?lang=``, then
    ``Accept-Language`` (the API's documented source), then the default."""
    chosen = supported_language(request.GET.get(LANGUAGE_QUERY_PARAMETER))
    if chosen:
        return chosen
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        language = supported_language(code)
        if language:
            return language
    return settings.LANGUAGE_CODE


def _is_json(response) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _message(status: int, request) -> str:
    messages = {
        400: _("Bad request."),
        401: _("Authentication is required."),
        403: _("You do not have permission to do this."),
        404: _("Not found."),
        405: _("The method %(method)s is not allowed here.") % {"method": request.method},
        # From ConditionalGetMiddleware, for an If-Match or If-Unmodified-Since that does not hold.
        412: _("The request's precondition (If-Match or If-Unmodified-Since) does not hold."),
        413: too_large_message(),
        429: _("Too many requests. Please try again later."),
        500: _("An internal error occurred."),
    }
    if status in messages:
        return messages[status]
    return _("The request could not be completed (HTTP status %(status)s).") % {"status": status}


def _declared_length(request) -> int | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length > 0 else None


def _upload_limit(request) -> int | None:
    """The body limit of a multipart upload to a view that takes files, or None."""
    if request.content_type != "multipart/form-data":
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    upload_max_bytes = getattr(getattr(match.func, "view_class", None), "upload_max_bytes", None)
    return upload_max_bytes() if upload_max_bytes is not None else None


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api(request):
            return self.get_response(request)
        with translation.override(_request_language(request)):
            response = self._refuse_oversized(request) or self.get_response(request)
            # The language now active is the one the inner middleware chose for this request.
            return self._as_json(request, response)

    def _refuse_oversized(self, request):
        upload_limit = _upload_limit(request)
        limit = upload_limit or max_body_bytes()
        declared = _declared_length(request)
        if declared is not None:
            if declared > limit:
                return json_error(413, too_large_message(limit))
            return None
        if upload_limit is not None and not request.META.get("CONTENT_LENGTH"):
            return json_error(411, _("A file upload must state its size: send a Content-Length header."))
        # A body of undeclared length (chunked, or HTTP/2 without Content-Length): read at most
        # one byte over the limit. Django and DRF would otherwise take such a body as empty;
        # within the limit it is handed on as a body of known length.
        body = request.read(limit + 1)
        if len(body) > limit:
            return json_error(413, too_large_message(limit))
        request._body = body  # what HttpRequest.body caches; the stream is spent
        if body:
            request.META["CONTENT_LENGTH"] = str(len(body))
        return None

    def _as_json(self, request, response):
        if response.status_code < 400 or _is_json(response):
            return response
        replacement = json_error(response.status_code, _message(response.status_code, request))
        for header, value in response.items():
            if header.lower() not in _NOT_COPIED:
                replacement[header] = value
        replacement.cookies = response.cookies
        return replacement
