"""The retention back office (policy C4): the disposal ledger with its certificates and the
forecast for the privacy roles, legal holds placed and released by the privacy officer, and
separate storage that only the privacy officer reaches, reading a record only with a reason,
each reading in the staff access log."""

import base64
import html
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from kirakira.accounts.services import member_register
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.consultations.testing import PNG, open_for_member, upload
from kirakira.orders.testing import place_order
from kirakira.privacy.access_log.services import record
from kirakira.privacy.catalog.vocabulary import Retention
from kirakira.privacy.models import StaffAccessRecord
from kirakira.privacy.retention import ledger, rules, selectors, storage
from kirakira.privacy.retention.models import (
    DisposalCount,
    DisposalRun,
    LegalHold,
    RegistrationMatch,
    RetainedRecord,
)
from kirakira.privacy.retention.withdrawal import member_withdraw
from kirakira.usage.models import UsageRecord

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
BASE = "/en/backoffice/privacy/"
LEDGER = f"{BASE}disposalrun/"
FORECAST = f"{LEDGER}forecast/"
HOLDS = f"{BASE}legalhold/"
STORAGE = f"{BASE}retainedrecord/"


def shown(text) -> str:
    """``text`` as a page shows it (HTML-escaped)."""
    return html.escape(str(text))


def page(response) -> str:
    return response.content.decode()


def rows_after(seq: int):
    return list(StaffAccessRecord.objects.filter(seq__gt=seq).order_by("seq"))


def last_seq() -> int:
    row = StaffAccessRecord.objects.order_by("-seq").first()
    return row.seq if row else 0


def subjects(row) -> set:
    return set(row.subjects.values_list("subject_id", flat=True))


def withdrawn_member(**fields):
    """A member with an order and a consultation with a file, withdrawn: everything kept moves
    to separate storage (a membership record, the order, the consultation)."""
    member = MemberFactory(**fields)
    place_order(member=member, sns_account_id="kept.account")
    open_for_member(member, subject="保存される相談", files=[upload("receipt.png")])
    member_withdraw(user=member, checked_hash=member.password)
    member.refresh_from_db()
    return member


def staff_client(client, role):
    staff = StaffFactory(roles=[role])
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def officer(client):
    return staff_client(client, Role.PRIVACY_OFFICER)


@pytest.fixture
def run():
    """A finished run with counts of two rules, one of them kept under a hold."""
    started = clock.now() - timedelta(hours=1)
    run = DisposalRun.objects.create(
        trigger=DisposalRun.Trigger.SCHEDULE, started_at=started, finished_at=started + timedelta(minutes=3)
    )
    DisposalRun.objects.filter(pk=run.pk).update(status=DisposalRun.Status.FINISHED)
    oldest, newest = started - timedelta(days=400), started - timedelta(days=190)
    ledger.record(
        run, "usage_log_6m", "usage.UsageRecord", DisposalCount.Method.DELETED, 1200, oldest, newest
    )
    ledger.record(run, "usage_log_6m", "usage.UsageRecord", DisposalCount.Method.HELD, 7, oldest, newest)
    ledger.record(
        run,
        "contract_record_5y",
        "privacy.RetainedRecord:orders.Order",
        DisposalCount.Method.DELETED,
        3,
        oldest,
        oldest,
    )
    run.refresh_from_db()
    return run


# --- who reaches what --------------------------------------------------------------------------

STAFF = {Role.PRIVACY_STAFF}
OFFICER = {Role.PRIVACY_OFFICER}
PRIVACY = OFFICER | STAFF


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_its_pages(client, role, run):
    member = withdrawn_member()
    retained = RetainedRecord.objects.filter(subject_id=member.pk).first()
    hold = LegalHold.objects.create(
        subject_id=member.pk, reason="紛争の調査のため", reference="CASE-1", placed_by=StaffFactory()
    )
    expected = {
        LEDGER: PRIVACY,
        f"{LEDGER}{run.pk}/change/": PRIVACY,
        f"{LEDGER}{run.pk}/certificate/": PRIVACY,
        FORECAST: PRIVACY,
        HOLDS: PRIVACY,
        f"{HOLDS}{hold.pk}/change/": PRIVACY,
        f"{HOLDS}add/": OFFICER,
        STORAGE: OFFICER,
        f"{STORAGE}{retained.pk}/change/": OFFICER,
        f"{STORAGE}{retained.pk}/read/": OFFICER,
        f"{LEDGER}add/": set(),
        f"{LEDGER}{run.pk}/delete/": set(),
        f"{HOLDS}{hold.pk}/delete/": set(),
        f"{STORAGE}{retained.pk}/delete/": set(),
    }
    staff_client(client, role)
    for url, roles in expected.items():
        before = last_seq()
        status = client.get(url).status_code
        if role in roles:
            assert status == 200, f"{url}: {role} should reach it, got {status}"
        else:
            assert status == 403, f"{url}: {role} should be refused, got {status}"
            assert any(row.action == "refused" for row in rows_after(before)), f"{url}: no refusal row"


def test_the_privacy_staff_see_holds_but_neither_place_nor_release_them(client):
    member = MemberFactory()
    hold = LegalHold.objects.create(
        subject_id=member.pk, reason="紛争の調査のため", reference="CASE-2", placed_by=StaffFactory()
    )
    staff_client(client, Role.PRIVACY_STAFF)
    listing = page(client.get(HOLDS))
    assert "CASE-2" in listing and member.login_id in listing
    assert "release_holds" not in listing
    response = client.post(HOLDS, {"action": "release_holds", "_selected_action": [str(hold.pk)]})
    hold.refresh_from_db()
    assert hold.released_at is None
    assert response.status_code in (200, 302)
    assert (
        client.post(f"{HOLDS}add/", {"member": member.login_id, "reason": "x", "reference": "y"}).status_code
        == 403
    )
    assert LegalHold.objects.count() == 1


# --- the ledger --------------------------------------------------------------------------------


def test_the_ledger_lists_runs_with_their_totals_and_filters_them(officer, run):
    withdrawal = DisposalRun.objects.create(
        trigger=DisposalRun.Trigger.WITHDRAWAL, started_by=None, status=DisposalRun.Status.FAILED
    )
    listing = page(officer.get(LEDGER))
    assert str(run.get_trigger_display()) in listing
    assert ">1203<" in listing  # deleted records counted, the 7 kept under a hold not
    assert 'id="forecast-link"' in listing and FORECAST in listing
    only_schedule = page(officer.get(LEDGER, {"trigger__exact": "schedule"}))
    assert f"{run.pk}/change/" in only_schedule and f"{withdrawal.pk}/change/" not in only_schedule
    only_failed = page(officer.get(LEDGER, {"status__exact": "failed"}))
    assert f"{withdrawal.pk}/change/" in only_failed and f"{run.pk}/change/" not in only_failed


def test_a_runs_page_shows_its_counts_per_rule_and_model(officer, run):
    with translation.override("en"):
        body = page(officer.get(f"{LEDGER}{run.pk}/change/"))
        assert shown(Retention.USAGE_LOG_6M.label) in body
        assert shown(Retention.CONTRACT_RECORD_5Y.label) in body
        assert shown(DisposalCount.Method.HELD.label) in body
    assert "usage records" in body
    assert "orders in separate storage" in body
    assert ">1200<" in body and ">7<" in body and ">3<" in body
    assert f"{run.pk}/certificate/" in body
    assert 'name="_save"' not in body  # read-only


def test_the_ledger_list_costs_the_same_queries_for_one_run_or_many(
    officer, run, django_assert_max_num_queries
):
    starter = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    DisposalRun.objects.filter(pk=run.pk).update(started_by=starter)
    with CaptureQueriesContext(connection) as one:
        assert officer.get(LEDGER).status_code == 200
    for index in range(15):
        more = DisposalRun.objects.create(trigger=DisposalRun.Trigger.COMMAND, started_by=StaffFactory())
        ledger.record(more, "usage_log_6m", "usage.UsageRecord", DisposalCount.Method.DELETED, index + 1)
    with django_assert_max_num_queries(len(one.captured_queries)):
        body = page(officer.get(LEDGER))
    assert body.count("/change/") >= 16 and ">15<" in body


# --- the certificate ---------------------------------------------------------------------------


def test_the_certificate_of_a_withdrawal_names_no_one_and_is_logged_as_a_download(officer):
    member = withdrawn_member(name="証明 花子", email="certificate.hanako@example.org")
    run = DisposalRun.objects.get(trigger=DisposalRun.Trigger.WITHDRAWAL)
    before = last_seq()
    response = officer.get(f"{LEDGER}{run.pk}/certificate/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"{str(run.pk)[:8]}.html" in disposition
    body = page(response)
    assert '<html lang="en">' in body
    assert settings.STUDIO_NAME in body
    assert str(run.pk) in body
    with translation.override("en"):
        assert shown(Retention.WITHDRAWN_MEMBER_5Y.label) in body
        assert shown(Retention.WITHDRAWN_MEMBER_5Y.basis) in body
        assert shown(DisposalCount.Method.MOVED.label) in body
        assert shown(DisposalRun.Trigger.WITHDRAWAL.label) in body
        assert shown(DisposalRun.Status.FINISHED.label) in body
    assert "No personal data of the people whose records were disposed of appears" in body
    for personal in (
        "証明 花子",
        "certificate.hanako@example.org",
        str(member.pk),
        "kept.account",
        "receipt.png",
    ):
        assert personal not in body
    # Nothing to load, nothing to run: a file that prints as it is.
    for fetched in ("<script", "<link", "<img", "src=", "<style", "style="):
        assert fetched not in body
    rows = rows_after(before)
    downloads = [row for row in rows if row.action == "download"]
    assert len(downloads) == 1
    assert downloads[0].model == "privacy.DisposalRun" and downloads[0].object_id == str(run.pk)
    assert downloads[0].staff_id == officer.staff.pk


def test_the_certificate_names_the_staff_member_who_started_the_run_and_the_log_names_them(client, run):
    starter = StaffFactory(roles=[Role.PRIVACY_OFFICER], login_id="sweep_starter")
    DisposalRun.objects.filter(pk=run.pk).update(started_by=starter, trigger=DisposalRun.Trigger.COMMAND)
    viewer = staff_client(client, Role.PRIVACY_STAFF)
    before = last_seq()
    body = page(viewer.get(f"{LEDGER}{run.pk}/certificate/"))
    assert "sweep_starter" in body
    assert ">1200<" in body and "Records due but kept under a legal hold" in body
    (download,) = [row for row in rows_after(before) if row.action == "download"]
    assert subjects(download) == {starter.pk}
    assert download.fields == ["privacy.DisposalRun.started_by"]


def test_the_certificate_speaks_the_language_of_the_page(officer, run):
    korean = page(officer.get(f"/ko/backoffice/privacy/disposalrun/{run.pk}/certificate/"))
    assert '<html lang="ko">' in korean
    japanese = page(officer.get(f"/backoffice/privacy/disposalrun/{run.pk}/certificate/"))
    assert '<html lang="ja">' in japanese


# --- the forecast ------------------------------------------------------------------------------

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=TOKYO)


def usage_at(member, when):
    return UsageRecord.objects.create(
        member=member, occurred_at=when, ip_address="192.0.2.1", method="GET", route="mypage", status_code=200
    )


def started_for_due(rule, due):
    """The moment a clock of ``rule`` started for its record to fall due at ``due``."""
    return rule.cutoff(due)


def retained_due(subject_id, due, source="orders.Order"):
    """A record in separate storage that falls due at ``due``."""
    started = Retention.CONTRACT_RECORD_5Y.cutoff(due)
    return storage.move(
        subject_id=subject_id,
        source=source,
        source_id=uuid.uuid4(),
        rule=Retention.CONTRACT_RECORD_5Y,
        started_at=started,
        data={"reference": "R-1"},
        now=NOW - timedelta(days=1),
    )


def row_of(forecast, model):
    found = [row for row in forecast.rows if row.model == model]
    assert len(found) == 1, (model, found)
    return found[0]


def test_the_forecast_counts_what_falls_due_within_30_90_365_days_and_per_month():
    member = MemberFactory()
    rule = Retention.USAGE_LOG_6M
    with clock.frozen_at(NOW):
        usage_at(member, started_for_due(rule, NOW - timedelta(days=1)))  # already due: the sweep's
        usage_at(member, started_for_due(rule, NOW + timedelta(days=10)))  # 20 May
        usage_at(member, started_for_due(rule, NOW + timedelta(days=60)))  # 9 July
        usage_at(member, started_for_due(rule, NOW + timedelta(days=61)))  # 10 July
        usage_at(member, started_for_due(rule, NOW + timedelta(days=200)))  # 26 November
        usage_at(member, started_for_due(rule, NOW + timedelta(days=400)))  # beyond the year
        staff = StaffFactory()
        # The staff access log: two years from the access.
    with clock.frozen_at(started_for_due(Retention.STAFF_ACCESS_2Y, NOW + timedelta(days=20))):
        record(actor=staff, action="view", model="orders.Order", subjects=[member.pk])
    with clock.frozen_at(started_for_due(Retention.STAFF_ACCESS_2Y, NOW + timedelta(days=100))):
        record(actor=staff, action="view", model="orders.Order", subjects=[member.pk])

    forecast = selectors.retention_forecast(now=NOW)

    assert [f"{month:%Y-%m}" for month in forecast.months] == [
        "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10",
        "2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04",
    ]  # fmt: skip
    usage = row_of(forecast, "usage.UsageRecord")
    assert usage.rule == Retention.USAGE_LOG_6M
    assert usage.within == (1, 3, 4)
    assert usage.by_month == (1, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0)
    access = row_of(forecast, "privacy.StaffAccessRecord")
    assert access.within == (1, 1, 2)
    assert access.by_month == (1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    assert forecast.within[0] >= 2 and forecast.by_month[0] >= 2


def test_the_forecast_counts_separate_storage_by_its_own_moment_and_the_keys_that_go_with_it():
    withdrawn = MemberFactory()
    with clock.frozen_at(NOW - timedelta(days=30)):
        withdrawn.withdrawn_at = clock.now()
        withdrawn.save(update_fields=["withdrawn_at"])
    retained_due(withdrawn.pk, NOW + timedelta(days=45))
    retained_due(withdrawn.pk, NOW + timedelta(days=100), source="consultations.Consultation")
    retained_due(uuid.uuid4(), NOW + timedelta(days=500))
    forecast = selectors.retention_forecast(now=NOW)
    orders = row_of(forecast, "privacy.RetainedRecord:orders.Order")
    assert orders.rule == Retention.CONTRACT_RECORD_5Y
    assert orders.within == (0, 1, 1)
    assert orders.by_month[1] == 1  # 24 June
    consultations = row_of(forecast, "privacy.RetainedRecord:consultations.Consultation")
    assert consultations.within == (0, 0, 1)
    assert consultations.by_month[2] == 0 and sum(consultations.by_month) == 1
    # The member's key and account go with their last kept record, in 100 days.
    keys = row_of(forecast, "accounts.User")
    assert keys.within == (0, 0, 1)
    assert keys.by_month == consultations.by_month


def test_every_disposal_that_carries_itself_out_has_its_forecast():
    custom = [d.key for d in rules.disposals() if d.custom is not None and d.with_parent is None]
    assert custom, "the registry has custom disposals"
    assert sorted(custom) == sorted(selectors.CUSTOM_FORECASTS)
    forecast = selectors.retention_forecast(now=NOW)
    assert not [d for d in forecast.not_forecast if d.custom is not None]
    # Those with no clock are listed as such, not silently dropped.
    assert {d.key for d in forecast.not_forecast} == {
        d.key for d in rules.disposals() if d.custom is None and d.with_parent is None and d.start is None
    }


def test_the_forecast_page_shows_the_table_and_the_chart(officer):
    member = MemberFactory()
    now = clock.now()
    usage_at(member, started_for_due(Retention.USAGE_LOG_6M, now + timedelta(days=5)))
    usage_at(member, started_for_due(Retention.USAGE_LOG_6M, now + timedelta(days=50)))
    response = officer.get(FORECAST)
    assert response.status_code == 200
    body = page(response)
    assert "<svg" in body and 'role="img"' in body
    assert 'id="forecast-rules"' in body and 'id="forecast-months"' in body
    assert timezone_month(now) in body
    with translation.override("en"):
        assert shown(Retention.USAGE_LOG_6M.label) in body
    usage_row = body.split('data-model="usage.UsageRecord"')[1].split("</tr>")[0]
    assert cells(usage_row)[-3:] == ["1", "2", "2"]


def timezone_month(moment) -> str:
    from django.utils import timezone

    return f"{timezone.localtime(moment):%Y-%m}"


def cells(html: str) -> list[str]:
    import re

    return re.findall(r"<td>([^<]*)</td>", html)


def test_the_forecast_costs_the_same_queries_for_few_rows_or_many(officer, django_assert_max_num_queries):
    member = MemberFactory()
    now = clock.now()
    usage_at(member, started_for_due(Retention.USAGE_LOG_6M, now + timedelta(days=5)))
    with CaptureQueriesContext(connection) as few:
        assert officer.get(FORECAST).status_code == 200
    for day in range(1, 60):
        usage_at(member, started_for_due(Retention.USAGE_LOG_6M, now + timedelta(days=day)))
        retained_due(member.pk, now + timedelta(days=day * 5))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert officer.get(FORECAST).status_code == 200


# --- legal holds -------------------------------------------------------------------------------


def hold_form(member: str, **fields):
    return {"member": member, "reason": "決済に関する紛争の調査のため", "reference": "CASE-7", **fields}


def test_the_officer_places_a_hold_on_a_member_by_login_id(officer):
    member = MemberFactory(login_id="held_member")
    before = last_seq()
    response = officer.post(f"{HOLDS}add/", hold_form("HELD_MEMBER"))
    assert response.status_code == 302, page(response)
    hold = LegalHold.objects.get()
    assert hold.subject_id == member.pk and hold.placed_by == officer.staff
    assert hold.reference == "CASE-7" and hold.ends_at is None and hold.released_at is None
    assert LegalHold.objects.active().filter(pk=hold.pk).exists()
    (added,) = [row for row in rows_after(before) if row.action == "add" and row.model == "privacy.LegalHold"]
    assert added.model == "privacy.LegalHold" and subjects(added) == {member.pk}
    listing = page(officer.get(HOLDS))
    assert "held_member" in listing and "CASE-7" in listing


def test_a_withdrawn_member_is_held_by_the_id_separate_storage_shows(officer):
    member = withdrawn_member()
    shown = page(
        officer.get(f"{STORAGE}{RetainedRecord.objects.filter(subject_id=member.pk).first().pk}/change/")
    )
    assert str(member.pk) in shown
    response = officer.post(f"{HOLDS}add/", hold_form(str(member.pk)))
    assert response.status_code == 302, page(response)
    assert LegalHold.objects.get().subject_id == member.pk
    assert f"former member {str(member.pk)[:8]}" in page(officer.get(HOLDS))


@pytest.mark.parametrize(
    "who",
    ["nobody_here", "staff", "withdrawn_login_id", "unknown_uuid"],
)
def test_a_hold_on_no_member_is_refused_with_a_message(officer, who):
    withdrawn = withdrawn_member()
    member = {
        "nobody_here": "nobody_here",
        "staff": officer.staff.login_id,
        "withdrawn_login_id": withdrawn.login_id,  # the emptied account's: not a live member's
        "unknown_uuid": str(uuid.uuid4()),
    }[who]
    response = officer.post(f"{HOLDS}add/", hold_form(member))
    assert response.status_code == 200
    assert "No member has this login ID, and no withdrawn member has this ID in separate storage." in page(
        response
    )
    assert not LegalHold.objects.exists()


def test_a_hold_that_would_end_in_the_past_or_has_no_reason_is_refused(officer):
    member = MemberFactory()
    past = clock.now() - timedelta(days=1)
    response = officer.post(
        f"{HOLDS}add/",
        hold_form(member.login_id, reason="", ends_at_0=f"{past:%Y-%m-%d}", ends_at_1="10:00:00"),
    )
    assert response.status_code == 200
    body = page(response)
    assert "A hold ends in the future" in body
    assert "This field is required." in body
    assert not LegalHold.objects.exists()


def test_the_officer_releases_a_hold_once(officer):
    member = MemberFactory()
    hold = LegalHold.objects.create(
        subject_id=member.pk, reason="紛争の調査のため", reference="CASE-9", placed_by=officer.staff
    )
    response = officer.post(
        HOLDS, {"action": "release_holds", "_selected_action": [str(hold.pk)]}, follow=True
    )
    assert "1 hold is released." in page(response)
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.released_by == officer.staff
    assert not LegalHold.objects.active().exists()
    released_at = hold.released_at
    again = officer.post(HOLDS, {"action": "release_holds", "_selected_action": [str(hold.pk)]}, follow=True)
    assert "1 hold had already ended or been released." in page(again)
    hold.refresh_from_db()
    assert hold.released_at == released_at
    assert "released" in page(officer.get(HOLDS))


def test_nobody_deletes_a_hold(officer):
    hold = LegalHold.objects.create(
        subject_id=uuid.uuid4(), reason="紛争の調査のため", reference="CASE-3", placed_by=officer.staff
    )
    assert officer.post(f"{HOLDS}{hold.pk}/delete/", {"post": "yes"}).status_code == 403
    officer.post(HOLDS, {"action": "delete_selected", "_selected_action": [str(hold.pk)], "post": "yes"})
    assert LegalHold.objects.filter(pk=hold.pk).exists()


# --- separate storage --------------------------------------------------------------------------


def test_the_list_shows_when_records_are_kept_never_what_they_hold(officer):
    member = withdrawn_member(name="保管 花子", email="kept.hanako@example.org", login_id="kept_hanako")
    records = RetainedRecord.objects.filter(subject_id=member.pk)
    assert records.count() == 3
    body = page(officer.get(STORAGE))
    assert body.count(str(member.pk)[:8]) == 3
    assert str(member.pk) not in body  # the list names a former member by a short reference only
    for held in (
        "保管 花子",
        "kept.hanako@example.org",
        "kept_hanako",
        "kept.account",
        "receipt.png",
        "保存される相談",
    ):
        assert held not in body
    with translation.override("en"):
        assert shown(Retention.CONTRACT_RECORD_5Y.label) in body
    assert ">order</a>" in body and ">membership record</a>" in body and ">consultation</a>" in body
    assert 'id="searchbar"' not in body  # no search over anything kept
    kinds = page(officer.get(STORAGE, {"source": "orders.Order"}))
    assert kinds.count(str(member.pk)[:8]) == 1


def test_a_records_page_shows_no_content_until_it_is_read_with_a_reason(officer):
    member = withdrawn_member(name="理由 花子", email="reason.hanako@example.org")
    retained = RetainedRecord.objects.get(subject_id=member.pk, source="accounts.User")
    change = page(officer.get(f"{STORAGE}{retained.pk}/change/"))
    assert "理由 花子" not in change and "reason.hanako@example.org" not in change
    assert f"{retained.pk}/read/" in change
    form = page(officer.get(f"{STORAGE}{retained.pk}/read/"))
    assert "理由 花子" not in form
    assert (
        "Fraud prevention" in form
        and "Dispute resolution" in form
        and "Cooperation with an investigation" in form
    )

    before = last_seq()
    refused = officer.post(f"{STORAGE}{retained.pk}/read/", {"reason": "", "reference": "CASE-11"})
    assert refused.status_code == 200
    assert "理由 花子" not in page(refused)
    assert "Choose the reason for reading this record." in page(refused)
    (refusal,) = rows_after(before)
    assert refusal.action == "refused" and refusal.reason == "reveal_reason"
    assert subjects(refusal) == {member.pk}
    no_reference = officer.post(
        f"{STORAGE}{retained.pk}/read/", {"reason": "fraud_prevention", "reference": ""}
    )
    assert "理由 花子" not in page(no_reference)

    before = last_seq()
    read = officer.post(
        f"{STORAGE}{retained.pk}/read/", {"reason": "dispute_resolution", "reference": "CASE-11"}
    )
    body = page(read)
    assert "理由 花子" in body and "reason.hanako@example.org" in body
    (reading,) = rows_after(before)
    assert reading.action == "reveal"
    assert reading.reason == "dispute_resolution: CASE-11"
    assert reading.model == "privacy.RetainedRecord" and reading.object_id == str(retained.pk)
    assert reading.fields == ["privacy.RetainedRecord.data"]
    assert subjects(reading) == {member.pk} and reading.staff_id == officer.staff.pk


def test_a_read_order_shows_its_payments_events_and_a_consultation_its_files_by_name_only(officer):
    member = withdrawn_member()
    order = RetainedRecord.objects.get(subject_id=member.pk, source="orders.Order")
    body = page(
        officer.post(f"{STORAGE}{order.pk}/read/", {"reason": "fraud_prevention", "reference": "CASE-12"})
    )
    assert "kept.account" in body
    assert "order event 1" in body.lower()
    assert "cancellation" in body.lower()
    consultation = RetainedRecord.objects.get(subject_id=member.pk, source="consultations.Consultation")
    body = page(
        officer.post(f"{STORAGE}{consultation.pk}/read/", {"reason": "investigation", "reference": "CASE-13"})
    )
    assert "保存される相談" in body
    assert "receipt.png" in body and f">{len(PNG)}<" in body
    assert base64.b64encode(PNG).decode()[:24] not in body  # the file is named, never shown


def test_a_registration_with_a_withdrawn_members_address_shows_on_their_membership_record(officer):
    member = withdrawn_member(email="again.hanako@example.org")
    membership = RetainedRecord.objects.get(subject_id=member.pk, source="accounts.User")
    newcomer = member_register(
        accept_terms=True,
        login_id="again_hanako",
        name="再登録 花子",
        email="again.hanako@example.org",
        password=PASSWORD,
        language="ja",
    )
    assert RegistrationMatch.objects.filter(retained=membership, user=newcomer).exists()
    before = last_seq()
    body = page(officer.get(f"{STORAGE}{membership.pk}/change/"))
    assert "A new account registered with this address on" in body
    assert f"/backoffice/accounts/user/{newcomer.pk}/change/" in body
    assert any(newcomer.pk in subjects(row) for row in rows_after(before))
    other = RetainedRecord.objects.get(subject_id=member.pk, source="orders.Order")
    assert "registered with this address" not in page(officer.get(f"{STORAGE}{other.pk}/change/"))
