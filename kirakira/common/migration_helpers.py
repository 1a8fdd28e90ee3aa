"""Helpers for data migrations that grant staff roles their permissions.

They take the migration's historical ``apps`` and use only stable Django APIs, so old
migrations keep working as the models change.
"""

from django.contrib.auth.management import create_permissions


def _ensure_permissions(apps) -> None:
    # Permissions are normally created after all migrations have run; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _permissions(apps, codes):
    Permission = apps.get_model("auth", "Permission")
    for code in codes:
        app_label, codename = code.split(".")
        yield Permission.objects.get(content_type__app_label=app_label, codename=codename)


def grant_role_permissions(apps, grants: dict[str, list[str]]) -> None:
    """Give each role (a group, created if missing) the permissions ``app_label.codename``."""
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    for role, codes in grants.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*_permissions(apps, codes))


def revoke_role_permissions(apps, grants: dict[str, list[str]]) -> None:
    Group = apps.get_model("auth", "Group")
    for role, codes in grants.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, codes))
