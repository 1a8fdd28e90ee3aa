"""Role requests: a change of a staff account's roles that waits for the privacy officer
(kirakira/accounts/staff.py), and the permission to decide them."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import kirakira.common.clock


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_sessions_and_tokens"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoleRequest",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "requested_at",
                    models.DateTimeField(
                        db_index=True, default=kirakira.common.clock.now, verbose_name="requested at"
                    ),
                ),
                ("roles_added", models.JSONField(blank=True, default=list, verbose_name="roles to add")),
                ("roles_removed", models.JSONField(blank=True, default=list, verbose_name="roles to remove")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "waiting for the privacy officer"),
                            ("approved", "approved"),
                            ("refused", "refused"),
                        ],
                        default="pending",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="decided at")),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="account",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decided by",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="requested by",
                    ),
                ),
            ],
            options={
                "verbose_name": "role request",
                "verbose_name_plural": "role requests",
                "ordering": ["-requested_at"],
                "default_permissions": (),
                "permissions": [("decide_rolerequest", "Can approve or refuse role requests")],
                "indexes": [models.Index(fields=["status", "requested_at"], name="accounts_rolereq_status_idx")],
            },
        ),
    ]
