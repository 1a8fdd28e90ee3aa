"""The privacy officer and privacy staff keep the breach register."""

from django.db import migrations

from kirakira.common.migration_helpers import grant_role_permissions, revoke_role_permissions

CODES = ["breaches.view_breachincident", "breaches.record_breachincident"]
GRANTS = {"privacy_officer": CODES, "privacy_staff": CODES}


def grant(apps, schema_editor):
    grant_role_permissions(apps, GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("breaches", "0001_register"),
        ("accounts", "0002_staff_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
