"""The frozen state and the stop of processing (policy C7), where the data is used: a field under
correction is shown to no member of staff, revealed to nobody, left out of notices and listed
to its owner as under correction; a stop of notices stops the courtesy emails only; a stop of
the usage log takes the member out of its reader but not out of security; a stop of all
processing marks the member's rows in the work queues and refuses the work on them."""

import ast
import logging
import typing
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from kirakira.accounts.throttles import _familiar
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations.models import Consultation, Message
from kirakira.consultations.testing import open_for_member, upload
from kirakira.orders import emails as order_emails
from kirakira.orders import lifecycle
from kirakira.orders.models import Order, OrderStatus, Refund
from kirakira.orders.tasks import enqueue_order_email
from kirakira.orders.testing import make_service, place_order, record_payment
from kirakira.orders.tests.test_orders_api import _token_for
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin
from kirakira.privacy.models import StaffAccessRecord
from kirakira.privacy.rights import freeze, notices
from kirakira.privacy.rights.models import RightsRequest, Status
from kirakira.usage.models import UsageRecord

FROZEN = "under correction"
ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}
ORDERS = "/en/backoffice/orders/order/"


def correction(record, field: str) -> RightsRequest:
    """An open correction request naming ``field`` of ``record``: the field is frozen."""
    return RightsRequest.objects.create(
        member_id=getattr(record, "member_id", None) or record.data_subject_id,
        kind="correction",
        due_at=clock.now() + timedelta(days=10),
        target=record._meta.label,
        target_id=str(record.pk),
        target_field=field,
        wrong_value="x",
        right_value="y",
    )


def stop(member, scope: str) -> RightsRequest:
    return RightsRequest.objects.create(
        member=member, kind="restriction", scope=scope, due_at=clock.now() + timedelta(days=10)
    )


def refusals(**filters):
    return list(StaffAccessRecord.objects.filter(action=StaffAccessRecord.Action.REFUSED, **filters))


def log_in(client, *roles):
    staff = StaffFactory(roles=list(roles))
    client.force_login(staff)
    return staff


@pytest.fixture
def member(db):
    return MemberFactory(language="en")


@pytest.fixture
def order(member):
    return place_order(member=member, sns_account_id="frozen.account")


# --- Staff pages ----------------------------------------------------------------------------------


def test_the_change_page_shows_under_correction_instead_of_the_value(client, order):
    log_in(client, Role.CUSTOMER_SERVICE)
    change = f"{ORDERS}{order.pk}/change/"
    assert "frozen.account" in client.get(change).content.decode()
    correction(order, "sns_account_id")
    html = client.get(change).content.decode()
    assert "frozen.account" not in html
    assert FROZEN in html
    assert "****5678" in html  # the other fields as before


def test_a_field_the_viewer_does_not_see_stays_hidden_when_frozen(client, order):
    correction(order, "sns_account_id")
    log_in(client, Role.ACCOUNTING)  # accounting does not see the SNS account at all
    html = client.get(f"{ORDERS}{order.pk}/change/").content.decode()
    assert FROZEN not in html and "frozen.account" not in html


def test_the_changelist_shows_under_correction_in_one_query_per_page_and_still_sorts(client, member):
    log_in(client, Role.CUSTOMER_SERVICE)

    def listing(**params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(ORDERS, params)
        assert response.status_code == 200
        return response.content.decode(), len(queries)

    def cell(text):
        return f'<td class="field-price_yen">{text}</td>'

    cheap = place_order(member=member, service=make_service(price_yen=1111))
    correction(cheap, "price_yen")
    listing()  # the first request of a session writes what later ones do not
    html, one_row = listing()
    assert html.count(cell(FROZEN)) == 1 and "1,111" not in html and "1111" not in html

    dear, middle = (place_order(member=member, service=make_service(price_yen=p)) for p in (9999, 5555))
    correction(dear, "price_yen")
    html, three_rows = listing()
    assert html.count(cell(FROZEN)) == 2 and "9,999" not in html and "9999" not in html
    assert cell("¥5,555") in html  # the rows not under correction as always, the amount as written
    assert three_rows == one_row  # one lookup for the page, not one per row

    # Sorting by the column (its place in the list, after the checkbox) still sorts by price.
    html, _count = listing(o="3")
    positions = [html.index(o.reference) for o in (cheap, middle, dear)]
    assert positions == sorted(positions)
    html, _count = listing(o="-3")
    positions = [html.index(o.reference) for o in (dear, middle, cheap)]
    assert positions == sorted(positions)


def test_the_consultation_thread_shows_a_frozen_message_and_file_as_under_correction(client, member):
    consultation = open_for_member(member, body="間違った内容です", files=[upload("wrong-name.png")])
    message = Message.objects.get(consultation=consultation)
    attachment = message.attachments.get()
    correction(message, "body")
    correction(attachment, "filename")
    staff = log_in(client, Role.CUSTOMER_SERVICE)
    change = f"/en/backoffice/consultations/consultation/{consultation.pk}/change/"
    html = client.get(change).content.decode()
    assert "間違った内容です" not in html and "wrong-name.png" not in html
    assert html.count(FROZEN) == 2
    assert consultation.subject in html  # the rest as always

    response = client.get(
        f"/en/backoffice/consultations/consultation/{consultation.pk}/files/{attachment.pk}/"
    )
    assert response.status_code == 302 and response["Location"] == change
    (row,) = refusals(staff=staff)
    assert (row.reason, row.model) == ("under_correction", "consultations.Attachment")


def test_an_order_whose_sns_account_is_under_correction_waits(client, order):
    record_payment(order)
    correction(order, "sns_account_id")
    staff = log_in(client, Role.CUSTOMER_SERVICE)
    response = client.post(ORDERS, {"action": "start_work", "_selected_action": [str(order.pk)]}, follow=True)
    assert "the work waits until the correction is done" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    (row,) = refusals(staff=staff)
    assert (row.reason, row.object_id) == ("under_correction", str(order.pk))


class EditableOrderAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
    fields = ("sns_account_id", "note")


def test_a_frozen_field_cannot_be_edited_in_an_admin_form(order):
    site = AdminSite(name="rights_enforcement")
    site.register(Order, EditableOrderAdmin)
    model_admin = site._registry[Order]
    request = RequestFactory().get("/")
    request.user = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    form = model_admin.get_form(request, order)
    assert "sns_account_id" in form.base_fields
    correction(order, "sns_account_id")
    order = Order.objects.get(pk=order.pk)  # a fresh row, as the next request loads it
    shown = [getattr(f, "__name__", f) for f in model_admin.get_readonly_fields(request, order)]
    assert "masked_sns_account_id" in shown
    form = model_admin.get_form(request, order)
    assert "sns_account_id" not in form.base_fields and "note" in form.base_fields
    display = next(f for f in model_admin.get_readonly_fields(request, order) if callable(f))
    assert str(display(order)) == str(freeze.FROZEN)  # in the active language


# --- The reveal -----------------------------------------------------------------------------------


@pytest.fixture
def refund(order):
    record_payment(order)
    lifecycle.order_cancel(
        order_id=order.pk, member=order.member, reason="間違えて注文しました", refund_account=ACCOUNT
    )
    return Refund.objects.get(order=order)


def test_revealing_a_frozen_account_number_is_refused_and_recorded(client, refund):
    accountant = log_in(client, Role.ACCOUNTING)
    reveal = f"/en/backoffice/orders/refund/{refund.pk}/reveal/"
    correction(refund, "account_number")

    page = client.get(f"/en/backoffice/orders/refund/{refund.pk}/change/").content.decode()
    assert reveal not in page and "****4567" not in page and FROZEN in page

    response = client.post(reveal, {"reason": "返金の振込のために確認します"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "1234567" not in html
    assert "asked for this account number to be corrected" in html
    (row,) = refusals(staff=accountant)
    assert (row.reason, row.model, row.object_id) == ("under_correction", "orders.Refund", str(refund.pk))
    assert set(row.subjects.values_list("subject_id", flat=True)) == {refund.member_id}
    assert not StaffAccessRecord.objects.filter(action=StaffAccessRecord.Action.REVEAL).exists()


def test_a_refund_whose_amount_is_under_correction_is_not_marked_paid(client, refund):
    correction(refund, "amount_yen")
    staff = log_in(client, Role.ACCOUNTING)
    mark_paid = f"/en/backoffice/orders/refund/{refund.pk}/mark-paid/"
    response = client.post(
        mark_paid, {"paid_on": clock.now().date().isoformat(), "amount_yen": "3000"}, follow=True
    )
    assert "it is paid once corrected" in response.content.decode()
    assert Refund.objects.get(pk=refund.pk).status == "due"
    (row,) = refusals(staff=staff)
    assert (row.reason, row.model) == ("under_correction", "orders.Refund")


def test_the_reveal_works_again_once_the_correction_is_done(client, refund):
    request = correction(refund, "account_number")
    RightsRequest.objects.filter(pk=request.pk).update(status=Status.DONE)
    log_in(client, Role.ACCOUNTING)
    response = client.post(
        f"/en/backoffice/orders/refund/{refund.pk}/reveal/", {"reason": "返金の振込のために確認します"}
    )
    assert "1234567" in response.content.decode()


# --- Notices --------------------------------------------------------------------------------------


def test_a_notice_leaves_a_frozen_value_out(order, mailoutbox, django_capture_on_commit_callbacks):
    correction(order, "price_yen")
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_order_email(order, "order_placed")
    (email,) = mailoutbox
    assert FROZEN in email.body
    assert "3,000" not in email.body and "3000" not in email.body
    assert order.reference in email.body  # the rest as always


def test_the_order_email_prints_the_value_when_nothing_is_frozen(order, mailoutbox):
    order_emails.send_order_placed(Order.objects.get(pk=order.pk))
    assert "3,000" in mailoutbox[0].body and FROZEN not in mailoutbox[0].body


def _work_through(order, mailoutbox, capture):
    """Pay, start and complete the order; the events of the emails sent."""
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    with capture(execute=True):
        record_payment(order)
    with capture(execute=True):
        lifecycle.order_advance(order_id=order.pk, step="start", actor=staff)
    with capture(execute=True):
        lifecycle.order_advance(order_id=order.pk, step="complete", actor=staff)
    return [
        line for email in mailoutbox for line in email.body.splitlines() if line.startswith("There is news")
    ]


@pytest.mark.parametrize("scope", ["notices", "all"])
def test_a_stop_of_notices_stops_the_courtesy_emails_only(
    member, order, scope, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    stop(member, scope)
    with caplog.at_level(logging.INFO, logger="kirakira.privacy.rights"):
        news = _work_through(order, mailoutbox, django_capture_on_commit_callbacks)
    assert news == [
        "There is news about your order: Paid in full (¥3,000)",
        "There is news about your order: Work completed",
    ]
    (line,) = [r.getMessage() for r in caplog.records if r.name == "kirakira.privacy.rights"]
    assert "orders.order_event:started" in line
    assert member.email not in line and str(member.pk) not in line and order.reference not in line


def test_without_a_stop_every_step_is_emailed(order, mailoutbox, django_capture_on_commit_callbacks):
    news = _work_through(order, mailoutbox, django_capture_on_commit_callbacks)
    assert [n.rsplit(": ", 1)[1] for n in news] == ["Paid in full (¥3,000)", "Work started", "Work completed"]


def test_a_stop_of_the_usage_log_does_not_stop_notices(
    member, order, mailoutbox, django_capture_on_commit_callbacks
):
    stop(member, "usage_log")
    assert len(_work_through(order, mailoutbox, django_capture_on_commit_callbacks)) == 3


def test_a_lifted_stop_stops_nothing(member, order, mailoutbox, django_capture_on_commit_callbacks):
    RightsRequest.objects.filter(pk=stop(member, "notices").pk).update(status=Status.LIFTED)
    assert len(_work_through(order, mailoutbox, django_capture_on_commit_callbacks)) == 3


def test_a_consultation_reply_is_not_emailed_to_a_member_who_stopped_notices(
    member, mailoutbox, django_capture_on_commit_callbacks
):
    stopped = open_for_member(member)
    other = open_for_member()
    stop(member, "notices")
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    from kirakira.consultations import services

    for consultation in (stopped, other):
        with django_capture_on_commit_callbacks(execute=True):
            services.staff_reply(consultation_id=consultation.pk, actor=staff, body="お答えします。")
    assert [email.to for email in mailoutbox] == [[other.member.email]]
    # The reply itself is there to read.
    assert Message.objects.filter(consultation=stopped, is_internal=False).count() == 2


def _email_kinds_sent() -> dict[str, set[str]]:
    """Every ``email_send_once(kind=...)`` of the code base, by file; an f-string's placeholder
    is expanded from the ``Literal`` its enclosing function's argument is annotated with."""
    root = Path(__file__).resolve().parents[2]
    found: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "email_send_once(" not in (source := path.read_text()):
            continue
        tree = ast.parse(source)
        module = None
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "email_send_once"):
                    continue
                (kind,) = [k.value for k in call.keywords if k.arg == "kind"]
                label = f"{path.relative_to(root.parent)}:{call.lineno}"
                if isinstance(kind, ast.Constant):
                    found.setdefault(label, set()).add(kind.value)
                    continue
                assert isinstance(kind, ast.JoinedStr), f"{label}: the kind is neither text nor an f-string"
                module = module or import_module(
                    ".".join(path.relative_to(root.parent).with_suffix("").parts)
                )
                kinds = [""]
                for part in kind.values:
                    if isinstance(part, ast.Constant):
                        kinds = [k + part.value for k in kinds]
                        continue
                    name = part.value.id
                    (argument,) = [a for a in function.args.kwonlyargs + function.args.args if a.arg == name]
                    literal = getattr(module, argument.annotation.id)
                    assert typing.get_origin(literal) is typing.Literal, f"{label}: {name} is no Literal"
                    kinds = [k + value for k in kinds for value in typing.get_args(literal)]
                found.setdefault(label, set()).update(kinds)
    return found


def test_every_email_the_site_sends_is_classified():
    sent = _email_kinds_sent()
    assert len(sent) >= 10, sent  # the scan finds the senders
    kinds = set().union(*sent.values())
    assert {"orders.order_placed", "consultations.reply", "privacy.rights_export_ready"} <= kinds
    stepped = {key.split(":")[0] for key in notices.NOTICES if ":" in key}
    unclassified = {kind for kind in kinds if kind not in notices.NOTICES and kind not in stepped}
    assert not unclassified, f"classify these in kirakira/privacy/rights/notices.py: {sorted(unclassified)}"
    # A kind classified step by step is classified for every step it is sent for.
    steps = {key.split(":")[1] for key in notices.NOTICES if key.startswith("orders.order_event:")}
    assert steps == order_emails.EMAILED_EVENTS
    assert set(notices.NOTICES.values()) <= notices.CLASSES
    # Nothing classified that is never sent (a renamed kind would leave a stale entry).
    assert {key.split(":")[0] for key in notices.NOTICES} <= kinds


def test_only_courtesies_are_stopped(member):
    stop(member, "all")
    assert not notices.may_send(member.pk, "consultations.reply")
    assert not notices.may_send(member.pk, "orders.order_event", "started")
    assert notices.may_send(member.pk, "orders.order_event", "paid")
    assert notices.may_send(member.pk, "accounts.password_reset")
    assert notices.may_send(None, "consultations.reply")  # a visitor has no stop
    assert notices.may_send(MemberFactory().pk, "consultations.reply")


# --- The member's own view ------------------------------------------------------------------------


def test_the_member_api_lists_the_fields_under_correction_with_their_values(client, member, order, refund):
    other = place_order(member=member)
    correction(order, "sns_account_id")
    correction(refund, "account_holder")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {_token_for(member)}"}
    detail = client.get(f"/api/v1/orders/{order.pk}", **headers).json()
    assert detail["under_correction"] == ["sns_account_id"]
    assert detail["sns_account_id"] == "frozen.account"  # their own data, which they asked to fix
    assert detail["refunds"][0]["under_correction"] == ["account_holder"]
    assert detail["cancellation"]["under_correction"] == []
    listed = {o["id"]: o for o in client.get("/api/v1/orders", **headers).json()["results"]}
    assert listed[str(order.pk)]["under_correction"] == ["sns_account_id"]
    assert listed[str(other.pk)]["under_correction"] == []


def test_the_member_order_page_marks_the_field_under_correction(client, member, order):
    client.force_login(member)
    assert FROZEN not in client.get(f"/en/orders/{order.pk}/").content.decode()
    correction(order, "sns_account_id")
    html = client.get(f"/en/orders/{order.pk}/").content.decode()
    assert "frozen.account" in html
    assert f'frozen.account<span class="badge">{FROZEN}</span>' in html


# --- The usage log --------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["usage_log", "all"])
def test_the_usage_log_reader_leaves_out_a_stopped_member_but_security_still_uses_them(db, client, scope):
    stopped, other = MemberFactory(login_id="stopped-one"), MemberFactory(login_id="other-one")
    for who, address in ((stopped, "198.51.100.7"), (other, "198.51.100.8")):
        UsageRecord.objects.create(
            member=who,
            occurred_at=clock.now(),
            ip_address=address,
            method="GET",
            route="home",
            status_code=200,
        )
    stop(stopped, scope)
    log_in(client, Role.PRIVACY_OFFICER)
    html = client.get("/en/backoffice/usage/usagerecord/").content.decode()
    assert "198.51.100.8" in html and "198.51.100.7" not in html
    # The login slowdown still knows the member's own address (security is exempt).
    assert _familiar("stopped-one", "198.51.100.7")
    assert not _familiar("stopped-one", "198.51.100.8")


def test_a_stop_of_notices_leaves_the_usage_log_reader_alone(db, client):
    member = MemberFactory()
    UsageRecord.objects.create(
        member=member,
        occurred_at=clock.now(),
        ip_address="198.51.100.9",
        method="GET",
        route="home",
        status_code=200,
    )
    stop(member, "notices")
    log_in(client, Role.PRIVACY_OFFICER)
    assert "198.51.100.9" in client.get("/en/backoffice/usage/usagerecord/").content.decode()


# --- The work queues ------------------------------------------------------------------------------


def test_a_stopped_members_orders_stay_listed_marked_and_are_not_worked_on(client, member, order):
    record_payment(order)
    others = place_order()
    record_payment(others)
    stop(member, "all")
    staff = log_in(client, Role.CUSTOMER_SERVICE)

    html = client.get(ORDERS).content.decode()
    assert order.reference in html and others.reference in html
    assert "processing stopped" in html
    marked = client.get(ORDERS, {"processing_stopped": "yes"}).content.decode()
    assert order.reference in marked and others.reference not in marked
    unmarked = client.get(ORDERS, {"processing_stopped": "no"}).content.decode()
    assert order.reference not in unmarked and others.reference in unmarked

    response = client.post(
        ORDERS, {"action": "start_work", "_selected_action": [str(order.pk), str(others.pk)]}, follow=True
    )
    assert "has stopped all processing" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert Order.objects.get(pk=others.pk).status == OrderStatus.IN_PROGRESS
    (row,) = refusals(staff=staff)
    assert (row.reason, row.model, row.object_id) == ("processing_stopped", "orders.Order", str(order.pk))
    assert set(row.subjects.values_list("subject_id", flat=True)) == {member.pk}


def test_once_the_stop_is_refused_the_work_goes_on(client, member, order):
    record_payment(order)
    RightsRequest.objects.filter(pk=stop(member, "all").pk).update(status=Status.REFUSED, ground=3)
    log_in(client, Role.CUSTOMER_SERVICE)
    client.post(ORDERS, {"action": "start_work", "_selected_action": [str(order.pk)]})
    assert Order.objects.get(pk=order.pk).status == OrderStatus.IN_PROGRESS


def test_a_stop_of_notices_does_not_stop_the_work(client, member, order):
    record_payment(order)
    stop(member, "notices")
    log_in(client, Role.CUSTOMER_SERVICE)
    client.post(ORDERS, {"action": "start_work", "_selected_action": [str(order.pk)]})
    assert Order.objects.get(pk=order.pk).status == OrderStatus.IN_PROGRESS


def test_a_stopped_members_consultation_is_answered_by_the_privacy_roles_only(client, member):
    consultation = open_for_member(member, category="complaint")  # routed to customer service and the officer
    stop(member, "all")
    change = f"/en/backoffice/consultations/consultation/{consultation.pk}/change/"

    staff = log_in(client, Role.CUSTOMER_SERVICE)
    listing = client.get("/en/backoffice/consultations/consultation/", {"processing_stopped": "yes"})
    assert consultation.reference in listing.content.decode()
    assert client.get(change).status_code == 200  # still listed and seen
    response = client.post(change, {"body": "対応いたします。"}, follow=True)
    assert "has stopped all processing" in response.content.decode()
    assert Message.objects.filter(consultation=consultation).count() == 1
    (row,) = refusals(staff=staff)
    assert (row.reason, row.model) == ("processing_stopped", "consultations.Consultation")

    log_in(client, Role.PRIVACY_OFFICER)
    assert client.post(change, {"body": "ご依頼について回答します。"}).status_code == 302
    assert Message.objects.filter(consultation=consultation).count() == 2
    assert Consultation.objects.get(pk=consultation.pk).status == "answered"


def test_the_total_received_waits_while_a_payment_amount_is_under_correction(client, order):
    from kirakira.orders.testing import record_payment

    payment = record_payment(order, amount=4321)
    log_in(client, Role.ACCOUNTING)
    change = f"{ORDERS}{order.pk}/change/"
    assert "4,321" in client.get(change).content.decode() or "4321" in client.get(change).content.decode()
    correction(payment, "amount_yen")
    html = client.get(change).content.decode()
    assert "4,321" not in html and "4321" not in html
    assert FROZEN in html
