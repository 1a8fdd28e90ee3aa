"""The four platforms the studio starts with, and who may manage the catalog."""

from django.db import migrations

from kirakira.common.migration_helpers import grant_role_permissions, revoke_role_permissions

PLATFORMS = [
    # code, name, pattern, rule (ja, en, ko)
    (
        "instagram",
        "Instagram",
        r"(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9._]{1,30}",
        "英数字・ピリオド・アンダースコアで30文字以内（ピリオドは先頭・末尾・連続不可）",
        "Up to 30 letters, digits, periods and underscores (no period at the start or end, no two in a row)",
        "영문, 숫자, 마침표, 밑줄 30자 이내(마침표는 처음·끝·연속 불가)",
    ),
    (
        "x",
        "X",
        r"[A-Za-z0-9_]{1,15}",
        "英数字・アンダースコアで15文字以内",
        "Up to 15 letters, digits and underscores",
        "영문, 숫자, 밑줄 15자 이내",
    ),
    (
        "tiktok",
        "TikTok",
        r"(?!.*\.$)[A-Za-z0-9._]{2,24}",
        "英数字・ピリオド・アンダースコアで2〜24文字（末尾にピリオド不可）",
        "2 to 24 letters, digits, periods and underscores (not ending with a period)",
        "영문, 숫자, 마침표, 밑줄 2~24자(마침표로 끝날 수 없음)",
    ),
    (
        "youtube",
        "YouTube",
        r"[A-Za-z0-9._-]{3,30}",
        "ハンドル名：英数字・ピリオド・ハイフン・アンダースコアで3〜30文字",
        "Handle: 3 to 30 letters, digits, periods, hyphens and underscores",
        "핸들: 영문, 숫자, 마침표, 하이픈, 밑줄 3~30자",
    ),
]

GRANTS = {
    "administrator": [
        "orders.view_service", "orders.add_service", "orders.change_service",
        "orders.view_snsplatform", "orders.add_snsplatform", "orders.change_snsplatform",
    ],
    "customer_service": ["orders.view_service", "orders.view_snsplatform"],
    "accounting": ["orders.view_service"],
}


def forwards(apps, schema_editor):
    SnsPlatform = apps.get_model("orders", "SnsPlatform")
    for order, (code, name, pattern, rule_ja, rule_en, rule_ko) in enumerate(PLATFORMS):
        SnsPlatform.objects.update_or_create(
            code=code,
            defaults={
                "name": name, "account_id_pattern": pattern, "account_id_rule_ja": rule_ja,
                "account_id_rule_en": rule_en, "account_id_rule_ko": rule_ko, "sort_order": order,
            },
        )
    grant_role_permissions(apps, GRANTS)


def backwards(apps, schema_editor):
    revoke_role_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("accounts", "0002_staff_roles"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
