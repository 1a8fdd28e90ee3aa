"""Customer service, the privacy officer and privacy staff handle consultations; which ones each
role sees is decided by category (kirakira.consultations.routing)."""

from django.db import migrations

from kirakira.common.migration_helpers import grant_role_permissions, revoke_role_permissions

HANDLING = ["consultations.view_consultation", "consultations.reply_consultation"]
GRANTS = {
    "customer_service": HANDLING,
    "privacy_officer": HANDLING,
    "privacy_staff": HANDLING,
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("consultations", "0001_consultations"), ("accounts", "0002_staff_roles")]

    operations = [migrations.RunPython(grant, revoke)]
