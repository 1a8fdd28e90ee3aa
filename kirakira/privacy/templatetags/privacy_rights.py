"""Template helpers of members' rights (policy C7)."""

from django import template

from kirakira.privacy.rights import freeze

register = template.Library()


@register.filter
def under_correction(record) -> frozenset[str]:
    """The names of the record's fields under correction: ``{% with frozen=order|under_correction %}``.
    For marking the member's own values, which they still see; for anyone else use ``freeze.shown``."""
    return freeze.frozen_fields(record) if record is not None else frozenset()
