"""Every API error is JSON of one shape: ``{"message": str, "errors": {field: [str]}}``.

DRF's own errors, Django's ``ValidationError`` raised by services, 404s and permission errors
all pass through here, so a client needs one parser and never sees an HTML page.

Every message is in the request's language. DRF's messages come from its catalogs, and ours take
precedence over them; what DRF words in English whatever the language (a few literals, and the
wait it appends to a throttled request's message) is worded again here.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ErrorOutput(serializers.Serializer):
    """The one error shape, for the schema's error responses."""

    message = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


# DRF's messages that its Japanese catalog lacks or its Korean one words half in English, as DRF
# spells them: named here so that our catalogs carry them (and take precedence over DRF's).
THIRD_PARTY_MESSAGES = (
    gettext_noop("Not a valid string."),
    gettext_noop("Must be a valid UUID."),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("Invalid input."),
    gettext_noop("This field may not be blank."),
    gettext_noop("This dictionary may not be empty."),
    gettext_noop("Ensure this field has at least {min_length} elements."),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
    gettext_noop("Request was throttled."),
)


def _reworded(message: str) -> str:
    """Our wording of a DRF message that DRF never translates (a literal, or a parser's error
    with the English text of the exception behind it)."""
    if message == "No data provided":  # the body was JSON null
        return _("No data was sent: send a JSON object.")
    if message.startswith("Multipart form parse error"):
        return _("The multipart form could not be read.")
    if message.startswith("FileUpload parse error"):
        return _("The uploaded file could not be read.")
    return message


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _flatten(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _flatten(value)]
    return [_reworded(str(detail))]


def retry_message(seconds: int) -> str:
    return ngettext(
        "Please try again in %(seconds)d second.", "Please try again in %(seconds)d seconds.", seconds
    ) % {"seconds": seconds}


def _throttled_message(exc: exceptions.Throttled) -> str:
    """DRF appends the wait to a throttled request's message in English whatever the language
    (it looks up the sentence after filling in the number, so no catalog ever matches): that
    sentence is taken off and said again in the request's language."""
    message = str(exc.detail)
    if exc.wait is not None:
        drf_wait = ngettext(
            exceptions.Throttled.extra_detail_singular.format(wait=exc.wait),
            exceptions.Throttled.extra_detail_plural.format(wait=exc.wait),
            exc.wait,
        )
        message = f"{message.removesuffix(f' {drf_wait}')} {retry_message(exc.wait)}"
    return message


def _field_errors(detail) -> dict[str, list[str]]:
    if not isinstance(detail, dict):
        return {}
    return {
        ("non_field_errors" if key == "__all__" else key): _flatten(value) for key, value in detail.items()
    }


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's handler500 answers (as JSON under /api/)

    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        if not errors:
            errors = {"non_field_errors": _flatten(exc.detail)}
        message = _("The request has errors. Please check the fields.")
    elif isinstance(exc, exceptions.Throttled):
        errors = {}
        message = _throttled_message(exc)
    else:
        errors = {}
        message = _flatten(exc.detail)[0] if getattr(exc, "detail", None) else str(exc)
    response.data = {"message": message, "errors": errors}
    return response


def json_error(status_code: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message, "errors": {}}, status=status_code)


def not_found(request, exception=None):
    return json_error(status.HTTP_404_NOT_FOUND, _("Not found."))


def server_error(request):
    return json_error(status.HTTP_500_INTERNAL_SERVER_ERROR, _("An internal error occurred."))


def bad_request(request, exception=None):
    return json_error(status.HTTP_400_BAD_REQUEST, _("Bad request."))


def permission_denied(request, exception=None):
    return json_error(status.HTTP_403_FORBIDDEN, _("You do not have permission to do this."))


def csrf_failure(request, reason=""):
    return json_error(status.HTTP_403_FORBIDDEN, _("CSRF verification failed."))


__all__ = ["ErrorOutput", "exception_handler", "Response"]
