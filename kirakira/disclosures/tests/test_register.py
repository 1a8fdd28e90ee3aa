"""The register of provisions required by law (policy C5, promises P26 and P38): the only way
personal data leaves. Privacy staff record an authority's request; the file handed over is made
from the members and items chosen, and exactly what it held is recorded; the members see it on
My data, in the API and in their download unless a law forbids telling them until a date; a
later correction of a provided value produces the notice to the recipient; nothing in the
register is changed or deleted."""

import hashlib
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.disclosures import selectors, services
from kirakira.disclosures.models import (
    CorrectionNotice,
    CorrectionNoticeSent,
    DisclosedData,
    Disclosure,
    PermanentRecordError,
)
from kirakira.orders.testing import make_service, place_order
from kirakira.privacy.models import StaffAccessRecord
from kirakira.privacy.policy import checks

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)
BASIS = "刑事訴訟法第197条第2項（捜査関係事項照会）"


@pytest.fixture
def privacy_staff():
    return StaffFactory(roles=[Role.PRIVACY_STAFF])


@pytest.fixture
def members():
    service = make_service(photo_link_count=0)
    hanako = MemberFactory(login_id="hanako01")
    taro = MemberFactory(login_id="taro02")
    place_order(member=hanako, service=service, phone="090-1111-2222")
    place_order(member=taro, service=service, phone="080-3333-4444")
    return hanako, taro


def record(actor, **overrides):
    data = {
        "actor": actor,
        "recipient": "渋谷警察署",
        "legal_basis": BASIS,
        "request_reference": "渋警第123号",
        "requested_on": date(2026, 11, 28),
        "login_ids": ["taro02", "hanako01"],
        "items": ["phone"],
    }
    data.update(overrides)
    with clock.frozen_at(NOON):
        return services.disclosure_record(**data)


def test_a_provision_records_exactly_what_the_file_handed_over(privacy_staff, members):
    hanako, taro = members
    disclosure, content = record(privacy_staff)
    handed = json.loads(content)
    assert handed["legal_basis"] == BASIS and handed["recipient"] == "渋谷警察署"
    assert [m["login_id"] for m in handed["members"]] == ["hanako01", "taro02"]
    assert [v["value"] for v in handed["members"][0]["values"]] == ["090-1111-2222"]
    assert {v["item"] for m in handed["members"] for v in m["values"]} == {"phone"}
    assert disclosure.file_digest == hashlib.sha256(content).hexdigest()
    # The register holds each member's values, encrypted under the member's key...
    rows = {row.member: row for row in DisclosedData.objects.filter(disclosure=disclosure)}
    assert rows[taro].values[0]["value"] == "080-3333-4444"
    # ...and makes the same file again.
    assert services.disclosure_file(disclosure) == content


def test_every_error_is_told_at_once_and_nothing_is_recorded(privacy_staff, members):
    with pytest.raises(ValidationError) as excinfo:
        record(
            privacy_staff,
            recipient=" ",
            legal_basis="",
            requested_on=date(2026, 12, 5),
            login_ids=["hanako01", "nobody99"],
            items=[],
            withholding_basis="守秘のため",
        )
    errors = excinfo.value.message_dict
    assert {"recipient", "legal_basis", "requested_on", "login_ids", "items", "withheld_until"} <= set(errors)
    assert "nobody99" in " ".join(errors["login_ids"])
    assert not Disclosure.objects.exists() and not DisclosedData.objects.exists()


def test_only_the_privacy_roles_record_a_provision(members):
    for role in (Role.CUSTOMER_SERVICE, Role.ACCOUNTING, Role.ADMINISTRATOR):
        with pytest.raises(PermissionDenied):
            record(StaffFactory(roles=[role]))
    record(StaffFactory(roles=[Role.PRIVACY_OFFICER]))
    assert Disclosure.objects.count() == 1


def test_nothing_in_the_register_is_changed_or_deleted(privacy_staff, members):
    disclosure, _content = record(privacy_staff)
    with pytest.raises(PermanentRecordError):
        Disclosure.objects.filter(pk=disclosure.pk).update(recipient="x")
    with pytest.raises(PermanentRecordError):
        Disclosure.objects.all().delete()
    with pytest.raises(PermanentRecordError):
        disclosure.delete()
    disclosure.recipient = "別の宛先"
    with pytest.raises(PermanentRecordError):
        disclosure.save()
    with pytest.raises(PermanentRecordError):
        DisclosedData.objects.all().delete()


def test_the_member_sees_it_unless_a_law_forbids_telling_them_until_a_date(privacy_staff, members):
    hanako, _taro = members
    record(privacy_staff, login_ids=["hanako01"])
    record(
        privacy_staff,
        login_ids=["hanako01"],
        request_reference="渋警第124号",
        withheld_until=date(2027, 3, 1),
        withholding_basis="捜査の秘密（刑事訴訟法第197条第5項）",
    )
    from knox.models import AuthToken

    client = Client()
    client.force_login(hanako)
    _token, key = AuthToken.objects.create(user=hanako)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    with clock.frozen_at(NOON):
        page = client.get("/en/privacy/my-data/").content.decode()
        api = Client().get("/api/v1/privacy/my-data", **bearer).json()
    assert "渋警第123号" in page and "渋警第124号" not in page
    assert [d["request_reference"] for d in api["disclosures"]] == ["渋警第123号"]
    assert api["disclosures"][0]["values"][0]["value"] == "090-1111-2222"
    with clock.frozen_at(datetime(2027, 3, 1, 9, 0, tzinfo=TOKYO)):
        later = Client().get("/api/v1/privacy/my-data", **bearer).json()
    assert sorted(d["request_reference"] for d in later["disclosures"]) == ["渋警第123号", "渋警第124号"]


def test_the_provision_is_in_the_members_download(privacy_staff, members, settings, tmp_path):
    from kirakira.privacy.tests.test_rights_export import archive_of, built, data_of

    settings.EXPORT_DIR = tmp_path / "exports"
    hanako, _taro = members
    record(privacy_staff, login_ids=["hanako01"])
    data = data_of(archive_of(built(hanako, at=NOON)))
    (provision,) = data["disclosures"]
    assert provision["legal_basis"] == BASIS
    assert provision["values"][0]["value"] == "090-1111-2222"


def test_a_correction_of_provided_data_makes_the_notice_to_the_recipient(privacy_staff, members):
    from kirakira.orders.models import Order
    from kirakira.privacy.rights import services as rights

    hanako, _taro = members
    order = Order.objects.get(member=hanako)
    disclosure, _content = record(privacy_staff, login_ids=["hanako01"], items=["sns_account_id"])
    from kirakira.privacy.rights.models import Kind
    from kirakira.privacy.tests.test_rights_staff import submit

    with clock.frozen_at(NOON):
        request = submit(
            hanako,
            Kind.CORRECTION,
            target="orders.Order",
            target_id=str(order.pk),
            target_field="sns_account_id",
            wrong_value="kira.kira",
            right_value="hanako.shop",
        )
        rights.request_complete(request.pk, actor=StaffFactory(roles=[Role.PRIVACY_OFFICER]))
    (notice,) = CorrectionNotice.objects.all()
    assert notice.data.disclosure == disclosure
    assert notice.corrected_value == "hanako.shop"
    letter = selectors.correction_letter(notice)
    assert "渋谷警察署" in letter and "hanako.shop" in letter and disclosure.reference in letter

    services.correction_notice_sent(notice=notice, actor=privacy_staff)
    assert CorrectionNoticeSent.objects.filter(notice=notice).exists()
    with pytest.raises(ValidationError):
        services.correction_notice_sent(notice=notice, actor=privacy_staff)


def test_the_back_office_records_one_and_logs_the_download(privacy_staff, members):
    hanako, taro = members
    client = Client()
    client.force_login(privacy_staff)
    url = "/en/backoffice/disclosures/disclosure/record/"
    assert client.get(url).status_code == 200
    assert url in client.get("/en/backoffice/disclosures/disclosure/").content.decode()
    refused = client.post(
        url, {"recipient": "x", "requested_on": "2026/11/28", "login_ids": "hanako01", "items": ["phone"]}
    )
    assert refused.status_code == 400
    with clock.frozen_at(NOON):
        response = client.post(
            url,
            {
                "recipient": "渋谷警察署",
                "legal_basis": BASIS,
                "requested_on": "2026/11/28",
                "login_ids": "hanako01\ntaro02",
                "items": ["phone"],
            },
        )
        disclosure = Disclosure.objects.get()
        assert response.status_code == 302
        downloaded = client.get(f"/en/backoffice/disclosures/disclosure/{disclosure.pk}/file/")
    assert downloaded.status_code == 200
    assert hashlib.sha256(downloaded.content).hexdigest() == disclosure.file_digest
    assert (
        downloaded["Content-Disposition"] == f'attachment; filename="provision-{disclosure.reference}.json"'
    )
    logged = StaffAccessRecord.objects.filter(staff=privacy_staff, action="download").get()
    assert logged.reason.startswith("刑事訴訟法")
    customer_service = Client()
    customer_service.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))
    assert customer_service.get(url).status_code == 403


def test_the_policy_states_the_register_and_its_promises_are_kept(client):
    html = client.get("/en/privacy/policy/").content.decode()
    assert (
        "Each such provision is recorded: who asked, on what legal basis, what was provided and when." in html
    )
    assert "we will promptly notify the third party of the correction" in html
    warnings = {message.id for message in checks.check_promises()}
    assert not {"kirakira.policy.W026", "kirakira.policy.W038"} & warnings
