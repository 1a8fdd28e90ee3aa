"""What a member of staff is shown of a personal value, by the catalog's visibility rules.

A staff user with several roles sees the most any of their roles allows. Members always see
their own data in full; that path does not come through here.
"""

from collections.abc import Iterable

from kirakira.privacy.crypto.fields import Destroyed

from .declarations import catalog
from .vocabulary import Mask

# One mask character everywhere (a name's mask used the full-width ＊ beside the ASCII **** of an
# account number: two looks for one meaning).
MASK_CHARACTER = "*"
HIDDEN = MASK_CHARACTER * 4


def mask_value(value, mask: Mask) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Destroyed):
        return str(value)
    text = value if isinstance(value, str) else str(value)
    if mask == Mask.LAST4:
        return HIDDEN + text[-4:] if len(text) > 4 else HIDDEN
    if mask == Mask.EMAIL:
        local, at, domain = text.partition("@")
        return f"{local[:1]}{HIDDEN}@{domain}" if at else HIDDEN
    if mask == Mask.NAME:
        return text[:1] + MASK_CHARACTER * min(max(len(text) - 1, 1), 4)
    return HIDDEN


def visibility(roles: Iterable[str], model, field_name: str) -> str:
    """``"full"``, ``"masked"`` or ``"none"``: the best any of the roles gets."""
    entry = catalog.field(model, field_name)
    if entry is None:
        return "full"  # not personal data
    levels = {entry.visibility(str(role)) for role in roles}
    for level in ("full", "masked"):
        if level in levels:
            return level
    return "none"


def shown_to(roles: Iterable[str], instance, field_name: str):
    """The value of ``instance.field_name`` as these roles may see it (``None`` if not at all)."""
    roles = list(roles)
    level = visibility(roles, type(instance), field_name)
    if level == "none":
        return None
    value = getattr(instance, field_name)
    if level == "full":
        return value
    entry = catalog.field(type(instance), field_name)
    return mask_value(value, entry.mask)
