"""Customer service and administrators publish notices; the privacy roles see the consent records."""

from django.db import migrations

from kirakira.common.migration_helpers import grant_role_permissions, revoke_role_permissions

NOTICE_PERMISSIONS = ["consent.view_notice", "consent.add_notice", "consent.change_notice", "consent.delete_notice"]
GRANTS = {
    "customer_service": NOTICE_PERMISSIONS,
    "administrator": NOTICE_PERMISSIONS,
    "privacy_officer": ["consent.view_consentrecord", "consent.view_notice"],
    "privacy_staff": ["consent.view_consentrecord", "consent.view_notice"],
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial"), ("accounts", "0002_staff_roles")]

    operations = [migrations.RunPython(grant, revoke)]
