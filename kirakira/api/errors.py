"""Every API error is JSON of one shape: ``{"message": str, "errors": {field: [str]}}``.

DRF's own errors, Django's ``ValidationError`` raised by services, 404s and permission errors
all pass through here, so a client needs one parser and never sees an HTML page.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ErrorOutput(serializers.Serializer):
    """The one error shape, for the schema's error responses."""

    message = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _flatten(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _flatten(value)]
    return [str(detail)]


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
