from django import forms
from django.core.exceptions import ValidationError


def apply_service_errors(form: forms.Form, exc: ValidationError, renames: dict | None = None) -> None:
    """Put a service's ``ValidationError`` on the form: each field's messages on that field
    (``renames`` maps service names to form field names), the rest above the form."""
    renames = renames or {}
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            target = renames.get(field, field)
            form.add_error(target if target in form.fields else None, messages)
    else:
        form.add_error(None, exc.messages)


class ServiceCheckedChoiceField(forms.ChoiceField):
    """Choices rendered for the page but judged by the service, so that a value outside them
    gets the same message on the page as through the API."""

    def valid_value(self, value):
        return True
