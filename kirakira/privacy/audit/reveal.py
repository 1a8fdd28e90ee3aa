"""The one way staff see a masked value in full: ``reveal``, with a reason.

Every reveal goes through here so that the staff access log (a later part of the privacy
core) records it in one place: who, whose data, which field, why. A role may reveal a field
only when the catalog lists it under ``reveal`` for that field; a role that already sees the
field in full needs no reveal.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from kirakira.common.roles import roles_of
from kirakira.common.text import clean_text
from kirakira.privacy.catalog import catalog

REASON_MIN, REASON_MAX = 4, 500


def may_reveal(actor, model, field_name: str) -> bool:
    entry = catalog.field(model, field_name)
    if entry is None:
        return False
    roles = roles_of(actor)
    return any(entry.visibility(role) == "full" or role in entry.reveal for role in roles)


def reveal(*, actor, instance, field_name: str, reason: str):
    """The full value of ``instance.field_name`` for ``actor``, who must say why."""
    if not may_reveal(actor, type(instance), field_name):
        raise PermissionDenied(_("Your role may not see this information in full."))
    reason = (reason or "").strip()
    try:
        reason = clean_text(reason, multiline=True)
    except ValidationError as exc:
        raise ValidationError({"reason": exc.error_list}) from None
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise ValidationError(
            {
                "reason": [
                    _("Say why you need to see it (%(min)d to %(max)d characters).")
                    % {"min": REASON_MIN, "max": REASON_MAX}
                ]
            }
        )
    return getattr(instance, field_name)
