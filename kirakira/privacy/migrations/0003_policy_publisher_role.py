"""The privacy officer publishes policy versions; privacy staff and administrators may read them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "privacy_officer": ["privacy.publish_policyversion", "privacy.view_policyversion"],
    "privacy_staff": ["privacy.view_policyversion"],
    "administrator": ["privacy.view_policyversion"],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codes in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codes in GRANTS.items():
        group = Group.objects.filter(name=role).first()
        if group is None:
            continue
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0002_policy_versions"),
        ("accounts", "0002_staff_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
