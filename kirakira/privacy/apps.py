from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "kirakira.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self):
        from .catalog import admin_checks, checks  # noqa: F401 - registers the catalog's system checks
        from .crypto import checks as crypto_checks  # noqa: F401 - retired master keys left configured
        from .crypto.keyring import keyring
        from .policy import checks as policy_checks  # noqa: F401 - the written policy against the code
        from .retention import checks as retention_checks  # noqa: F401 - every declared item has a disposal

        # A missing or malformed master key stops start-up here, naming the key.
        keyring()
        # Each app's privacy.py declares its personal data, as admin.py registers models.
        from . import signals, third_party  # noqa: F401

        autodiscover_modules("privacy")
        # Once every model's subject is declared: the staff access log watches them.
        from .access_log import signals as access_log_signals

        access_log_signals.connect()
