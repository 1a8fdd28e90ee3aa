"""Browser sessions in a table that knows their member, and the member-facing details of API
tokens (kirakira/accounts/session_tracking.py).

Sessions move to the new table: those in Django's old table can no longer log anyone in (everyone
logs in again once) and are deleted. Existing API tokens keep working and get their details row.
"""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


def details_for_existing_tokens(apps, schema_editor):
    AuthToken = apps.get_model(settings.KNOX_TOKEN_MODEL)
    MemberToken = apps.get_model("accounts", "MemberToken")
    digests = AuthToken.objects.values_list("digest", flat=True).iterator()
    MemberToken.objects.bulk_create(
        (MemberToken(id=uuid.uuid4(), token_id=digest) for digest in digests), batch_size=500
    )


def delete_old_sessions(apps, schema_editor):
    apps.get_model("sessions", "Session").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_staff_roles'),
        migrations.swappable_dependency(settings.KNOX_TOKEN_MODEL),
        ('knox', '0009_extend_authtoken_field'),
        ('sessions', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='BrowserSession',
            fields=[
                ('session_key', models.CharField(max_length=40, primary_key=True, serialize=False, verbose_name='session key')),
                ('session_data', models.TextField(verbose_name='session data')),
                ('expire_date', models.DateTimeField(db_index=True, verbose_name='expire date')),
                ('public_id', models.UUIDField(blank=True, db_index=True, editable=False, null=True)),
                ('created_at', models.DateTimeField(blank=True, null=True)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('client', models.CharField(blank=True, default='', max_length=60)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'browser session',
                'verbose_name_plural': 'browser sessions',
            },
        ),
        migrations.CreateModel(
            name='MemberToken',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('client', models.CharField(blank=True, default='', max_length=60)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('token', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='member_token', to=settings.KNOX_TOKEN_MODEL)),
            ],
            options={
                'verbose_name': 'API token',
                'verbose_name_plural': 'API tokens',
            },
        ),
        migrations.RunPython(details_for_existing_tokens, migrations.RunPython.noop),
        migrations.RunPython(delete_old_sessions, migrations.RunPython.noop),
    ]
