"""Base classes of the API's input serializers."""

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

UNKNOWN_FIELD = _("This field is not accepted here.")


class ApiInput(serializers.Serializer):
    """An input body. DRF's own message for a body that is not an object names the Python type
    it got ("Expected a dictionary, but got list"): a word no client sent, untranslatable."""

    default_error_messages = {"invalid": _("The body must be a JSON object.")}


class StrictInput(ApiInput):
    """Fields not listed here are refused (400, each named in `errors`)."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        refused = {name: [UNKNOWN_FIELD] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if refused and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **refused}) from None
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value


class StrictInputSchema(OpenApiSerializerExtension):
    """Says in the schema what ``StrictInput`` does: ``additionalProperties: false``."""

    target_class = StrictInput
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}
