"""Privacy staff's work on members' rights requests (policy C7, issue 14 item 7): due 10 days after
receipt, a reminder to the privacy roles 3 days before, answered on the request's back-office
page — done (a correction written and unfrozen), refused only on a ground with an explanation,
extended only before the due date with a reason — each answer told to the member by email; the
list and the officer's desk show what is overdue in red. Times move on the controllable clock."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import RequestFactory
from django.utils import translation

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.orders.testing import place_order
from kirakira.privacy.models import StaffAccessRecord
from kirakira.privacy.rights import freeze, reminders, services
from kirakira.privacy.rights.identity import code_of, code_send
from kirakira.privacy.rights.models import ANSWER_DAYS, Ground, Kind, RightsRequest, Scope, Status
from kirakira.schedule import jobs

pytestmark = pytest.mark.django_db

T = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
LIST = "/en/backoffice/privacy/rightsrequest/"
DESK = "/en/backoffice/consultations/consultation/desk/"
WRONG, RIGHT = "wrong.account", "right.account"


def page_url(rights_request, action="change") -> str:
    return f"{LIST}{rights_request.pk}/{action}/"


def submit(member, kind, **details) -> RightsRequest:
    """A request as the member makes it: the identity check passed with the mailed code."""
    code = code_send(member)
    http_request = RequestFactory().post("/privacy/requests/")
    received = services.request_submit(
        member, kind, password=PASSWORD, identity_code=code_of(code), http_request=http_request, **details
    )
    mail.outbox.clear()  # the code and the receipt: not what these tests are about
    return received


def correction(member, order) -> RightsRequest:
    return submit(
        member,
        Kind.CORRECTION,
        target="orders.Order",
        target_id=str(order.pk),
        target_field="sns_account_id",
        wrong_value=WRONG,
        right_value=RIGHT,
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def mails_to(address) -> list:
    return [message for message in mail.outbox if address in message.to]


@pytest.fixture
def member():
    return MemberFactory(language="en", name="権利 花子")


@pytest.fixture
def officer(client):
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER], language="en")
    client.force_login(officer)
    return officer


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """A post of the back office, with what its transaction queued for after the commit (the
    member's email) run as the commit would."""

    def post(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return post


def remind_rights_requests():
    job = next(job for job in jobs.SCHEDULE if job.name == "remind_rights_requests")
    job.task.enqueue()


# --- due dates and reminders ---------------------------------------------------------------------


def test_a_request_is_due_ten_days_after_receipt_and_the_privacy_roles_are_reminded_three_days_before(member):
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    privacy_staff = StaffFactory(roles=[Role.PRIVACY_STAFF])
    both = StaffFactory(roles=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF])
    others = [
        StaffFactory(roles=[role]) for role in (Role.CUSTOMER_SERVICE, Role.ACCOUNTING, Role.ADMINISTRATOR)
    ]
    gone = StaffFactory(roles=[Role.PRIVACY_STAFF], is_active=False)
    with clock.frozen_at(T):
        request = submit(member, Kind.RESTRICTION, scope=Scope.NOTICES)
    assert request.received_at == T
    assert request.due_at == T + timedelta(days=ANSWER_DAYS) == T + timedelta(days=10)

    with clock.frozen_at(T + timedelta(days=6, hours=23)):
        remind_rights_requests()
    assert mail.outbox == []

    with clock.frozen_at(T + timedelta(days=7)):
        remind_rights_requests()
        assert sorted(address for message in mail.outbox for address in message.to) == sorted(
            [officer.email, privacy_staff.email, both.email]
        )
        for message in mail.outbox:
            assert request.reference in message.body
            assert member.login_id not in message.subject + message.body
            assert member.name not in message.subject + message.body
        for someone in [*others, gone]:
            assert mails_to(someone.email) == []
        remind_rights_requests()  # the job runs every hour: each request is reminded of once
    assert len(mail.outbox) == 3
    with clock.frozen_at(T + timedelta(days=8)):
        assert reminders.remind_due() == 0
    assert len(mail.outbox) == 3
    request.refresh_from_db()
    assert request.reminded_at == T + timedelta(days=7)


def test_an_answered_request_is_not_reminded_of(member, client, officer, post):
    with clock.frozen_at(T):
        request = submit(member, Kind.RESTRICTION, scope=Scope.USAGE_LOG)
        post(page_url(request, "complete"), {"answer": "止めました。"})
    mail.outbox.clear()
    with clock.frozen_at(T + timedelta(days=9)):
        assert reminders.remind_due() == 0
    assert mail.outbox == []


# --- extending ------------------------------------------------------------------------------------


def test_an_extension_moves_the_due_date_and_tells_the_member_why(member, client, officer, post):
    with clock.frozen_at(T):
        request = submit(member, Kind.RESTRICTION, scope=Scope.ALL)
    with clock.frozen_at(T + timedelta(days=9, hours=23)):
        response = post(
            page_url(request, "extend"), {"days": "14", "reason": "The order's records are in the archive."}
        )
        assert response.status_code == 302
        assert response["Location"] == page_url(request)
        shown = text(client.get(response["Location"]))
    request.refresh_from_db()
    assert request.due_at == T + timedelta(days=24)
    assert request.extended_at == T + timedelta(days=9, hours=23)
    assert request.extension_reason == "The order's records are in the archive."
    assert request.status == Status.RECEIVED
    assert "The member is told the reason by email." in shown
    [told] = mail.outbox
    assert told.to == [member.email]
    assert "The order's records are in the archive." in told.body
    assert request.reference in told.subject
    assert member.name not in told.subject


def test_an_extension_on_or_after_the_due_date_is_refused_and_changes_nothing(member, client, officer, post):
    with clock.frozen_at(T):
        request = submit(member, Kind.RESTRICTION, scope=Scope.ALL)
    due = request.due_at
    with clock.frozen_at(due + timedelta(minutes=1)):
        page = text(client.get(page_url(request)))
        assert "it can no longer be extended" in page
        assert 'id="extend-form"' not in page
        response = post(page_url(request, "extend"), {"days": "5", "reason": "Too busy."})
    assert response.status_code == 200
    assert "The due date has passed: an extension must be explained to the member before it." in text(
        response
    )
    request.refresh_from_db()
    assert request.due_at == due
    assert request.extended_at is None and request.extension_reason == ""
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"days": "", "reason": "Archive."}, "Extend by 1 to 30 days."),
        ({"days": "31", "reason": "Archive."}, "Extend by 1 to 30 days."),
        ({"days": "0", "reason": "Archive."}, "Extend by 1 to 30 days."),
        ({"days": "5", "reason": "  "}, "Explain the extension to the member."),
    ],
)
def test_an_extension_needs_1_to_30_days_and_a_reason(member, client, officer, data, message, post):
    with clock.frozen_at(T):
        request = submit(member, Kind.RESTRICTION, scope=Scope.ALL)
        response = post(page_url(request, "extend"), data)
    assert response.status_code == 200
    assert message in text(response)
    request.refresh_from_db()
    assert request.due_at == T + timedelta(days=10) and request.extended_at is None
    assert mail.outbox == []


# --- refusing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        ({"answer": "We keep it under the law."}, ["Choose the ground of the privacy policy"]),
        ({"ground": "9", "answer": "We keep it under the law."}, ["Choose the ground of the privacy policy"]),
        ({"ground": "1", "answer": " "}, ["Explain the refusal to the member."]),
        ({}, ["Choose the ground of the privacy policy", "Explain the refusal to the member."]),
    ],
)
def test_a_refusal_without_a_ground_or_an_explanation_is_refused_and_changes_nothing(
    member, client, officer, data, messages, post
):
    with clock.frozen_at(T):
        request = submit(member, Kind.RESTRICTION, scope=Scope.NOTICES)
        response = post(page_url(request, "refuse"), data)
    assert response.status_code == 200
    page = text(response)
    for message in messages:
        assert message in page
    request.refresh_from_db()
    assert request.status == Status.RECEIVED
    assert request.ground is None and request.answer == "" and request.decided_at is None
    assert mail.outbox == []


def test_a_refusal_mails_the_member_the_grounds_text_and_the_explanation(member, client, officer, post):
    with clock.frozen_at(T):
        request = submit(member, Kind.RESTRICTION, scope=Scope.ALL)
    with clock.frozen_at(T + timedelta(days=2)):
        response = post(
            page_url(request, "refuse"),
            {
                "ground": str(Ground.CONTRACT.value),
                "answer": "Your open order cannot be delivered without it.",
            },
        )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    assert request.ground == Ground.CONTRACT
    assert request.decided_by == officer
    assert request.decided_at == T + timedelta(days=2)
    [told] = mail.outbox
    assert told.to == [member.email]
    with translation.override(member.language):
        ground_text = str(Ground.CONTRACT.label)
    assert ground_text in told.body
    assert "Your open order cannot be delivered without it." in told.body
    # Answered: no more answers are offered, and a late post changes nothing.
    with clock.frozen_at(T + timedelta(days=2, minutes=5)):  # within the staff session's idle limit
        page = text(client.get(page_url(request)))
        assert 'id="refuse-form"' not in page and 'id="complete-form"' not in page
        response = post(page_url(request, "complete"), {"answer": "Done after all."})
    assert "This request has already been answered." in text(response)
    request.refresh_from_db()
    assert request.status == Status.REFUSED


# --- completing -----------------------------------------------------------------------------------


def test_completing_a_correction_writes_the_value_and_lifts_the_freeze(member, client, officer, post):
    order = place_order(member=member, sns_account_id=WRONG)
    with clock.frozen_at(T):
        request = correction(member, order)
    assert freeze.is_frozen("orders.Order", order.pk, "sns_account_id")
    page = client.get(page_url(request))
    assert page.status_code == 200
    shown = text(page)
    # The page names the record and field, what is wrong and right, and prefills the value.
    assert str(order.pk) in shown
    assert WRONG in shown
    assert re.search(r'<textarea name="value"[^>]*>\s*' + re.escape(RIGHT) + r"</textarea>", shown)
    with clock.frozen_at(T + timedelta(days=3)):
        response = post(
            page_url(request, "complete"),
            {"value": "right.account2", "answer": "Corrected. Sorry for the mistake."},
        )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.sns_account_id == "right.account2"
    assert not freeze.is_frozen("orders.Order", order.pk, "sns_account_id")
    request.refresh_from_db()
    assert request.status == Status.DONE and request.answer == "Corrected. Sorry for the mistake."
    [told] = mail.outbox
    assert told.to == [member.email] and "Corrected. Sorry for the mistake." in told.body
    # The staff access log has the write to the member's order, and the answer.
    changes = {row.model: row for row in StaffAccessRecord.objects.filter(staff=officer, action="change")}
    assert changes["orders.Order"].object_id == str(order.pk)
    assert changes["orders.Order"].fields == ["orders.Order.sns_account_id"]
    assert "privacy.RightsRequest.answer" in changes["privacy.RightsRequest"].fields
    for row in changes.values():
        assert set(row.subjects.values_list("subject_id", flat=True)) == {member.pk}


def test_a_correction_made_in_the_records_own_page_is_not_written_again_but_unfreezes(
    member, client, officer, post
):
    order = place_order(member=member, sns_account_id=WRONG)
    with clock.frozen_at(T):
        request = correction(member, order)
        post(page_url(request, "complete"), {"value": RIGHT, "corrected_elsewhere": "on", "answer": "Done."})
    order.refresh_from_db()
    assert order.sns_account_id == WRONG  # the service wrote nothing: staff did it where it belongs
    assert not freeze.is_frozen("orders.Order", order.pk, "sns_account_id")
    assert RightsRequest.objects.get().status == Status.DONE


def test_a_correction_to_a_value_the_field_refuses_shows_why_and_changes_nothing(
    member, client, officer, post
):
    order = place_order(member=member, sns_account_id=WRONG)
    with clock.frozen_at(T):
        request = correction(member, order)
        response = post(page_url(request, "complete"), {"value": "x" * 500, "answer": "Done."})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    order.refresh_from_db()
    assert order.sns_account_id == WRONG
    assert freeze.is_frozen("orders.Order", order.pk, "sns_account_id")
    assert RightsRequest.objects.get().status == Status.RECEIVED
    assert mail.outbox == []


# --- the list, the page and the desk ------------------------------------------------------------


@pytest.fixture
def four(member):
    """At T + 11 days: one overdue, one due in 2 days, one due in 9 days, one answered."""
    others = [MemberFactory() for _ in range(3)]
    with clock.frozen_at(T):
        overdue = submit(member, Kind.RESTRICTION, scope=Scope.ALL)
    with clock.frozen_at(T + timedelta(days=3)):
        soon = submit(others[0], Kind.RESTRICTION, scope=Scope.ALL)
    with clock.frozen_at(T + timedelta(days=10)):
        later = submit(others[1], Kind.RESTRICTION, scope=Scope.ALL)
    with clock.frozen_at(T + timedelta(days=1)):
        answered = submit(others[2], Kind.RESTRICTION, scope=Scope.ALL)
        services.request_complete(
            answered.pk, actor=StaffFactory(roles=[Role.PRIVACY_STAFF]), answer="Stopped."
        )
    mail.outbox.clear()
    return {"overdue": overdue, "soon": soon, "later": later, "answered": answered}


def test_the_list_is_most_urgent_first_with_days_left_and_overdue_in_red(client, officer, four):
    with clock.frozen_at(T + timedelta(days=11)):
        response = client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    order = [body.index(four[name].reference) for name in ("overdue", "soon", "later", "answered")]
    assert order == sorted(order)
    rows = {
        name: re.search(r"<tr[^>]*>(?:(?!</tr>).)*" + four[name].reference + r".*?</tr>", body, re.S).group(0)
        for name in four
    }
    assert '<span class="rights-overdue">overdue by 1 day</span>' in rows["overdue"]
    assert "rights-overdue" not in rows["soon"] + rows["later"] + rows["answered"]
    assert re.search(r'class="field-days_left">2<', rows["soon"])
    assert re.search(r'class="field-days_left">9<', rows["later"])
    assert "kirakira/backoffice.css" in body
    assert four["overdue"].member.login_id in body  # the member, as the privacy roles see them
    assert 'href="/en/backoffice/privacy/rightsrequest/add/"' not in body  # no adding
    with clock.frozen_at(T + timedelta(days=11)):
        filtered = client.get(LIST, {"due": "overdue"}).content.decode()
    assert four["overdue"].reference in filtered
    assert all(four[name].reference not in filtered for name in ("soon", "later", "answered"))


def test_the_stylesheet_paints_overdue_red():
    from django.contrib.staticfiles import finders

    with open(finders.find("kirakira/backoffice.css"), encoding="utf-8") as css:
        rule = re.search(r"\.rights-overdue\s*\{([^}]*)\}", css.read())
    assert rule and "color" in rule.group(1)


def test_the_officers_desk_shows_overdue_requests_in_red_then_those_due_soon(client, officer, four):
    with clock.frozen_at(T + timedelta(days=11)):
        response = client.get(DESK)
    assert response.status_code == 200
    body = response.content.decode()
    table = re.search(r'<table id="desk-rights">.*?</table>', body, re.S).group(0)
    overdue_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*" + four["overdue"].reference, table, re.S).group(0)
    assert overdue_row.startswith('<tr class="rights-overdue">')
    assert f'href="{page_url(four["overdue"])}"' in overdue_row
    assert ">overdue<" in table
    assert table.index(four["overdue"].reference) < table.index(four["soon"].reference)
    soon_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*" + four["soon"].reference, table, re.S).group(0)
    assert "rights-overdue" not in soon_row
    assert four["later"].reference not in table and four["answered"].reference not in table
    assert "All requests (3 open)" in body
    assert "kirakira/backoffice.css" in body


def test_the_change_page_shows_the_request_and_the_members_history_and_logs_the_access(
    member, client, officer
):
    with clock.frozen_at(T):
        earlier = submit(member, Kind.RESTRICTION, scope=Scope.NOTICES)
        services.request_refuse(earlier.pk, actor=officer, ground=Ground.LAW, answer="Required by law.")
    order = place_order(member=member, sns_account_id=WRONG)
    with clock.frozen_at(T + timedelta(days=1)):
        request = correction(member, order)
    before = StaffAccessRecord.objects.count()
    with clock.frozen_at(T + timedelta(days=2)):
        response = client.get(page_url(request))
    assert response.status_code == 200
    page = text(response)
    assert member.login_id in page and member.name in page
    assert "9" in re.search(r'field-days_left.*?<div class="readonly">(.*?)</div>', page, re.S).group(1)
    history = re.search(r'<fieldset class="module" id="member-history">.*?</fieldset>', page, re.S).group(0)
    assert earlier.reference in history and request.reference not in history
    assert f'href="{page_url(earlier)}"' in history
    for form in ("complete-form", "refuse-form", "extend-form"):
        assert f'id="{form}"' in page
    [row] = StaffAccessRecord.objects.order_by("seq")[before:]
    assert row.staff == officer and row.action == "view"
    assert member.pk in set(row.subjects.values_list("subject_id", flat=True))
    assert "privacy.RightsRequest.right_value" in row.fields


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.ACCOUNTING, Role.ADMINISTRATOR])
def test_other_roles_neither_see_nor_answer_requests(member, client, role, post):
    with clock.frozen_at(T):
        request = submit(member, Kind.RESTRICTION, scope=Scope.ALL)
    client.force_login(StaffFactory(roles=[role]))
    assert client.get(LIST).status_code == 403
    assert client.get(page_url(request)).status_code in (302, 403)
    for action, data in (
        ("refuse", {"ground": "1", "answer": "No."}),
        ("extend", {"days": "3", "reason": "Busy."}),
        ("complete", {"answer": "Done."}),
    ):
        assert post(page_url(request, action), data).status_code == 403
    request.refresh_from_db()
    assert request.status == Status.RECEIVED and request.due_at == T + timedelta(days=10)
    assert mail.outbox == []
    assert StaffAccessRecord.objects.filter(action="refused").count() >= 3


def test_privacy_staff_answer_requests_too(member, client, post):
    staff = StaffFactory(roles=[Role.PRIVACY_STAFF])
    client.force_login(staff)
    with clock.frozen_at(T):
        request = submit(member, Kind.RESTRICTION, scope=Scope.ALL)
        assert post(page_url(request, "complete"), {"answer": "Stopped."}).status_code == 302
        assert client.get(DESK).status_code == 200
    request.refresh_from_db()
    assert request.status == Status.DONE and request.decided_by == staff


def test_an_export_is_not_completed_by_staff(member, client, officer, monkeypatch):
    from kirakira.privacy.rights import export

    monkeypatch.setattr(export, "build", lambda request_id: None)  # left waiting for the worker
    with clock.frozen_at(T):
        request = submit(member, Kind.EXPORT)
        page = text(client.get(page_url(request)))
    assert 'id="complete-form"' not in page
    assert 'id="refuse-form"' in page
