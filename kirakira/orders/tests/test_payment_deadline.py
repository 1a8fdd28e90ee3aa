"""The payment deadline (振込期限) on the controllable clock: due by the end of the 7th day after
the order (Japan time), shown on the order page, in the email and the API; a reminder mailed two
days before, once; an order still unpaid after it cancelled by the schedule, with a mail; a
partly paid one left to the staff; a transfer that arrives after the cancellation refunded."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from knox.models import AuthToken

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import deadlines, lifecycle
from kirakira.orders.models import Order, OrderEvent, OrderStatus, Refund, RefundKind
from kirakira.orders.testing import REFUND_ACCOUNT, make_service, place_order, record_payment
from kirakira.schedule import jobs

pytestmark = pytest.mark.django_db

# 2026-11-30 15:00 in Tokyo.
ORDERED = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
# The end of 2026-12-07 in Tokyo.
DUE = datetime(2026, 12, 7, 14, 59, 59, tzinfo=UTC)


@pytest.fixture
def ordered(django_capture_on_commit_callbacks, mailoutbox):
    with clock.frozen_at(ORDERED):
        with django_capture_on_commit_callbacks(execute=True):
            order = place_order(member=MemberFactory(language="ja"), service=make_service(price_yen=3000))
        yield order


def run_schedule(capture) -> dict:
    with capture(execute=True):
        return deadlines.run()


def test_an_order_is_due_by_the_end_of_the_seventh_day_japan_time(ordered, mailoutbox, client):
    assert ordered.payment_due_at == DUE
    (placed,) = mailoutbox
    assert "お振込み期限: 2026年12月7日23:59" in placed.body
    client.force_login(ordered.member)
    ja = client.get(f"/orders/{ordered.pk}/").content.decode()
    assert "2026年12月7日23:59" in ja and "期限までにお支払いがない場合" in ja
    en = client.get(f"/en/orders/{ordered.pk}/").content.decode()
    assert "Please transfer by" in en and "Dec. 7, 2026" in en
    _row, key = AuthToken.objects.create(user=ordered.member)
    api = Client().get(f"/api/v1/orders/{ordered.pk}", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert api["payment_due_at"] == "2026-12-07T23:59:59+09:00"


def test_a_reminder_is_mailed_two_days_before_and_only_once(ordered, mailoutbox, django_capture_on_commit_callbacks):
    mailoutbox.clear()
    clock.advance(DUE - timedelta(days=2, minutes=1) - clock.now())
    assert run_schedule(django_capture_on_commit_callbacks) == {"reminded": 0, "cancelled": 0}
    clock.advance(timedelta(minutes=2))
    assert run_schedule(django_capture_on_commit_callbacks) == {"reminded": 1, "cancelled": 0}
    (reminder,) = mailoutbox
    assert ordered.reference not in reminder.subject
    for expected in ("お振込み期限", "2026年12月7日23:59", "3,000円", ordered.reference, "きらきら銀行"):
        assert expected in reminder.body, expected
    assert run_schedule(django_capture_on_commit_callbacks) == {"reminded": 0, "cancelled": 0}
    assert len(mailoutbox) == 1
    assert OrderEvent.objects.filter(order=ordered, kind=OrderEvent.Kind.PAYMENT_DUE_SOON).count() == 1


def test_an_unpaid_order_is_cancelled_after_its_deadline_with_a_mail(
    ordered, mailoutbox, django_capture_on_commit_callbacks, client
):
    clock.advance(DUE - clock.now())
    assert run_schedule(django_capture_on_commit_callbacks)["cancelled"] == 0  # due at this second
    mailoutbox.clear()
    clock.advance(timedelta(seconds=1))
    assert run_schedule(django_capture_on_commit_callbacks) == {"reminded": 0, "cancelled": 1}
    ordered.refresh_from_db()
    assert ordered.status == OrderStatus.CANCELLED
    assert ordered.cancellation.refund_due_yen == 0
    assert "期限" in ordered.cancellation.reason
    (mail,) = mailoutbox
    assert "期限までにお振込みが確認できなかったため" in mail.body
    client.force_login(ordered.member)
    page = client.get(f"/en/orders/{ordered.pk}/").content.decode()
    assert "Cancelled: no transfer arrived by the deadline" in page
    assert run_schedule(django_capture_on_commit_callbacks) == {"reminded": 0, "cancelled": 0}


def test_paid_and_partly_paid_orders_are_not_cancelled(django_capture_on_commit_callbacks):
    accountant = StaffFactory(roles=[Role.ACCOUNTING])
    with clock.frozen_at(ORDERED):
        paid = place_order(service=make_service(price_yen=3000))
        partly = place_order(service=make_service(price_yen=3000))
        record_payment(paid, accountant=accountant)
        record_payment(partly, amount=1000, accountant=accountant)
        clock.advance(timedelta(days=10))
        assert run_schedule(django_capture_on_commit_callbacks)["cancelled"] == 0
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert Order.objects.get(pk=partly.pk).status == OrderStatus.AWAITING_PAYMENT


def test_a_transfer_arriving_after_the_cancellation_is_refunded(
    ordered, mailoutbox, django_capture_on_commit_callbacks, client
):
    clock.advance(timedelta(days=8))
    run_schedule(django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        record_payment(ordered, accountant=StaffFactory(roles=[Role.ACCOUNTING]))
    ordered.refresh_from_db()
    assert ordered.status == OrderStatus.CANCELLED
    assert lifecycle.excess_due(ordered) == 3000
    (mail,) = mailoutbox
    assert "キャンセル後にお振込みを受け取りました" in mail.body and "3,000円" in mail.body
    client.force_login(ordered.member)
    page = client.get(f"/en/orders/{ordered.pk}/").content.decode()
    assert "A transfer arrived after the cancellation" in page and "We owe you ¥3,000" in page
    response = client.post(
        f"/en/orders/{ordered.pk}/refund-account/",
        {f"overpayment-{name}": value for name, value in REFUND_ACCOUNT.items()},
    )
    assert response.status_code == 302
    refund = Refund.objects.get(order=ordered)
    assert (refund.kind, refund.amount_yen) == (RefundKind.OVERPAYMENT, 3000)


def test_the_schedule_runs_the_deadlines_hourly_and_the_disclosure_states_them(client):
    job = jobs.job("order_payment_deadlines")
    assert job is not None and job.every == timedelta(hours=1)
    page = client.get("/en/legal/commerce/").content.decode()
    assert "Within 7 days of the day you order" in page and "cancelled automatically" in page
