from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BreachesConfig(AppConfig):
    name = "kirakira.breaches"
    label = "breaches"
    verbose_name = _("Personal data incidents")
