"""The policy page is generated from the catalog and the settings, in three languages."""

import re

import pytest
from django.test import override_settings

from kirakira.privacy.catalog import Context, Item, Purpose, Retention, catalog, personal
from kirakira.privacy.catalog.declarations import ModelDeclaration


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("prefix", "title", "officer_heading"),
    [
        ("", "プライバシーポリシー", "個人情報管理責任者"),
        ("/en", "Privacy policy", "Privacy officer"),
        ("/ko", "개인정보 처리방침", "개인정보 보호책임자"),
    ],
)
def test_policy_page_renders_in_each_language(client, prefix, title, officer_heading):
    response = client.get(f"{prefix}/privacy/policy/")
    assert response.status_code == 200
    html = response.content.decode()
    assert title in html
    assert officer_heading in html


@pytest.mark.django_db
def test_policy_page_lists_the_catalog_items_purposes_and_periods(client):
    html = client.get("/en/privacy/policy/").content.decode()
    for text in [
        "Member registration and management",
        "Email address",
        "Connection IP address",
        "Member identity verification",
        "Log records",
        "6 months",
        "Protection of Communications Secrets Act",
        "We do not provide personal information to third parties",
    ]:
        assert text in html, text


@pytest.mark.django_db
@override_settings(
    STUDIO_NAME="Test Studio KK",
    STUDIO_ADDRESS="テスト通り1-2-3",
    STUDIO_ADDRESS_EN="1-2-3 Test Street",
    STUDIO_REPRESENTATIVE="代表 太郎",
    STUDIO_REPRESENTATIVE_EN="Rep Resentative",
    PRIVACY_OFFICER_NAME="担当 花子",
    PRIVACY_OFFICER_NAME_EN="Officer Name",
    PRIVACY_OFFICER_DEPARTMENT="個人情報部",
    PRIVACY_OFFICER_DEPARTMENT_EN="Privacy Dept",
    PRIVACY_OFFICER_EMAIL="dpo@test.example",
    PRIVACY_OFFICER_PHONE="+81-3-1111-2222",
    PRIVACY_OPERATOR_STATEMENTS=["antivirus"],
)
def test_policy_page_shows_the_company_and_officer_from_settings(client):
    html = client.get("/en/privacy/policy/").content.decode()
    for value in [
        "Test Studio KK",
        "1-2-3 Test Street",
        "Rep Resentative",
        "Officer Name",
        "Privacy Dept",
        "dpo@test.example",
        "+81-3-1111-2222",
    ]:
        assert value in html
    assert "run antivirus programs" in html
    assert "Intrusion prevention systems" not in html  # not configured, so not claimed


@pytest.mark.django_db
def test_changing_a_declaration_changes_the_page(client):
    def usage_log_row(html: str) -> str:
        # The retention table's row of the usage log: the items kept under its rule.
        return re.search(r'<tr id="retention-usage_log_6m">.*?</tr>', html, re.S).group(0)

    before = usage_log_row(client.get("/en/privacy/policy/").content.decode())
    assert "Consultation and proposal contents" not in before
    declaration: ModelDeclaration = catalog.for_model("usage.UsageRecord")
    saved = declaration.record_items
    try:
        declaration.record_items = (*saved, Item.CONSULTATION_TEXT)
        after = usage_log_row(client.get("/en/privacy/policy/").content.decode())
    finally:
        declaration.record_items = saved
    assert "Consultation and proposal contents" in after


@pytest.mark.django_db
def test_a_new_purpose_and_rule_appear_on_the_page(client):
    declaration = catalog.for_model("accounts.User")
    entry = personal(
        "language", Item.ORDER_INFORMATION, purposes=[Purpose.REFUND], retention=Retention.COMPLAINT_RECORD_5Y
    )
    reason = declaration.not_personal.pop("language")
    catalog.register("accounts.User", context=Context.MEMBERSHIP, fields=[entry])
    try:
        html = client.get("/en/privacy/policy/").content.decode()
    finally:
        declaration.fields.pop("language")
        declaration.not_personal["language"] = reason
    assert "Refund of transaction amounts on cancellation of purchase" in html
    assert "Records of consumer complaints or dispute handling" in html


@pytest.mark.django_db
def test_encrypted_items_are_named_in_the_technical_measures(client):
    html = client.get("/en/privacy/policy/").content.decode()
    # The test app declares an encrypted phone number, so the measures name it.
    assert "AES-256-GCM" in html
    assert "Phone number" in html


@pytest.mark.django_db
def test_cookie_table_lists_the_registered_cookies(client):
    html = client.get("/en/privacy/policy/").content.decode()
    for name in ("sessionid", "csrftoken", "messages", "kirakira_consent", "kirakira_prefs"):
        assert f"<code>{name}</code>" in html
    assert "<code>django_language</code>" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("prefix", "address", "department"),
    [
        ("", "東京都渋谷区", "個人情報保護室"),
        ("/en", "Jinnan, Shibuya-ku, Tokyo", "Personal Information Protection Office"),
        ("/ko", "도쿄도 시부야구", "개인정보보호실"),
    ],
)
def test_the_address_and_the_officers_department_are_in_the_pages_language(
    client, prefix, address, department
):
    policy = client.get(f"{prefix}/privacy/policy/").content.decode()
    assert address in policy
    assert department in policy
    assert department in client.get(f"{prefix}/consultations/new/").content.decode()


@pytest.mark.django_db
def test_without_a_translation_the_japanese_address_is_shown(client, settings):
    settings.STUDIO_ADDRESS_EN = ""
    assert "東京都渋谷区神南1-2-3" in client.get("/en/privacy/policy/").content.decode()
