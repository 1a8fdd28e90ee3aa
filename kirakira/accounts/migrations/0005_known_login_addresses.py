import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_role_requests"),
    ]

    operations = [
        migrations.CreateModel(
            name="KnownLoginAddress",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("address_hash", models.CharField(max_length=64)),
                ("last_seen_at", models.DateTimeField(db_index=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "known login address",
                "verbose_name_plural": "known login addresses",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "address_hash"), name="accounts_known_login_address_unique"
                    )
                ],
            },
        ),
    ]
