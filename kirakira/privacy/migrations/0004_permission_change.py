import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import kirakira.common.clock


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0003_policy_publisher_role"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PermissionChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "occurred_at",
                    models.DateTimeField(
                        db_index=True, default=kirakira.common.clock.now, editable=False, verbose_name="when"
                    ),
                ),
                (
                    "what",
                    models.CharField(
                        choices=[
                            ("role", "role"),
                            ("is_staff", "staff status"),
                            ("is_active", "active"),
                            ("is_superuser", "superuser status"),
                        ],
                        editable=False,
                        max_length=16,
                        verbose_name="what",
                    ),
                ),
                ("role", models.CharField(blank=True, editable=False, max_length=150, verbose_name="role")),
                ("old_value", models.BooleanField(editable=False, verbose_name="before")),
                ("new_value", models.BooleanField(editable=False, verbose_name="after")),
                (
                    "request_id",
                    models.CharField(blank=True, editable=False, max_length=32, verbose_name="request ID"),
                ),
                (
                    "ip_address",
                    models.GenericIPAddressField(blank=True, editable=False, null=True, verbose_name="IP address"),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="changed by",
                    ),
                ),
                (
                    "subject",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="account",
                    ),
                ),
            ],
            options={
                "verbose_name": "permission change",
                "verbose_name_plural": "permission changes",
                "ordering": ["-occurred_at", "-id"],
                "default_permissions": ("view",),
                "indexes": [models.Index(fields=["subject", "occurred_at"], name="privacy_permchange_subject_idx")],
            },
        ),
    ]
