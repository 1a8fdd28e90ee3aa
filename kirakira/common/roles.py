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
