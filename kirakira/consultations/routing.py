"""Which staff roles handle which consultations (policy C3, C10 least privilege).

Questions and proposals go to customer service; complaints and disputes to customer service,
with the privacy officer able to see them; personal-information matters to the privacy officer
and privacy staff only. No other role sees a consultation at all.
"""

from kirakira.common.roles import Role, roles_of

from .models import Category

ROUTES: dict[str, frozenset[str]] = {
    Category.QUESTION: frozenset({Role.CUSTOMER_SERVICE}),
    Category.PROPOSAL: frozenset({Role.CUSTOMER_SERVICE}),
    Category.COMPLAINT: frozenset({Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER}),
    Category.PERSONAL_INFORMATION: frozenset({Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF}),
}
# What the privacy officer's desk lists.
OFFICER_DESK_CATEGORIES = (Category.PERSONAL_INFORMATION, Category.COMPLAINT)


def may_use_desk(user) -> bool:
    """The officer's desk is the privacy roles' (each still sees only what is routed to it)."""
    return bool(roles_of(user) & {Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF})


def categories_for(user) -> list[str]:
    """The categories of consultation this staff user may see, in the order of ``Category``."""
    roles = roles_of(user)
    return [category for category in Category.values if ROUTES[category] & roles]


def may_see(user, consultation) -> bool:
    return consultation.category in categories_for(user)
