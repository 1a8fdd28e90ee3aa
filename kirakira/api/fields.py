"""Serializer fields that take JSON types as they are: DRF's own coerce (a number becomes
text, ``"5"`` or ``5.0`` becomes an integer), which hides client bugs."""

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """Text only: DRF's CharField would quietly turn a number into a string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: not a string of digits, a float or a boolean."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false`` only: DRF's BooleanField also takes ``"yes"``, ``1`` or ``"on"``,
    and an agreement is not to be read into any of those."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data
