"""Progress of the work: the estimated completion (business days, Mon–Fri) before payment, once
paid and once started, on the order page (ja, en, ko) and in the API; what was delivered, written
by the staff when they complete the work, on the order page, in the completion email's body (not
its subject) and in the API; bad delivery notes refused with clear messages."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext, ngettext
from knox.models import AuthToken

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import lifecycle, progress
from kirakira.orders.models import DELIVERY_NOTE_MAX, Order, OrderStatus
from kirakira.orders.testing import make_service, open_correction, place_order, record_payment

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=TOKYO)  # a Friday
NOTE = "Retouched 3 photos.\nResults: https://results.example.com/kira"


@pytest.fixture(autouse=True)
def _start_days(settings):
    settings.SERVICE_START_BUSINESS_DAYS = 3


@pytest.fixture
def staff():
    return StaffFactory(roles=[Role.CUSTOMER_SERVICE])


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def api_order(client, order) -> dict:
    _row, token = AuthToken.objects.create(user=order.member)
    response = client.get(f"/api/v1/orders/{order.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    return response.json()


# --- Business days --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 12, 4), 1, date(2026, 12, 7)),  # Friday + 1: Monday
        (date(2026, 12, 5), 1, date(2026, 12, 7)),  # Saturday + 1: Monday
        (date(2026, 12, 6), 5, date(2026, 12, 11)),  # Sunday + 5: Friday
        (date(2026, 12, 2), 5, date(2026, 12, 9)),  # Wednesday + 5: Wednesday
        (date(2026, 12, 4), 8, date(2026, 12, 16)),
        (date(2026, 12, 4), 0, date(2026, 12, 4)),
    ],
)
def test_business_days_skip_saturdays_and_sundays(start, count, expected):
    assert progress.add_business_days(start, count) == expected


# --- The estimate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "prefix"), [("ja", ""), ("en", "/en"), ("ko", "/ko")])
def test_before_payment_the_page_says_how_many_business_days_after_the_transfer(client, language, prefix):
    order = place_order(service=make_service(work_days=5))
    client.force_login(order.member)
    text = page_text(client.get(f"{prefix}/orders/{order.pk}/"))
    with translation.override(language):
        expected = ngettext(
            "Estimated completion: about %(days)s business day (Mon–Fri) after your transfer arrives.",
            "Estimated completion: about %(days)s business days (Mon–Fri) after your transfer arrives.",
            8,
        ) % {"days": 8}
    assert expected in text
    assert {"ja": "約8営業日後", "en": "about 8 business days (Mon–Fri)", "ko": "약 8영업일"}[
        language
    ] in text
    data = api_order(client, order)
    assert (data["estimated_business_days"], data["estimated_completion_on"]) == (8, None)


@pytest.mark.parametrize(
    ("language", "prefix", "shown"),
    [("ja", "", "2026年12月16日"), ("en", "/en", "Dec. 16, 2026"), ("ko", "/ko", "2026년 12월 16일")],
)
def test_once_paid_the_page_gives_a_date(client, language, prefix, shown):
    with clock.frozen_at(FRIDAY):
        order = place_order(service=make_service(work_days=5))
        record_payment(order)
        client.force_login(order.member)
        text = page_text(client.get(f"{prefix}/orders/{order.pk}/"))
        data = api_order(client, order)
    # Friday + 3 business days to start + 5 of work = Wednesday 16 December.
    assert f'<time datetime="2026-12-16">{shown}</time>' in text
    with translation.override(language):
        assert gettext("Estimated completion") in text
    assert (data["estimated_completion_on"], data["estimated_business_days"]) == ("2026-12-16", None)


def test_once_started_the_estimate_counts_from_the_start(client, staff):
    with clock.frozen_at(FRIDAY):
        order = place_order(service=make_service(work_days=2))
        record_payment(order)
    with clock.frozen_at(datetime(2026, 12, 7, 9, 0, tzinfo=TOKYO)):  # Monday
        lifecycle.order_advance(order_id=order.pk, step="start", actor=staff)
        client.force_login(order.member)
        text = page_text(client.get(f"/en/orders/{order.pk}/"))
        data = api_order(client, order)
    assert '<time datetime="2026-12-07">Dec. 7, 2026</time>' in text  # started
    assert '<time datetime="2026-12-09">Dec. 9, 2026</time>' in text  # Monday + 2
    assert data["estimated_completion_on"] == "2026-12-09"


def test_a_cancelled_order_has_no_estimate(client):
    order = place_order()
    lifecycle.order_cancel(order_id=order.pk, member=order.member, reason="changed my mind")
    client.force_login(order.member)
    assert 'id="progress"' not in client.get(f"/orders/{order.pk}/").content.decode()
    data = api_order(client, order)
    assert (data["estimated_completion_on"], data["estimated_business_days"], data["delivery_note"]) == (
        None,
        None,
        "",
    )


def test_the_api_list_gives_each_orders_estimate(client):
    member = MemberFactory()
    with clock.frozen_at(FRIDAY):
        paid = place_order(member=member, service=make_service(work_days=5))
        record_payment(paid)
        place_order(member=member, service=make_service(work_days=1))
        _row, token = AuthToken.objects.create(user=member)
        rows = client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {token}").json()["results"]
    found = {row["id"]: (row["estimated_completion_on"], row["estimated_business_days"]) for row in rows}
    assert found[str(paid.pk)] == ("2026-12-16", None)
    assert sorted(found.values(), key=str) == sorted([("2026-12-16", None), (None, 4)], key=str)


# --- What was delivered ---------------------------------------------------------------------------


def _completed(staff, note=NOTE, django_capture_on_commit_callbacks=None):
    order = place_order(service=make_service(work_days=5))
    record_payment(order)
    lifecycle.order_advance(order_id=order.pk, step="start", actor=staff)
    lifecycle.order_advance(order_id=order.pk, step="complete", actor=staff, delivery_note=note)
    return Order.objects.get(pk=order.pk)


def test_the_delivery_note_reaches_the_page_the_email_body_and_the_api(
    client, staff, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = _completed(staff)
    assert order.status == OrderStatus.COMPLETED and order.delivery_note == NOTE
    client.force_login(order.member)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert "お届けした内容" in html
    assert "Retouched 3 photos." in html
    assert '<a href="https://results.example.com/kira" rel="nofollow">' in html
    completion = [m for m in mailoutbox if "Retouched 3 photos." in m.body]
    assert len(completion) == 1
    assert "https://results.example.com/kira" in completion[0].body
    assert "Retouched" not in completion[0].subject and "results.example" not in completion[0].subject
    assert api_order(client, order)["delivery_note"] == NOTE


def test_a_delivery_note_under_correction_is_left_out_of_the_email(
    staff, mailoutbox, django_capture_on_commit_callbacks
):
    order = place_order()
    record_payment(order)
    lifecycle.order_advance(order_id=order.pk, step="start", actor=staff)
    open_correction(order, "delivery_note")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.order_advance(order_id=order.pk, step="complete", actor=staff, delivery_note=NOTE)
    assert mailoutbox and not any("Retouched" in m.body for m in mailoutbox)


@pytest.mark.parametrize(
    ("note", "language", "message"),
    [
        (
            "x" * (DELIVERY_NOTE_MAX + 1),
            "en",
            f"What was delivered is at most {DELIVERY_NOTE_MAX:,} characters long.",
        ),
        ("x" * (DELIVERY_NOTE_MAX + 1), "ja", f"納品内容は{DELIVERY_NOTE_MAX}文字以内で入力してください。"),
        ("x" * (DELIVERY_NOTE_MAX + 1), "ko", f"납품 내용은 {DELIVERY_NOTE_MAX}자 이내로 입력해 주십시오."),
    ],
)
def test_a_too_long_delivery_note_is_refused_in_the_staff_language(staff, note, language, message):
    order = place_order()
    record_payment(order)
    lifecycle.order_advance(order_id=order.pk, step="start", actor=staff)
    with translation.override(language), pytest.raises(ValidationError) as caught:
        lifecycle.order_advance(order_id=order.pk, step="complete", actor=staff, delivery_note=note)
    assert caught.value.message_dict["delivery_note"][0].replace(",", "") == message.replace(",", "")
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS and not order.delivery_note


@pytest.mark.parametrize("bad", ["done\u202eevil", "done\x00", "zero\u200bwidth"])
def test_control_and_invisible_characters_are_refused(staff, bad):
    with pytest.raises(ValidationError) as caught:
        progress.clean_delivery_note(bad)
    assert caught.value.message_dict["delivery_note"]


def test_a_delivery_note_is_trimmed_and_keeps_its_lines():
    assert progress.clean_delivery_note("  one\r\ntwo  ") == "one\ntwo"


def test_the_delivery_note_is_stored_encrypted(staff):
    from django.db import connection

    order = _completed(staff)
    with connection.cursor() as cursor:
        cursor.execute("SELECT delivery_note FROM orders_order WHERE reference = %s", [order.reference])
        stored = bytes(cursor.fetchone()[0])
    assert Order.objects.get(pk=order.pk).delivery_note == NOTE
    assert stored and b"Retouched" not in stored and b"results.example" not in stored


# --- The back office ------------------------------------------------------------------------------


def _in_progress(staff):
    order = place_order()
    record_payment(order)
    lifecycle.order_advance(order_id=order.pk, step="start", actor=staff)
    return order


def test_completing_in_the_back_office_asks_what_was_delivered(client, staff):
    order = _in_progress(staff)
    client.force_login(staff)
    selected = {"action": "complete_work", "_selected_action": [str(order.pk)]}
    page = client.post("/en/backoffice/orders/order/", selected)
    assert page.status_code == 200
    assert f'name="order-{order.pk}-delivery_note"' in page.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS
    # Sent without a note: refused, with the reason, and nothing completed.
    page = client.post("/en/backoffice/orders/order/", {**selected, "apply": "1"})
    assert "Write what was delivered." in page.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS
    page = client.post(
        "/backoffice/orders/order/",
        {**selected, "apply": "1", f"order-{order.pk}-delivery_note": "x" * (DELIVERY_NOTE_MAX + 1)},
    )
    assert "納品内容は" in page.content.decode()
    response = client.post(
        "/en/backoffice/orders/order/",
        {**selected, "apply": "1", f"order-{order.pk}-delivery_note": NOTE},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.delivery_note) == (OrderStatus.COMPLETED, NOTE)
    html = client.get(f"/en/backoffice/orders/order/{order.pk}/change/").content.decode()
    assert "Retouched 3 photos." in html


def test_accounting_does_not_see_the_delivery_note(client, staff):
    order = _completed(staff)
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    html = client.get(f"/en/backoffice/orders/order/{order.pk}/change/").content.decode()
    assert "Retouched 3 photos." not in html


def test_the_service_form_sets_the_work_days(client):
    client.force_login(StaffFactory(roles=[Role.ADMINISTRATOR]))
    html = client.get("/en/backoffice/orders/service/add/").content.decode()
    assert 'name="work_days"' in html and 'value="5"' in html
