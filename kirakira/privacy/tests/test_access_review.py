"""The monthly access review (policy C10): per staff member, the members they saw by action;
reveals and downloads with their reasons; accesses outside working hours; days over three times
their median; members they had nothing to handle for. The page and its CSV for the privacy roles
only, each itself an access; the month's mark in two parts, nobody marking their own accesses."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations.testing import open_for_member
from kirakira.orders import lifecycle
from kirakira.orders.testing import place_order, record_payment
from kirakira.privacy.access_log import review, review_services
from kirakira.privacy.access_log.services import record
from kirakira.privacy.models import AccessReview, PermanentRecordError, StaffAccessRecord

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
APRIL = review.parse_month("2026-04")  # 1 April 2026 is a Wednesday
PAGE = "/en/backoffice/privacy/staffaccessrecord/"
ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}


def at(day: int, hour: int = 11, minute: int = 0, month: int = 4) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO)


def access(staff, *members, when, action="view", model="orders.Order", object_id="", reason="", fields=()):
    with clock.frozen_at(when):
        return record(
            actor=staff,
            action=action,
            model=model,
            object_id=object_id,
            fields=fields,
            subjects=[member.pk for member in members],
            reason=reason,
        )


def month(**kwargs) -> review.MonthReview:
    return review.month_review(month=APRIL, **kwargs)


def of(result, staff) -> review.StaffMonth:
    return result.staff_of(staff.pk)


def with_open_order(member=None, when=None):
    with clock.frozen_at(when or at(1, 10)):
        return place_order(member=member)


@pytest.fixture
def cs():
    return StaffFactory(roles=[Role.CUSTOMER_SERVICE])


@pytest.fixture
def officer_client(client):
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    client.force_login(officer)
    client.staff = officer
    return client


# --- What each staff member saw -------------------------------------------------------------------


def test_members_are_counted_once_each_by_action_and_refusals_apart(cs):
    a, b = MemberFactory(), MemberFactory()
    colleague = StaffFactory(roles=[Role.ACCOUNTING])
    access(cs, a, b, when=at(6), action="list")
    access(cs, a, when=at(6, 12))
    access(cs, a, when=at(7))
    access(cs, colleague, when=at(7), model="accounts.User")  # a staff account: no member
    access(cs, b, when=at(8), action="refused", reason="role")
    entry = of(month(), cs)
    assert entry.members == 2
    assert entry.by_action == {"list": 2, "view": 1}
    assert (entry.rows, entry.refusals) == (5, 1)


def test_rows_of_other_months_are_left_out(cs):
    member = MemberFactory()
    access(cs, member, when=datetime(2026, 3, 31, 23, 59, tzinfo=TOKYO))
    access(cs, member, when=datetime(2026, 5, 1, 0, 0, tzinfo=TOKYO))
    assert month().staff == []
    access(cs, member, when=datetime(2026, 4, 1, 0, 0, tzinfo=TOKYO))  # 31 March 15:00 UTC
    assert of(month(), cs).members == 1


def test_every_reveal_and_download_is_listed_with_its_reason(cs):
    member = MemberFactory()
    accounting = StaffFactory(roles=[Role.ACCOUNTING])
    access(accounting, member, when=at(6), action="reveal", model="orders.Refund", reason="返金の振込のため")
    access(cs, member, when=at(6), action="download", model="consultations.Attachment")
    access(cs, member, when=at(6))  # a view: not listed
    result = month()
    listed = [(row.staff_id, row.action, row.reason) for row in result.reveals_and_downloads]
    assert listed == [(accounting.pk, "reveal", "返金の振込のため"), (cs.pk, "download", "")]
    assert (of(result, accounting).reveals, of(result, cs).downloads) == (1, 1)


# --- Outside working hours ---------------------------------------------------------------------------


def test_accesses_outside_working_hours_are_flagged(cs):
    member = MemberFactory()
    inside = [at(6, 9, 0), at(6, 18, 59), at(10, 12)]  # Monday 09:00, 18:59, Friday noon
    outside = [
        at(6, 8, 59),
        at(6, 19, 0),
        at(11, 12),
        at(12, 3),
    ]  # before, at the end, Saturday, Sunday night
    for when in inside + outside:
        access(cs, member, when=when)
    result = month()
    assert sorted(row.occurred_at for row in result.outside_hours) == sorted(outside)
    assert of(result, cs).outside_hours == 4


def test_working_hours_and_days_come_from_the_settings(cs, settings):
    member = MemberFactory()
    access(cs, member, when=at(6, 8, 30))  # Monday
    access(cs, member, when=at(11, 10))  # Saturday
    assert of(month(), cs).outside_hours == 2
    settings.ACCESS_REVIEW_WORKING_HOURS = "08:00-20:00"
    settings.ACCESS_REVIEW_WORKING_DAYS = "mon-sat"
    assert of(month(), cs).outside_hours == 0


def test_a_night_shift_belongs_to_the_day_it_started():
    night = review.WorkingTime(
        *review.parse_working_hours("22:00-06:00"), review.parse_working_days("mon-fri")
    )
    assert night.covers(at(10, 23))  # Friday 23:00
    assert night.covers(at(11, 5))  # Saturday 05:00, the Friday shift
    assert not night.covers(at(11, 23))  # Saturday 23:00
    assert not night.covers(at(6, 5))  # Monday 05:00 ends Sunday's shift, which is no working day
    assert not night.covers(at(6, 12))


@pytest.mark.parametrize("hours", ["9-19", "09:00-09:00", "25:00-26:00", "", "09:00-19:60"])
def test_working_hours_that_cannot_be_read_fail_the_check(settings, hours):
    settings.ACCESS_REVIEW_WORKING_HOURS = hours
    [error] = review.check_working_time()
    assert error.id == "kirakira.privacy.E030"


@pytest.mark.parametrize("days", ["monday", "mon-", "", "mon;tue"])
def test_working_days_that_cannot_be_read_fail_the_check(settings, days):
    settings.ACCESS_REVIEW_WORKING_DAYS = days
    assert [error.id for error in review.check_working_time()] == ["kirakira.privacy.E030"]


def test_the_default_working_time_passes_the_check():
    assert review.check_working_time() == []
    assert review.parse_working_days("fri-mon,wed") == {4, 5, 6, 0, 2}


# --- A day's volume over three times the median ------------------------------------------------------


def test_a_day_over_three_times_the_median_is_flagged(cs):
    members = MemberFactory.create_batch(5)
    for day in (6, 7, 8, 9):
        access(cs, members[0], when=at(day))
    access(cs, *members[:4], when=at(13), action="list")  # 4 > 3 × 1
    entry = of(month(), cs)
    assert entry.daily[at(13).date()] == 4 and entry.median == 1
    assert entry.spike_days == [at(13).date()]
    assert [(spike.day, spike.members) for spike in month().spikes] == [(at(13).date(), 4)]


def test_a_day_at_exactly_three_times_the_median_is_not_flagged(cs):
    members = MemberFactory.create_batch(3)
    for day in (6, 7, 8, 9):
        access(cs, members[0], when=at(day))
    access(cs, *members, when=at(13), action="list")  # 3 is not over 3 × 1
    assert of(month(), cs).spike_days == []


def test_days_without_access_do_not_lower_the_median(cs):
    """Two days worked in the month: the median is theirs, not one dragged to zero by the 28
    days off (which would flag both)."""
    members = MemberFactory.create_batch(4)
    access(cs, *members[:3], when=at(6), action="list")
    access(cs, *members, when=at(20), action="list")
    entry = of(month(), cs)
    assert entry.median == 3.5 and entry.spike_days == []


def test_days_are_the_sites_local_days(cs):
    """08:00 in Tokyo is 23:00 UTC the day before: the access belongs to the Tokyo day."""
    members = MemberFactory.create_batch(2)
    access(cs, members[0], when=at(7, 8))
    access(cs, members[1], when=at(7, 10))
    assert of(month(), cs).daily == {at(7).date(): 2}


def test_the_median_is_each_staff_members_own(cs):
    busy = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    members = MemberFactory.create_batch(10)
    for day in (6, 7, 8):
        access(busy, *members, when=at(day), action="list")
        access(cs, members[0], when=at(day))
    access(busy, *members, when=at(9), action="list")
    access(cs, *members[:4], when=at(9), action="list")
    result = month()
    assert of(result, busy).spike_days == []  # ten a day is busy's usual
    assert of(result, cs).spike_days == [at(9).date()]


# --- Members with no order or consultation to handle ----------------------------------------------


def test_a_member_with_an_open_order_is_customer_services_work(cs):
    customer = with_open_order(when=at(1, 10, month=3)).member  # placed in March, still awaiting payment
    stranger = MemberFactory()
    access(cs, customer, stranger, when=at(6), action="list")
    result = month()
    assert [(item.staff_id, item.subject_id) for item in result.unhandled] == [(cs.pk, stranger.pk)]
    assert of(result, cs).unhandled_members == 1


def test_an_order_finished_before_the_month_is_no_longer_work(cs):
    accounting = StaffFactory(roles=[Role.ACCOUNTING])
    with clock.frozen_at(at(2, month=2)):
        order = place_order()
        record_payment(order, accountant=accounting)
        lifecycle.order_advance(order_id=order.pk, step="start", actor=cs)
        lifecycle.order_advance(order_id=order.pk, step="complete", actor=cs)
    access(cs, order.member, when=at(6))
    assert [item.subject_id for item in month().unhandled] == [order.member_id]


def test_an_order_finished_during_the_month_was_work_in_it(cs):
    with clock.frozen_at(at(2, month=3)):
        order = place_order()
        record_payment(order)
        lifecycle.order_advance(order_id=order.pk, step="start", actor=cs)
    with clock.frozen_at(at(15)):
        lifecycle.order_advance(order_id=order.pk, step="complete", actor=cs)
    access(cs, order.member, when=at(20))  # after it was completed, in the same month
    assert month().unhandled == []


def test_an_order_placed_after_the_month_was_no_work_in_it(cs):
    member = MemberFactory()
    with_open_order(member, when=at(2, month=5))
    access(cs, member, when=at(6))
    assert [item.subject_id for item in month().unhandled] == [member.pk]


def test_a_refund_still_to_pay_is_accountings_work():
    accounting = StaffFactory(roles=[Role.ACCOUNTING])
    with clock.frozen_at(at(2, month=2)):
        order = place_order()
        record_payment(order, accountant=accounting)
        lifecycle.order_cancel(
            order_id=order.pk, member=order.member, reason="キャンセル", refund_account=ACCOUNT
        )
    access(accounting, order.member, when=at(6), model="orders.Refund")
    assert month().unhandled == []


def test_consultations_are_the_work_of_the_roles_they_are_routed_to(cs):
    privacy_staff = StaffFactory(roles=[Role.PRIVACY_STAFF])
    with clock.frozen_at(at(3)):
        asking = open_for_member(category="question").member
        personal = open_for_member(category="personal_information").member
    for staff in (cs, privacy_staff):
        access(staff, asking, personal, when=at(6), action="list", model="consultations.Consultation")
    unhandled = {(item.staff_id, item.subject_id) for item in month().unhandled}
    assert unhandled == {(cs.pk, personal.pk), (privacy_staff.pk, asking.pk)}


def test_a_consultation_closed_before_the_month_is_no_longer_work(cs):
    with clock.frozen_at(at(3, month=2)):
        consultation = open_for_member(category="question")
        from kirakira.consultations.services import consultation_close

        consultation_close(consultation_id=consultation.pk, actor=cs)
    access(cs, consultation.member, when=at(6), model="consultations.Consultation")
    assert [item.subject_id for item in month().unhandled] == [consultation.member_id]


def test_the_roles_held_at_the_time_of_the_row_decide():
    """The same member seen by one staff member as customer service (with a question to answer)
    and later as an administrator, with nothing to handle."""
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    with clock.frozen_at(at(3)):
        member = open_for_member(category="question").member
    access(staff, member, when=at(6))
    staff = type(staff).objects.get(pk=staff.pk)  # roles are cached on the user object
    staff.groups.set([Group.objects.get(name=Role.ADMINISTRATOR)])
    access(staff, member, when=at(7), model="accounts.User")
    [item] = month().unhandled
    assert (item.subject_id, item.roles, item.rows) == (member.pk, "administrator", 1)


def test_an_administrator_has_every_member_listed():
    admin_user = StaffFactory(roles=[Role.ADMINISTRATOR])
    member = with_open_order().member
    access(admin_user, member, when=at(6), model="accounts.User")
    assert [item.subject_id for item in month().unhandled] == [member.pk]


def test_the_figures_cost_the_same_queries_whatever_the_rows(cs):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            month()
        return len(captured)

    members = MemberFactory.create_batch(6)
    access(cs, members[0], when=at(6))
    few = queries()
    other = StaffFactory(roles=[Role.ACCOUNTING])
    for day in range(6, 16):
        access(cs, *members, when=at(day, 20), action="list")
        access(other, members[day % 6], when=at(day), action="reveal", reason="振込のため確認")
    assert queries() == few


# --- The page --------------------------------------------------------------------------------------


def test_the_page_shows_each_staff_member_and_the_flags(officer_client, cs):
    member = MemberFactory()
    access(cs, member, when=at(6, 22), action="reveal", model="orders.Refund", reason="振込先の確認のため")
    response = officer_client.get(PAGE, {"month": "2026-04"})
    assert response.status_code == 200
    body = response.content.decode()
    assert cs.login_id in body and "振込先の確認のため" in body and str(member.pk) in body
    assert 'id="review-outside-hours"' in body and 'id="review-unhandled"' in body
    assert (
        body.count('class="access-review-chart"') == 3
    )  # members per staff member; the day-by-day and hour charts
    assert (
        "<script" not in body.split('id="content-main"')[1]
        and "style=" not in body.split('id="content-main"')[1]
    )


def test_the_page_names_each_staff_member_as_members_see_them(officer_client, cs):
    """A member who quotes "Staff 7KQ2-M9" from their access page is answered from here."""
    from kirakira.privacy.access_log.transparency import pseudonym_code

    access(cs, MemberFactory(), when=at(6))
    body = officer_client.get(PAGE, {"month": "2026-04"}).content.decode()
    assert f"shown to members as {pseudonym_code(cs.pk)}" in body


def test_the_page_template_reads_only_what_it_is_given(officer_client, cs, caplog):
    """Every section filled, one part marked and one not: the template never looks up a name
    that is not there (Django logs a failed lookup with the whole context: reasons, notes)."""
    privacy_staff = StaffFactory(roles=[Role.PRIVACY_STAFF])
    members = MemberFactory.create_batch(5)
    for day in (6, 7, 8):
        access(cs, members[0], when=at(day))
    access(cs, *members, when=at(9, 20), action="list")
    access(officer_client.staff, members[1], when=at(9), action="download", model="consultations.Attachment")
    review_services.access_review_mark(month=APRIL, part="officer", actor=privacy_staff, note="問題なし")
    caplog.set_level("DEBUG", logger="django.template")
    body = officer_client.get(PAGE, {"month": "2026-04"}).content.decode()
    failed = [record.getMessage() for record in caplog.records if record.name == "django.template"]
    # The admin's base template asks the user for a short name, which Kirakira's user has not.
    assert [message for message in failed if "'get_short_name'" not in message] == []
    assert 'id="review-spikes"' in body and "問題なし" in body and 'name="note"' in body


def test_the_page_is_itself_an_access_naming_whom_it_lists(officer_client, cs):
    member, unlisted = MemberFactory(), MemberFactory()
    with_open_order(unlisted)
    access(cs, member, when=at(6), action="download", model="consultations.Attachment")
    access(cs, unlisted, when=at(7))  # in working hours, handled: shown by no list
    before = StaffAccessRecord.objects.count()
    assert officer_client.get(PAGE, {"month": "2026-04"}).status_code == 200
    [row] = StaffAccessRecord.objects.order_by("seq")[before:]
    assert (row.staff, row.action, row.model) == (officer_client.staff, "view", "privacy.StaffAccessRecord")
    assert set(row.subjects.values_list("subject_id", flat=True)) == {cs.pk, member.pk}


def test_the_page_queries_do_not_grow_with_the_rows(officer_client, cs):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert officer_client.get(PAGE, {"month": "2026-04"}).status_code == 200
        return len(captured)

    members = MemberFactory.create_batch(8)
    access(cs, members[0], when=at(6, 7), action="reveal", reason="確認のため必要")
    queries()  # the first request warms what is cached per process (the gate's pledge, sessions)
    few = queries()
    others = StaffFactory.create_batch(3, roles=[Role.ACCOUNTING])
    for day in range(6, 20):
        for staff in others:
            access(staff, *members, when=at(day, 21), action="list")
        access(cs, members[day % 8], when=at(day, 7), action="reveal", reason="確認のため必要")
    assert queries() == few


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.ACCOUNTING, Role.ADMINISTRATOR])
def test_other_roles_are_refused_and_the_refusal_is_recorded(client, role):
    staff = StaffFactory(roles=[role])
    client.force_login(staff)
    assert client.get(PAGE, {"month": "2026-04"}).status_code == 403
    assert client.get(PAGE, {"month": "2026-04", "download": "csv"}).status_code == 403
    assert client.post(PAGE, {"month": "2026-04", "part": "staff"}).status_code == 403
    assert AccessReview.objects.count() == 0
    assert list(StaffAccessRecord.objects.values_list("action", flat=True)) == ["refused"] * 3


def test_superuser_status_alone_opens_nothing(client):
    client.force_login(StaffFactory(is_superuser=True))
    assert client.get(PAGE).status_code == 403


def test_a_month_that_cannot_be_read_is_said_so(officer_client):
    response = officer_client.get(PAGE, {"month": "2026-13"})
    assert response.status_code == 200
    assert "Choose a month as year-month" in response.content.decode()


def test_the_page_defaults_to_the_month_before(officer_client, cs):
    with clock.frozen_at(datetime(2026, 5, 10, 12, tzinfo=TOKYO)):
        access(cs, MemberFactory(), when=at(6))
        response = officer_client.get(PAGE)
    assert response.context["month"] == APRIL and cs.login_id in response.content.decode()


# --- The CSV ---------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_csv_has_every_finding_and_is_itself_an_export(officer_client, cs):
    member = MemberFactory()
    access(cs, member, when=at(6, 22), action="reveal", model="orders.Refund", reason="=HYPERLINK(1)")
    before = StaffAccessRecord.objects.count()
    response = officer_client.get(PAGE, {"month": "2026-04", "download": "csv"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="access-review-2026-04.csv"'
    header, *rows = _csv(response)
    assert header[:3] == ["Finding", "Staff member", "Name"]
    findings = {row[0] for row in rows}
    assert {
        "Summary",
        "Reveal or download",
        "Outside working hours",
        "No order or consultation to handle",
    } <= findings
    [summary] = [row for row in rows if row[0] == "Summary"]
    assert summary[1] == cs.login_id and summary[header.index("Members")] == "1"
    reveal = next(row for row in rows if row[0] == "Reveal or download")
    assert reveal[header.index("Reason")] == "'=HYPERLINK(1)"  # never run as a formula
    [row] = StaffAccessRecord.objects.order_by("seq")[before:]
    assert (row.action, row.model) == ("export", "privacy.StaffAccessRecord")
    assert set(row.subjects.values_list("subject_id", flat=True)) == {cs.pk, member.pk}


@pytest.mark.parametrize(
    ("prefix", "name", "reason"), [("", "名前", "理由"), ("/en", "Name", "Reason"), ("/ko", "이름", "사유")]
)
def test_the_csv_headers_follow_the_page_language(officer_client, cs, prefix, name, reason):
    access(cs, MemberFactory(), when=at(6))
    response = officer_client.get(
        f"{prefix}/backoffice/privacy/staffaccessrecord/", {"month": "2026-04", "download": "csv"}
    )
    header = _csv(response)[0]
    assert (header[2], header[-3 + 1]) == (name, reason)


# --- The mark --------------------------------------------------------------------------------------


def test_the_officer_marks_everyone_elses_accesses(officer_client, cs):
    access(cs, MemberFactory(), when=at(6))
    response = officer_client.post(PAGE, {"month": "2026-04", "part": "staff", "note": "確認済み"})
    assert response.status_code == 302
    mark = AccessReview.objects.get()
    assert (mark.month, mark.part, mark.reviewed_by, mark.note) == (
        APRIL,
        "staff",
        officer_client.staff,
        "確認済み",
    )
    assert (mark.record_count, mark.last_seq) == (1, StaffAccessRecord.objects.get(action="view").seq)
    assert len(mark.request_id) == 32
    # Marking is itself recorded in the access log.
    assert StaffAccessRecord.objects.filter(action="add", model="privacy.AccessReview").count() == 1
    body = officer_client.get(PAGE, {"month": "2026-04"}).content.decode()
    assert f"Reviewed by {officer_client.staff.login_id}" in body and "確認済み" in body


@pytest.fixture
def english():
    """The services answer in the active language (Japanese by default); these tests read the
    English wording."""
    from django.utils import translation

    with translation.override("en"):
        yield


def test_the_officers_own_accesses_are_marked_by_privacy_staff(client, cs, english):
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    privacy_staff = StaffFactory(roles=[Role.PRIVACY_STAFF])
    access(officer, MemberFactory(), when=at(6))
    access(cs, MemberFactory(), when=at(6))
    with pytest.raises(ValidationError, match="privacy staff"):
        review_services.access_review_mark(month=APRIL, part="officer", actor=officer)
    with pytest.raises(ValidationError, match="Only the privacy officer"):
        review_services.access_review_mark(month=APRIL, part="staff", actor=privacy_staff)
    client.force_login(privacy_staff)
    assert client.post(PAGE, {"month": "2026-04", "part": "officer"}).status_code == 302
    mark = AccessReview.objects.get()
    assert (mark.part, mark.reviewed_by, mark.record_count) == ("officer", privacy_staff, 1)


def test_nobody_marks_a_part_holding_their_own_accesses(cs, english):
    both = StaffFactory(roles=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF])
    with pytest.raises(ValidationError, match="privacy staff who are not officers"):
        review_services.access_review_mark(month=APRIL, part="officer", actor=both)
    # An officer who was privacy staff in some rows of the month: those rows are in the part of
    # everyone else, which they may then not mark.
    promoted = StaffFactory(roles=[Role.PRIVACY_STAFF])
    access(promoted, MemberFactory(), when=at(6))
    promoted.groups.set([Group.objects.get(name=Role.PRIVACY_OFFICER)])
    promoted = type(promoted).objects.get(pk=promoted.pk)
    with pytest.raises(ValidationError, match="Your own accesses"):
        review_services.access_review_mark(month=APRIL, part="staff", actor=promoted)


def test_a_refused_mark_is_said_on_the_page(client):
    privacy_staff = StaffFactory(roles=[Role.PRIVACY_STAFF])
    client.force_login(privacy_staff)
    response = client.post(PAGE, {"month": "2026-04", "part": "staff", "note": "x"})
    assert response.status_code == 200 and AccessReview.objects.count() == 0
    body = response.content.decode()
    assert "Only the privacy officer marks" in body


def test_a_month_is_marked_only_once_it_is_over_and_only_once(officer_client, english):
    this_month = review.current_month()
    with pytest.raises(ValidationError, match="once it is over"):
        review_services.access_review_mark(month=this_month, part="staff", actor=officer_client.staff)
    review_services.access_review_mark(month=APRIL, part="staff", actor=officer_client.staff)
    with pytest.raises(ValidationError, match="already marked"):
        review_services.access_review_mark(month=APRIL, part="staff", actor=officer_client.staff)
    with pytest.raises(ValidationError):
        review_services.access_review_mark(
            month=APRIL, part="staff", actor=officer_client.staff, note="x" * 2001
        )


def test_a_mark_is_never_changed_or_deleted():
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    mark = review_services.access_review_mark(month=APRIL, part="staff", actor=officer)
    mark.note = "changed"
    with pytest.raises(PermanentRecordError):
        mark.save()
    with pytest.raises(PermanentRecordError):
        AccessReview.objects.update(note="changed")
    with pytest.raises(PermanentRecordError):
        mark.delete()
    with pytest.raises(PermanentRecordError):
        AccessReview.objects.all().delete()
    with clock.frozen_at(clock.now() + timedelta(days=2 * 366)):
        AccessReview.objects.all().delete()  # past the two years of the log it vouches for
    assert AccessReview.objects.count() == 0


def test_the_page_shows_rows_written_after_the_mark(officer_client, cs):
    access(cs, MemberFactory(), when=at(6))
    review_services.access_review_mark(month=APRIL, part="staff", actor=officer_client.staff)
    access(cs, MemberFactory(), when=at(30, 23))  # a late row dated in the month
    body = officer_client.get(PAGE, {"month": "2026-04"}).content.decode()
    assert "1 record of the month was written after the mark." in body
