from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffGateConfig(AppConfig):
    """The gate before personal data (second factor, security pledge, training) and the idle
    limit of staff sessions. Its own app, inside accounts, so that its tables and permissions
    (``staff_gate.*``) are apart from the accounts app's."""

    name = "kirakira.accounts.gate"
    label = "staff_gate"
    verbose_name = _("Staff gate")
    default_auto_field = "django.db.models.BigAutoField"
