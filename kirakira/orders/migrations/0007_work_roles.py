"""Customer service works on orders; accounting records payments (README: role matrix)."""

from django.db import migrations

from kirakira.common.migration_helpers import grant_role_permissions, revoke_role_permissions

GRANTS = {
    "customer_service": ["orders.view_order", "orders.work_on_order", "orders.view_payment"],
    "accounting": ["orders.view_order", "orders.view_payment", "orders.record_payment"],
    "privacy_officer": ["orders.view_order", "orders.view_payment"],
    "privacy_staff": ["orders.view_order", "orders.view_payment"],
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("orders", "0006_order_permissions"), ("accounts", "0002_staff_roles")]

    operations = [migrations.RunPython(grant, revoke)]
