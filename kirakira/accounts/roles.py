"""Staff roles and what each may do.

A role is a Django group; its permissions are granted by data migrations so that every
database carries the same matrix (the README shows it). A role gets only what its work needs:
the policy's least-privilege rule (C10). Later features add their permissions in their own
migrations.
"""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Role(TextChoices):
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    ACCOUNTING = "accounting", _("Accounting")
    PRIVACY_OFFICER = "privacy_officer", _("Privacy officer")
    PRIVACY_STAFF = "privacy_staff", _("Privacy staff")
    ADMINISTRATOR = "administrator", _("Administrator")


def roles_of(user) -> set[str]:
    if not user.is_authenticated or not user.is_staff:
        return set()
    cached = getattr(user, "_kirakira_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._kirakira_roles = cached
    return cached
