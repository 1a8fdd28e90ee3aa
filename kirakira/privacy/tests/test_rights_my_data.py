"""The member's "My data" page and API (policy C7, issue 14 item 1) and the deletion of
particular data (item 5): a fully exercised member sees every catalog entry they have rows of,
with its purposes, rule and disposal date on the controllable clock, and nothing of anyone else;
a deletion deletes what no rule keeps and answers with what is kept, under which rule, until
when. Runs on SQLite and PostgreSQL."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation
from knox.models import AuthToken

from kirakira.accounts import services as account_services
from kirakira.accounts.models import BrowserSession, KnownLoginAddress, MemberToken
from kirakira.api.testing import error_body
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import services as consultation_services
from kirakira.consultations.models import Consultation, Message
from kirakira.consultations.testing import open_for_member, upload
from kirakira.orders import lifecycle
from kirakira.orders.models import IdempotencyKey, Order, OrderEvent, Payment
from kirakira.orders.testing import make_service, place_order, record_payment
from kirakira.privacy.access_log.services import record
from kirakira.privacy.catalog import Protection, catalog
from kirakira.privacy.catalog.vocabulary import Retention
from kirakira.privacy.models import PolicyAcknowledgement
from kirakira.privacy.policy import services as policy_services
from kirakira.privacy.retention.models import LegalHold
from kirakira.privacy.rights import deletion, identity, selectors, services
from kirakira.privacy.rights.models import RightsRequest
from kirakira.usage.models import UsageRecord

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
COMPLETED_AT = T0 + timedelta(days=1)
QUESTION_CLOSED_AT = T0 + timedelta(days=2)
PAGE = "/en/privacy/my-data/"
API = "/api/v1/privacy/my-data"
ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "7654321",
    "account_holder": "ヤマダ ハナコ",
}
# What the other member has, that must never show on this member's page.
TARO_SNS = "taro.only.account"
TARO_SUBJECT = "太郎だけの相談"


@pytest.fixture
def english():
    """Selectors return text in the active language; these tests read it in English."""
    with translation.override("en"):
        yield


@pytest.fixture
def staff():
    return {
        "cs": StaffFactory(roles=[Role.CUSTOMER_SERVICE]),
        "accountant": StaffFactory(roles=[Role.ACCOUNTING]),
        "officer": StaffFactory(roles=[Role.PRIVACY_OFFICER]),
    }


def member_client(member) -> Client:
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
    client.force_login(member)
    return client


def api_client(user) -> Client:
    _instance, token = account_services.member_token_create(user=user, client="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")


def exercise(member, staff) -> dict:
    """Every kind of record a member can have: orders in each state with payments, a
    cancellation and a refund, consultations with messages and an attachment, the usage log,
    logins and tokens, the policy seen, a staff access, an identity code and an open correction."""
    cs, accountant = staff["cs"], staff["accountant"]
    service = make_service()
    with clock.frozen_at(T0):
        policy_services.policy_version_publish(
            effective_on=T0.date(),
            is_correction=True,
            reason={"ja": "誤字の訂正", "en": "A typo"},
            summary={"ja": "誤字の訂正"},
            actor=staff["officer"],
        )
        policy_services.policy_acknowledge(member=member)
        completed = place_order(
            member=member, service=service, sns_account_id="hana.kira", note="急ぎでお願いします"
        )
        record_payment(completed, accountant=accountant)
        lifecycle.order_advance(order_id=completed.pk, step="start", actor=cs)
        open_order = place_order(
            member=member, service=service, sns_account_id="hana.open", phone="080-1111-2222"
        )
        cancelled = place_order(member=member, service=service, sns_account_id="hana.cancel")
        record_payment(cancelled, accountant=accountant)
        lifecycle.order_cancel(
            order_id=cancelled.pk, member=member, reason="気が変わりました", refund_account=ACCOUNT
        )
        question = consultation_services.consultation_open(
            member=member,
            category="question",
            subject="納期について",
            body="いつ仕上がりますか",
            callback_phone="090-3333-4444",
            files=[upload()],
        )
        consultation_services.staff_reply(consultation_id=question.pk, actor=cs, body="3日後です")
        consultation_services.staff_reply(
            consultation_id=question.pk, actor=cs, body="社内メモ：急ぎ案件", internal=True
        )
        complaint = open_for_member(member, category="complaint", subject="仕上がりへの苦情")
        for hour in range(3):
            UsageRecord.objects.create(
                member=member,
                occurred_at=T0 - timedelta(hours=hour),
                ip_address="203.0.113.9",
                method="GET",
                route="orders:list",
                status_code=200,
            )
        record(actor=cs, action="view", model=Order, object_id=completed.pk, subjects=[member.pk])
        account_services.member_token_create(user=member, client="curl")
        KnownLoginAddress.objects.create(user=member, address_hash="f" * 64, last_seen_at=T0)
        IdempotencyKey.objects.create(
            member=member, scope="order", key_digest="a" * 64, request_digest="b" * 64, order=completed
        )
        identity.code_send(member)
        correction = RightsRequest.objects.create(
            member=member,
            kind="correction",
            due_at=T0 + timedelta(days=10),
            target="orders.Order",
            target_id=str(completed.pk),
            target_field="sns_account_id",
            wrong_value="hana.kira",
            right_value="hana.kirakira",
        )
        member.pending_email = "hana.new@example.com"
        member.save(update_fields=["pending_email"])
    with clock.frozen_at(COMPLETED_AT):
        lifecycle.order_advance(order_id=completed.pk, step="complete", actor=cs)
    with clock.frozen_at(QUESTION_CLOSED_AT):
        consultation_services.consultation_close(consultation_id=question.pk, member=member)
    return {
        "completed": completed,
        "open": open_order,
        "cancelled": cancelled,
        "question": question,
        "complaint": complaint,
        "correction": correction,
    }


@pytest.fixture
def hana(staff):
    member = MemberFactory(login_id="hana", email="hana@example.com", name="山田 花子")
    client = member_client(member)  # a browser login: a session, the last login
    data = exercise(member, staff)
    member.refresh_from_db()
    return {"member": member, "client": client, **data}


@pytest.fixture
def taro(staff):
    member = MemberFactory(login_id="taro", email="taro@example.org", name="鈴木 太郎")
    place_order(member=member, sns_account_id=TARO_SNS)
    open_for_member(member, subject=TARO_SUBJECT)
    UsageRecord.objects.create(
        member=member, occurred_at=T0, ip_address="198.51.100.77", method="GET", route="home", status_code=200
    )
    return member


def section(data, label) -> selectors.Section:
    found = [s for s in data.sections() if s.model_label == label]
    assert found, f"{label} is not on the member's data"
    return found[0]


def record_of(section_, reference) -> selectors.Record:
    return next(r for r in section_.records if r.reference == reference)


def value_of(record_, name) -> selectors.Value:
    return next(v for v in record_.values if v.name == name)


# --- generated from the catalog ----------------------------------------------------------------


def test_every_catalog_entry_the_member_has_rows_of_is_shown(hana, taro):
    member = hana["member"]
    data = selectors.my_data(member)
    shown = {s.model_label: s for s in data.sections()}
    checked = set()
    for declaration in catalog.declarations():
        if not declaration.subject or declaration.model_label in selectors.WITHHELD:
            continue
        if declaration.model_label in selectors.ELSEWHERE:
            # Their own section (the provisions to third parties), tested in kirakira/disclosures.
            assert declaration.model_label not in shown
            continue
        kind = selectors.kind_of(declaration.model_label)
        assert kind is not None, f"{declaration.model_label} names a subject the page cannot follow"
        if not kind.rows(member.pk).exists():
            assert declaration.model_label not in shown
            continue
        checked.add(declaration.model_label)
        got = shown[declaration.model_label]
        assert got.context == declaration.context
        fields = {item.field for item in got.items}
        names = {value.name for value in got.records[0].values}
        for name, entry in declaration.fields.items():
            if entry.protection == Protection.ONE_WAY or kind.model._meta.get_field(name).is_relation:
                assert name not in fields and name not in names  # hashes are never shown
                continue
            assert name in fields, f"{declaration.model_label}.{name} is missing from the items"
            assert name in names, f"{declaration.model_label}.{name} has no value"
        if declaration.record is not None:
            assert "*" in fields
    # The fixture exercises every kind a member can have (a new kind fails here until it does).
    assert checked == {
        "accounts.User",
        "accounts.BrowserSession",
        "accounts.MemberToken",
        "accounts.KnownLoginAddress",
        "knox.AuthToken",
        "usage.UsageRecord",
        "orders.Order",
        "orders.Payment",
        "orders.Refund",
        "orders.Cancellation",
        "orders.IdempotencyKey",
        "consultations.Consultation",
        "consultations.Message",
        "consultations.Attachment",
        "privacy.PolicyAcknowledgement",
        "privacy.StaffAccessSubject",
        "privacy.RightsRequest",
        "privacy.IdentityCode",
    }
    assert [group.context for group in data.groups] == ["membership", "service", "consultation", "security"]


def test_items_carry_purposes_rules_and_decrypted_values(hana, english):
    data = selectors.my_data(hana["member"])
    orders = section(data, "orders.Order")
    sns = next(item for item in orders.items if item.field == "sns_account_id")
    assert sns.label == "SNS account ID"
    assert sns.purposes == ("Service provision contract",)
    assert [rule.code for rule in sns.rules] == ["contract_record_5y"]
    assert sns.rules[0].period_label == "5 years" and sns.rules[0].starts == "from the end of the contract"
    assert sns.protection == "encrypted"
    completed = record_of(orders, hana["completed"].reference)
    assert value_of(completed, "sns_account_id").value == "hana.kira"  # decrypted for its owner
    assert value_of(completed, "note").value == "急ぎでお願いします"
    account = section(data, "accounts.User").records[0]
    assert value_of(account, "email").value == "hana@example.com"
    assert value_of(account, "pending_email").value == "hana.new@example.com"
    refunds = section(data, "orders.Refund")
    assert value_of(refunds.records[0], "account_number").value == "7654321"


def test_hashes_credentials_and_internal_notes_are_never_shown(hana):
    member = hana["member"]
    body = json.dumps(api_client(member).get(API).json(), ensure_ascii=False)
    page = hana["client"].get(PAGE).content.decode()
    secrets = [member.password, member.email_index]
    secrets += [token.digest for token in AuthToken.objects.filter(user=member)]
    secrets += list(BrowserSession.objects.filter(user=member).values_list("session_key", flat=True))
    secrets += ["f" * 64, "a" * 64, "b" * 64]  # a known address's hash, an idempotency key's digests
    secrets += [order.phone_index for order in Order.objects.filter(member=member)]
    for secret in secrets:
        assert secret not in body and secret not in page
    assert "社内メモ" not in body and "社内メモ" not in page  # staff's internal note
    assert "3日後です" in body and "3日後です" in page  # staff's reply is the member's to see
    for name in (
        "password",
        "email_index",
        "phone_index",
        "session_key",
        "digest",
        "token_key",
        "address_hash",
    ):
        assert f'"name": "{name}"' not in body


def test_nothing_of_another_member(hana, taro):
    page = hana["client"].get(PAGE).content.decode()
    body = json.dumps(api_client(hana["member"]).get(API).json(), ensure_ascii=False)
    for text in (page, body):
        assert "hana.kira" in text and "hana@example.com" in text
        for theirs in (TARO_SNS, TARO_SUBJECT, "taro@example.org", "鈴木 太郎", "198.51.100.77"):
            assert theirs not in text


# --- disposal dates on the controllable clock --------------------------------------------------


def test_disposal_dates_follow_the_retention_clocks(hana, english):
    data = selectors.my_data(hana["member"])
    orders = section(data, "orders.Order")
    completed = record_of(orders, hana["completed"].reference)
    assert completed.disposal.at == COMPLETED_AT.replace(year=2031)  # the contract ended when the work did
    assert completed.disposal.rule.code == "contract_record_5y"
    open_order = record_of(orders, hana["open"].reference)
    assert not open_order.disposal.started  # an open order's contract has not ended
    assert open_order.disposal.words == "5 years from the end of the contract"
    assert open_order.disposal.text == "Not yet started: 5 years from the end of the contract"
    # A refund still to pay keeps the cancelled order's contract open.
    assert not record_of(orders, hana["cancelled"].reference).disposal.started
    # Payments go with their order.
    payments = section(data, "orders.Payment")
    paid_for_completed = record_of(payments, hana["completed"].reference)
    assert paid_for_completed.disposal.at == COMPLETED_AT.replace(year=2031)
    assert paid_for_completed.disposal.rule.code == "payment_supply_record_5y"
    assert not record_of(payments, hana["cancelled"].reference).disposal.started
    # The usage log: six months from each request.
    usage = section(data, "usage.UsageRecord")
    newest = usage.records[0]
    assert newest.date == T0 and newest.disposal.at == datetime(2026, 7, 10, 3, 0, tzinfo=UTC)
    assert usage.earliest_disposal.at == datetime(2026, 7, 10, 1, 0, tzinfo=UTC)
    # A closed question: a year from its closing, with its messages; an open complaint waits.
    consultations = section(data, "consultations.Consultation")
    question = record_of(consultations, hana["question"].reference)
    assert question.disposal.at == QUESTION_CLOSED_AT.replace(year=2027)
    assert record_of(section(data, "consultations.Message"), hana["question"].reference).disposal.at == (
        QUESTION_CLOSED_AT.replace(year=2027)
    )
    complaint = record_of(consultations, hana["complaint"].reference)
    assert complaint.disposal.rule.code == "complaint_record_5y"
    assert complaint.disposal.words == "5 years from the date the matter is closed"
    # The staff access about the member: two years from it.
    accesses = section(data, "privacy.StaffAccessSubject")
    assert accesses.records[0].disposal.at == T0.replace(year=2028)
    # The membership record's clock starts only at withdrawal.
    account = section(data, "accounts.User").records[0]
    assert value_of(account, "name").disposal.words == "5 years from the date the membership contract ends"
    # A login goes when it expires.
    sessions = section(data, "accounts.BrowserSession")
    row = BrowserSession.objects.get(user=hana["member"])
    assert sessions.records[0].disposal.at == row.expire_date


def test_the_disposal_date_moves_when_the_clock_starts(hana):
    """Completing the open order starts its clock: the page then shows the date."""
    cs = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    accountant = StaffFactory(roles=[Role.ACCOUNTING])
    order = hana["open"]
    later = T0 + timedelta(days=40)
    with clock.frozen_at(later):
        record_payment(order, accountant=accountant)
        lifecycle.order_advance(order_id=order.pk, step="start", actor=cs)
        lifecycle.order_advance(order_id=order.pk, step="complete", actor=cs)
    data = selectors.my_data(hana["member"])
    assert record_of(section(data, "orders.Order"), order.reference).disposal.at == later.replace(year=2031)
    assert OrderEvent.objects.filter(order=order).latest("occurred_at").occurred_at == later


def test_a_big_log_is_summarised(hana):
    member = hana["member"]
    UsageRecord.objects.bulk_create(
        UsageRecord(
            member=member,
            occurred_at=T0 - timedelta(days=1, minutes=n),
            ip_address="203.0.113.9",
            method="GET",
            route="home",
            status_code=200,
        )
        for n in range(40)
    )
    usage = section(selectors.my_data(member), "usage.UsageRecord")
    assert usage.count == 43 and len(usage.records) == selectors.LOG_ROWS and usage.truncated
    assert usage.newest == T0 and usage.oldest == T0 - timedelta(days=1, minutes=39)
    assert usage.earliest_disposal.at == (T0 - timedelta(days=1, minutes=39)).replace(month=7)
    page = hana["client"].get(PAGE).content.decode()
    assert "43 records, from" in page and "The latest 20 are shown below" in page


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_the_rights_menu_and_the_values(hana):
    response = hana["client"].get(PAGE)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    for name in (
        "privacy:export_request",
        "privacy:correction_request",
        "privacy:deletion_request",
        "privacy:restriction_request",
        "privacy:requests",
        "privacy:access_log",
        "accounts:withdraw",
    ):
        assert f'href="{reverse(name)}"' in page
    assert "Not yet started: 5 years from the end of the contract" in page
    assert 'data-section="orders.Order"' in page and 'data-section="usage.UsageRecord"' in page
    assert (
        "<script" not in page.split("<main", 1)[1] and "style=" not in page
    )  # CSP: no inline script or style


def test_a_value_under_correction_is_shown_to_its_owner_and_marked(hana):
    page = hana["client"].get(PAGE).content.decode()
    assert 'data-value="sns_account_id" data-under-correction' in page
    assert "hana.kira" in page and "under correction" in page
    data = selectors.my_data(hana["member"])
    frozen = value_of(record_of(section(data, "orders.Order"), hana["completed"].reference), "sns_account_id")
    assert frozen.under_correction and frozen.value == "hana.kira" and not frozen.correction_url
    body = api_client(hana["member"]).get(API).json()
    values = [
        value
        for group in body["groups"]
        for s in group["sections"]
        if s["model"] == "orders.Order"
        for r in s["records"]
        if r["reference"] == hana["completed"].reference
        for value in r["values"]
    ]
    assert {v["name"]: v["under_correction"] for v in values}["sns_account_id"] is True


def test_correction_links_and_self_service_links(hana):
    data = selectors.my_data(hana["member"])
    orders = section(data, "orders.Order")
    note = value_of(record_of(orders, hana["completed"].reference), "note")
    assert note.correction_url == (
        f"{reverse('privacy:correction_request')}?target=orders.Order&target_id={hana['completed'].pk}"
        "&target_field=note"
    )
    # An open order's phone is changed on the order's page, not by request.
    phone = value_of(record_of(orders, hana["open"].reference), "phone")
    assert phone.change_url == reverse("orders:detail", args=[hana["open"].pk]) and not phone.correction_url
    # A refund still to pay: its account on the refund account page.
    refund = section(data, "orders.Refund").records[0]
    assert value_of(refund, "account_number").change_url == reverse(
        "orders:refund_account", args=[hana["cancelled"].pk]
    )
    account = section(data, "accounts.User").records[0]
    assert value_of(account, "name").change_url == reverse("accounts:mypage")
    assert not value_of(account, "login_id").correction_url
    page = hana["client"].get(PAGE).content.decode()
    assert note.correction_url.replace("&", "&amp;") in page


def test_the_page_needs_a_member(hana):
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]
    client = Client()
    client.force_login(StaffFactory(roles=[Role.PRIVACY_OFFICER]))
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "privacy officer directly" in response.content.decode()


def test_my_page_links_to_my_data(hana):
    page = hana["client"].get("/en/accounts/mypage/").content.decode()
    assert f'href="{reverse("privacy:my_data")}"' in page


@pytest.mark.parametrize("language", ["ja", "ko"])
def test_the_page_is_in_the_members_language(hana, language):
    page = hana["client"].get(f"/{language}/privacy/my-data/" if language != "ja" else "/privacy/my-data/")
    assert page.status_code == 200
    assert f'<html lang="{language}"' in page.content.decode()


# --- query count ---------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_member_s_records(staff, settings):
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 100
    counts = []
    for orders in (2, 12):
        member = MemberFactory()
        service = make_service()
        for _n in range(orders):
            order = place_order(member=member, service=service)
            record_payment(order, accountant=staff["accountant"])
            open_for_member(member)
        UsageRecord.objects.bulk_create(
            UsageRecord(
                member=member,
                occurred_at=T0,
                ip_address="203.0.113.9",
                method="GET",
                route="x",
                status_code=200,
            )
            for _n in range(selectors.LOG_ROWS + orders * 3)
        )
        client = member_client(member)
        api = api_client(member)
        _queries(client, PAGE)  # keys and caches warm
        counts.append((_queries(client, PAGE), _queries(api, API)))
    assert counts[0] == counts[1]


# --- the API -------------------------------------------------------------------------------------


def test_the_api_returns_what_the_page_shows(hana):
    response = api_client(hana["member"]).get(API)
    assert response.status_code == 200
    assert response["ETag"]  # as every GET of the API
    body = response.json()
    data = selectors.my_data(hana["member"])
    assert [g["context"] for g in body["groups"]] == [g.context for g in data.groups]
    by_model = {s["model"]: s for g in body["groups"] for s in g["sections"]}
    assert set(by_model) == {s.model_label for s in data.sections()}
    orders = by_model["orders.Order"]
    assert orders["entry"] == "orders.Order"
    assert {"name": "sns_account_id", "label": "SNS account ID"} in orders["columns"]
    completed = next(r for r in orders["records"] if r["reference"] == hana["completed"].reference)
    assert datetime.fromisoformat(completed["disposal"]["at"]) == COMPLETED_AT.replace(year=2031)
    assert completed["disposal"]["started"] is True
    open_order = next(r for r in orders["records"] if r["reference"] == hana["open"].reference)
    assert open_order["disposal"]["at"] is None
    assert open_order["disposal"]["words"] == "5 years from the end of the contract"
    note = next(i for i in orders["items"] if i["field"] == "note")
    assert note["entry"] == "orders.Order.note" and note["rules"][0]["code"] == "contract_record_5y"
    usage = by_model["usage.UsageRecord"]
    assert usage["is_log"] is True and usage["count"] == 3


def test_the_api_refuses_staff_and_anonymous_callers(hana):
    error_body(Client().get(API), 401)
    body = error_body(api_client(StaffFactory(roles=[Role.PRIVACY_OFFICER])).get(API), 403)
    assert "privacy officer" in body["message"]


def test_the_api_is_in_the_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/privacy/my-data"]["get"]
    assert "no paging" in operation["description"].lower()
    assert set(operation["responses"]) >= {"200", "401", "403"}


# --- deletion of particular data -----------------------------------------------------------------


def test_deletion_entries_are_what_my_data_shows(hana):
    member = hana["member"]
    offered = {key for _group, choices in deletion.deletable_entries(member) for key, _label in choices}
    shown = selectors.my_data(member).entries()
    assert offered <= shown
    assert {
        "consultations.Consultation",
        "consultations.Consultation.callback_phone",
        "orders.Order",
        "accounts.User.pending_email",
        "privacy.StaffAccessSubject",
    } <= offered
    assert "accounts.User" not in offered and "accounts.User.name" not in offered  # withdrawal / my page
    # A field only a law's rule covers is not offered alone (it would be kept), but may be asked for.
    assert "orders.Order.note" not in offered and "orders.Order.note" in shown
    assert deletion.clean_entries(
        member, ["orders.Order.note", "consultations.Consultation", "orders.Order.note"]
    ) == [
        "orders.Order.note",
        "consultations.Consultation",
    ]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([], "Choose the data to delete."),
        ("", "Choose the data to delete."),
        (["orders.Nothing"], "There is no such data"),
        (["orders.Order.status"], "There is no such data"),  # not a personal field
        (["privacy.LegalHold"], "There is no such data"),
        (["accounts.User"], "withdrawing from membership"),
        (["accounts.User.name"], "change on my page"),
        (["consultations.Consultation.subject"], "cannot be deleted alone"),
        (["accounts.RoleRequest"], "You have no"),  # a kind of record the member has none of
    ],
)
def test_deletion_entries_are_checked(hana, entries, message, english):
    with pytest.raises(ValidationError) as excinfo:
        deletion.clean_entries(hana["member"], entries)
    assert any(message in text for text in excinfo.value.message_dict["entries"])


def test_entries_of_another_member_are_not_the_members(taro):
    member = MemberFactory()
    with pytest.raises(ValidationError) as excinfo:
        deletion.clean_entries(member, ["orders.Order", "consultations.Consultation"])
    assert len(excinfo.value.message_dict["entries"]) == 2


def _deletion(member, entries) -> RightsRequest:
    return RightsRequest.objects.create(
        member=member, kind="deletion", due_at=clock.now() + timedelta(days=10), entries=entries
    )


def test_a_deletion_deletes_what_no_rule_keeps_and_answers_with_what_is_kept(
    hana, staff, django_capture_on_commit_callbacks
):
    member = hana["member"]
    api_client(member)  # a second token
    Client().force_login(member)  # a second browser login
    member.refresh_from_db()
    latest_session = BrowserSession.objects.filter(user=member).order_by("-last_used_at").first()
    now = T0 + timedelta(days=30)
    entries = [
        "consultations.Consultation",
        "consultations.Consultation.callback_phone",
        "orders.Order",
        "orders.Order.note",
        "usage.UsageRecord",
        "knox.AuthToken",
        "accounts.BrowserSession",
        "accounts.KnownLoginAddress",
        "accounts.User.pending_email",
        "privacy.PolicyAcknowledgement",
    ]
    with clock.frozen_at(now):
        request = _deletion(member, deletion.clean_entries(member, entries))
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            done = services.request_complete(request.pk, actor=staff["officer"], answer="対応しました")
    assert done.status == "done"
    # Deleted: the closed question (its follow-up year ends with the request), tokens, other
    # logins, the familiar addresses, the new address awaiting confirmation.
    assert not Consultation.objects.filter(pk=hana["question"].pk).exists()
    assert not Message.objects.filter(consultation_id=hana["question"].pk).exists()
    assert not AuthToken.objects.filter(user=member).exists() and not MemberToken.objects.exists()
    assert list(BrowserSession.objects.filter(user=member)) == [latest_session]
    assert not KnownLoginAddress.objects.filter(user=member).exists()
    member.refresh_from_db()
    assert member.pending_email == "" and member.email == "hana@example.com"
    # Kept, each under its rule: the complaint, the orders and their notes, the usage log, the policy seen.
    assert Consultation.objects.filter(pk=hana["complaint"].pk).exists()
    assert Order.objects.get(pk=hana["completed"].pk).note == "急ぎでお願いします"
    assert UsageRecord.objects.filter(member=member).count() == 3
    assert PolicyAcknowledgement.objects.filter(member=member).exists()
    kept = {(item["entry"], item["rule"], item["until"]) for item in done.kept}
    with translation.override("ja"):  # the member's language

        def words(rule):
            return selectors.rule_words(selectors.Rule.of(rule))

        def day(moment):
            return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")

        contract = str(Retention.CONTRACT_RECORD_5Y.label)
        expected = {
            (
                "consultations.Consultation",
                str(Retention.COMPLAINT_RECORD_5Y.label),
                words(Retention.COMPLAINT_RECORD_5Y),
            ),
            ("orders.Order", contract, day(COMPLETED_AT.replace(year=2031))),  # the completed order
            (
                "orders.Order",
                contract,
                words(Retention.CONTRACT_RECORD_5Y),
            ),  # the open and the cancelled ones
            (
                "orders.Order.note",
                contract,
                day(COMPLETED_AT.replace(year=2031)),
            ),  # only the completed has one
            ("usage.UsageRecord", str(Retention.USAGE_LOG_6M.label), day(T0.replace(month=7))),
            (
                "privacy.PolicyAcknowledgement",
                str(Retention.WITHDRAWN_MEMBER_5Y.label),
                words(Retention.WITHDRAWN_MEMBER_5Y),
            ),
        }
        session_rule = str(Retention.UNTIL_PURPOSE_MET.label)
    assert kept - {item for item in kept if item[0] == "accounts.BrowserSession"} == expected
    assert [(e, r) for e, r, _u in kept if e == "accounts.BrowserSession"] == [
        ("accounts.BrowserSession", session_rule)
    ]
    assert {item["entry"] for item in done.kept}.isdisjoint({"knox.AuthToken", "accounts.KnownLoginAddress"})
    # The answer names which data, under which rule, until which date.
    (email,) = [m for m in mail.outbox if m.to == ["hana@example.com"]]
    assert day(COMPLETED_AT.replace(year=2031)) in email.body and contract in email.body


def test_a_field_is_emptied_only_where_no_rule_keeps_it(hana, staff):
    member = hana["member"]
    with clock.frozen_at(T0 + timedelta(days=3)):
        request = _deletion(member, ["consultations.Consultation.callback_phone"])
        done = services.request_complete(request.pk, actor=staff["officer"])
    question = Consultation.objects.get(pk=hana["question"].pk)
    assert question.callback_phone == "" and question.subject == "納期について"  # only the field
    assert done.kept == []


def test_a_deletion_leaves_open_requests_and_stops_in_force(hana, staff):
    member = hana["member"]
    stop = RightsRequest.objects.create(
        member=member, kind="restriction", scope="notices", due_at=T0 + timedelta(days=10)
    )
    services.request_complete(stop.pk, actor=staff["officer"])
    answered = RightsRequest.objects.create(
        member=member, kind="export", due_at=T0, status="refused", ground=1
    )
    request = _deletion(member, ["privacy.RightsRequest"])
    done = services.request_complete(request.pk, actor=staff["officer"])
    assert not RightsRequest.objects.filter(pk=answered.pk).exists()
    assert RightsRequest.objects.filter(pk=stop.pk).exists()  # in force
    assert RightsRequest.objects.filter(pk=hana["correction"].pk).exists()  # open
    assert RightsRequest.objects.filter(pk=request.pk).exists()  # this one, answered
    assert [item["count"] for item in done.kept] == [2]


def test_a_deletion_under_a_legal_hold_is_refused_and_nothing_changes(hana, staff):
    member = hana["member"]
    LegalHold.objects.create(
        subject_id=member.pk, reason="係争中", reference="2026-001", placed_by=staff["officer"]
    )
    request = _deletion(member, ["consultations.Consultation"])
    with pytest.raises(ValidationError) as excinfo:
        services.request_complete(request.pk, actor=staff["officer"])
    assert excinfo.value.code == "held"
    assert Consultation.objects.filter(pk=hana["question"].pk).exists()
    assert RightsRequest.objects.get(pk=request.pk).status == "received"


def test_the_legal_hold_itself_is_not_shown(hana, staff):
    LegalHold.objects.create(
        subject_id=hana["member"].pk, reason="捜査協力", reference="2026-009", placed_by=staff["officer"]
    )
    page = hana["client"].get(PAGE).content.decode()
    assert "捜査協力" not in page and "2026-009" not in page


def test_payments_have_no_date_of_their_own(hana):
    """A payment's disposal is its order's (with_parent), never its own received date."""
    data = selectors.my_data(hana["member"])
    payment = record_of(section(data, "orders.Payment"), hana["completed"].reference)
    assert value_of(payment, "received_on").value == date(2026, 1, 10).isoformat()
    assert Payment.objects.filter(order=hana["completed"]).count() == 1
