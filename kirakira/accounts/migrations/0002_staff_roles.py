"""Create the staff roles and grant each the permissions its work needs (README: role matrix)."""

from django.db import migrations

from kirakira.common.migration_helpers import grant_role_permissions

ROLE_PERMISSIONS = {
    "customer_service": ["accounts.view_user"],
    "accounting": ["accounts.view_user"],
    "privacy_officer": ["accounts.view_user", "usage.view_usagerecord", "auth.view_group"],
    "privacy_staff": ["accounts.view_user", "usage.view_usagerecord"],
    "administrator": ["accounts.view_user", "accounts.add_user", "accounts.change_user", "auth.view_group"],
}


def create_roles(apps, schema_editor):
    grant_role_permissions(apps, ROLE_PERMISSIONS)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("usage", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
