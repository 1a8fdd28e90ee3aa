from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kirakira.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .session_tracking import record_login

        user_logged_in.connect(record_login, dispatch_uid="kirakira.accounts.record_login")
