"""Accounting pays refunds; customer service sees cancellations; the privacy roles see both."""

from django.db import migrations

from kirakira.common.migration_helpers import grant_role_permissions, revoke_role_permissions

GRANTS = {
    "customer_service": ["orders.view_cancellation"],
    "accounting": ["orders.view_refund", "orders.view_cancellation"],
    "privacy_officer": ["orders.view_refund", "orders.view_cancellation"],
    "privacy_staff": ["orders.view_refund", "orders.view_cancellation"],
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_cancellations_and_refunds"), ("accounts", "0002_staff_roles")]

    operations = [migrations.RunPython(grant, revoke)]
