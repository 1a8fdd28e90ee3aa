from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "kirakira.orders"
    label = "orders"
    verbose_name = _("Services and orders")

    def ready(self):
        from . import receipts  # noqa: F401 - registers the receipts' system check
