from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkerHeartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("worker_id", models.CharField(max_length=64, unique=True, verbose_name="worker")),
                ("seen_at", models.DateTimeField(db_index=True, verbose_name="seen at")),
            ],
            options={
                "verbose_name": "worker heartbeat",
                "verbose_name_plural": "worker heartbeats",
                "default_permissions": (),
            },
        ),
    ]
