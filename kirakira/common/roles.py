"""Staff roles, by name. Every app (the privacy core included) refers to roles through this
enum; the groups themselves are created by the accounts app's migrations."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Role(TextChoices):
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    ACCOUNTING = "accounting", _("Accounting")
    PRIVACY_OFFICER = "privacy_officer", _("Privacy officer")
    PRIVACY_STAFF = "privacy_staff", _("Privacy staff")
    ADMINISTRATOR = "administrator", _("Administrator")


ALL_STAFF_ROLES = frozenset(Role)


def roles_of(user) -> set[str]:
    """The staff roles of a user (every role for a superuser), cached on the user object."""
    if not user.is_authenticated or not user.is_staff:
        return set()
    if user.is_superuser:
        return set(Role.values)
    cached = getattr(user, "_kirakira_roles", None)
    if cached is None:
        cached = user._kirakira_roles = set(
            user.groups.filter(name__in=Role.values).values_list("name", flat=True)
        )
    return cached
