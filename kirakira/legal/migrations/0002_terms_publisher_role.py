"""Administrators publish the terms of service; the privacy roles may read their versions."""

from django.db import migrations

from kirakira.common.migration_helpers import grant_role_permissions, revoke_role_permissions

GRANTS = {
    "administrator": ["legal.publish_termsversion", "legal.view_termsversion"],
    "privacy_officer": ["legal.view_termsversion"],
    "privacy_staff": ["legal.view_termsversion"],
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("legal", "0001_terms_of_service"),
        ("accounts", "0002_staff_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
