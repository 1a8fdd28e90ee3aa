from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from .roles import sync_role_groups

    sync_role_groups(strict=False)


class CommonConfig(AppConfig):
    name = "kirakira.common"
    label = "common"

    def ready(self):
        # Once per ``migrate`` (and after a test database is flushed) the staff roles' groups are
        # made to match their declarations in kirakira.common.roles: hung on django.contrib.auth's
        # post_migrate, which is always sent, once, and before any app's data needs the groups.
        from django.apps import apps

        post_migrate.connect(
            _sync_roles, sender=apps.get_app_config("auth"), dispatch_uid="kirakira.common.sync_roles"
        )
        from .page_cache import connect_signals

        connect_signals()
