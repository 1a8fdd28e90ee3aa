"""Which staff roles handle which consultations (policy C3, C10 least privilege).

Questions and proposals go to customer service; complaints and disputes to customer service,
with the privacy officer able to see them; personal-information matters to the privacy officer
and privacy staff only. No other role sees a consultation at all.
"""

from kirakira.common.roles import ROLE_DECLARATIONS, roles_of

from .models import Category

# Category -> the roles it is routed to, from each role's declaration (kirakira.common.roles).
ROUTES: dict[str, frozenset[str]] = {
    category: frozenset(d.code for d in ROLE_DECLARATIONS if category in d.consultations)
    for category in Category.values
}
# What the privacy officer's desk lists.
OFFICER_DESK_CATEGORIES = (Category.PERSONAL_INFORMATION, Category.COMPLAINT)
DESK_ROLES = frozenset(d.code for d in ROLE_DECLARATIONS if d.officer_desk)


def may_use_desk(user) -> bool:
    """The officer's desk is the privacy roles' (each still sees only what is routed to it)."""
    return bool(roles_of(user) & DESK_ROLES)


def categories_for(user) -> list[str]:
    """The categories of consultation this staff user may see, in the order of ``Category``."""
    roles = roles_of(user)
    return [category for category in Category.values if ROUTES[category] & roles]


def may_see(user, consultation) -> bool:
    return consultation.category in categories_for(user)
