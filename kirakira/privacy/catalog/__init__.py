"""The data catalog: what personal data Kirakira holds, why, for how long, how it is
protected and who on the staff may see it. See ``declarations`` for how apps declare."""

from kirakira.common.roles import ALL_STAFF_ROLES, Role

from .declarations import Catalog, ModelDeclaration, PersonalField, catalog, not_personal, personal
from .vocabulary import Context, Item, Mask, Protection, Purpose, Retention, RetentionRule

__all__ = [
    "ALL_STAFF_ROLES",
    "Catalog",
    "Context",
    "Item",
    "Mask",
    "ModelDeclaration",
    "PersonalField",
    "Protection",
    "Purpose",
    "Retention",
    "RetentionRule",
    "Role",
    "catalog",
    "not_personal",
    "personal",
]
