from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosuresConfig(AppConfig):
    name = "kirakira.disclosures"
    label = "disclosures"
    verbose_name = _("Provision required by law")
