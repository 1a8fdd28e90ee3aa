"""The privacy officer publishes policy versions; privacy staff and administrators may read them."""

from django.db import migrations

from kirakira.common.migration_helpers import grant_role_permissions, revoke_role_permissions

GRANTS = {
    "privacy_officer": ["privacy.publish_policyversion", "privacy.view_policyversion"],
    "privacy_staff": ["privacy.view_policyversion"],
    "administrator": ["privacy.view_policyversion"],
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0002_policy_versions"),
        ("accounts", "0002_staff_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
