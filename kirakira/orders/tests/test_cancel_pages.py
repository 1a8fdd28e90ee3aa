"""A member cancels an order from its page: with no refund when nothing was paid, and with a
refund of everything paid (to a bank account stored encrypted) when money was received.

The pages are requested under /en/, so the expected texts are the English msgids.
"""

import html

import pytest
from django.db import connection
from django.utils import timezone

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import idempotency, lifecycle, services
from kirakira.orders.models import (
    Cancellation,
    Order,
    OrderEvent,
    OrderStatus,
    Refund,
    RefundStatus,
    Service,
    SnsPlatform,
)

PRICE = 3000
REASON = "I ordered the wrong service."
ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "本店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}
BANK_FIELDS = ("bank_name", "branch", "account_type", "account_number", "account_holder")


def make_order(member) -> Order:
    service = Service.objects.create(
        name_ja="写真レタッチ",
        name_en="Photo retouch",
        name_ko="사진 보정",
        description_ja="説明",
        description_en="Description",
        description_ko="설명",
        price_yen=PRICE,
        photo_link_count=1,
    )
    service.platforms.set(SnsPlatform.objects.filter(code="instagram"))
    return services.order_place(
        member=member,
        service=service,
        platform="instagram",
        sns_account_id="kira.kira",
        photo_links=["https://photos.example.com/1.jpg"],
        phone="090-1234-5678",
    )


def pay(order, amount=PRICE):
    lifecycle.payment_record(
        order_id=order.pk,
        amount_yen=amount,
        received_on=timezone.localdate(clock.now()),
        payer_name="ヤマダ ハナコ",
        actor=StaffFactory(roles=[Role.ACCOUNTING]),
    )


def advance(order, step):
    lifecycle.order_advance(order_id=order.pk, step=step, actor=StaffFactory(roles=[Role.CUSTOMER_SERVICE]))


def detail_url(order):
    return f"/en/orders/{order.pk}/"


def cancel_url(order):
    return f"/en/orders/{order.pk}/cancel/"


def send_cancel(client, order, data):
    """The cancel form as sent from the order's page, with its one-time token."""
    return client.post(cancel_url(order), {"submission": idempotency.new_form_token(), **data})


def raw_column(model, obj, column) -> bytes:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(model._meta.db_table)} WHERE {quote('id')} = %s",  # noqa: S608
            [model._meta.pk.get_db_prep_value(obj.pk, connection)],
        )
        (value,) = cursor.fetchone()
    assert isinstance(value, bytes | memoryview), type(value)
    return bytes(value)


def unchanged(order, status):
    assert Order.objects.get(pk=order.pk).status == status
    assert not Cancellation.objects.filter(order=order).exists()
    assert not Refund.objects.filter(order=order).exists()
    assert not OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.CANCELLED).exists()


@pytest.fixture
def member(client, db):
    member = MemberFactory(login_id="hanako", email="hanako@example.com", language="en")
    client.force_login(member)
    return member


@pytest.fixture
def order(member):
    return make_order(member)


# --- The form on the order page ---------------------------------------------------------------


def test_an_unpaid_order_shows_the_form_without_bank_fields(client, order):
    body = client.get(detail_url(order)).content.decode()

    assert "Cancel this order" in body
    assert f'action="/en/orders/{order.pk}/cancel/"' in body
    assert 'name="reason"' in body
    for field in BANK_FIELDS:
        assert f'name="{field}"' not in body


def test_a_paid_order_asks_for_the_refund_account(client, order):
    pay(order)

    body = client.get(detail_url(order)).content.decode()

    for field in ("reason", *BANK_FIELDS):
        assert f'name="{field}"' in body
    assert "We will refund the amount you have paid" in body
    assert 'value="savings"' in body


@pytest.mark.parametrize("step", ["complete", "cancelled"])
def test_a_finished_order_has_no_cancel_form(client, order, step):
    if step == "complete":
        pay(order)
        advance(order, "start")
        advance(order, "complete")
    else:
        lifecycle.order_cancel(order_id=order.pk, member=order.member, reason=REASON)

    body = client.get(detail_url(order)).content.decode()

    assert "Cancel this order" not in body
    assert 'name="reason"' not in body


# --- Cancelling ---------------------------------------------------------------------------------


def test_cancelling_an_unpaid_order_needs_no_refund_and_emails_the_member(
    client, member, order, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send_cancel(client, order, {"reason": REASON})

    assert response.status_code == 302
    assert response["Location"] == detail_url(order)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    cancellation = Cancellation.objects.get(order=order)
    assert cancellation.reason == REASON
    assert cancellation.status_before == OrderStatus.AWAITING_PAYMENT
    assert cancellation.refund_due_yen == 0
    assert not Refund.objects.exists()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [member.email]
    assert order.reference in mailoutbox[0].body

    body = client.get(response["Location"]).content.decode()
    assert "Your order has been cancelled." in body
    assert "Cancel this order" not in body


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.IN_PROGRESS])
def test_cancelling_after_payment_makes_a_refund_of_the_amount_paid_due(
    client, member, order, status, mailoutbox, django_capture_on_commit_callbacks
):
    pay(order)
    if status == OrderStatus.IN_PROGRESS:
        advance(order, "start")
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = send_cancel(client, order, {"reason": REASON, **ACCOUNT, "account_number": "123-4567"})

    assert response.status_code == 302, response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    cancellation = Cancellation.objects.get(order=order)
    assert cancellation.status_before == status
    assert cancellation.refund_due_yen == PRICE
    refund = Refund.objects.get(order=order)
    assert refund.amount_yen == PRICE and refund.status == RefundStatus.DUE
    assert refund.member == member
    assert {field: getattr(refund, field) for field in BANK_FIELDS} == {
        **ACCOUNT,
        "account_number": "1234567",
    }
    for field in BANK_FIELDS:
        raw = raw_column(Refund, refund, field)
        plain = getattr(refund, field).encode()
        assert plain not in raw and plain.hex().encode() not in raw
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [member.email]

    body = client.get(response["Location"]).content.decode()
    assert "We will transfer the refund of 3,000 yen to your account." in body


def test_a_partly_paid_order_refunds_what_was_paid(client, order):
    pay(order, 1000)

    response = send_cancel(client, order, {"reason": REASON, **ACCOUNT})

    assert response.status_code == 302
    assert Refund.objects.get(order=order).amount_yen == 1000


@pytest.mark.parametrize("step", ["complete", "cancelled"])
def test_a_completed_or_cancelled_order_cannot_be_cancelled(client, order, step):
    pay(order)
    if step == "complete":
        advance(order, "start")
        advance(order, "complete")
        expected_status, label = OrderStatus.COMPLETED, "Completed"
    else:
        lifecycle.order_cancel(order_id=order.pk, member=order.member, reason=REASON, refund_account=ACCOUNT)
        expected_status, label = OrderStatus.CANCELLED, "Cancelled"
    cancellations, refunds, events = (
        Cancellation.objects.count(),
        Refund.objects.count(),
        OrderEvent.objects.count(),
    )

    response = send_cancel(client, order, {"reason": REASON, **ACCOUNT})

    assert response.status_code == 400
    assert f"This order is {label} and can no longer be cancelled." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == expected_status
    assert (Cancellation.objects.count(), Refund.objects.count(), OrderEvent.objects.count()) == (
        cancellations,
        refunds,
        events,
    )


# --- Invalid input ------------------------------------------------------------------------------


def test_a_reason_is_required(client, order):
    response = send_cancel(client, order, {"reason": "   "})

    assert response.status_code == 400
    assert "Tell us why you are cancelling." in response.content.decode()
    unchanged(order, OrderStatus.AWAITING_PAYMENT)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("account_number", "12AB567", "An account number is 4 to 17 digits."),
        ("account_number", "123", "An account number is 4 to 17 digits."),
        ("account_holder", "山田花子", "Write the account holder in katakana or Latin letters"),
        (
            "account_holder",
            "<script>alert(1)</script>",
            "Write the account holder in katakana or Latin letters",
        ),
        ("bank_name", "<b>Bank</b>", "Use at most 50 ordinary characters."),
        ("account_type", "gold", "Choose ordinary, current or savings."),
        ("branch", "", "This field is required."),
    ],
)
def test_invalid_refund_details_are_shown_on_their_field(client, order, field, value, message):
    pay(order)

    response = send_cancel(client, order, {"reason": REASON, **ACCOUNT, field: value})

    assert response.status_code == 400
    body = response.content.decode()
    assert html.escape(message) in body
    assert "<script>alert(1)</script>" not in body
    form = response.context["cancel_form"]
    assert list(form.errors) == [field]
    unchanged(order, OrderStatus.PAID)


def test_a_missing_reason_and_wrong_bank_details_are_shown_together(client, order):
    # Seen: the missing reason alone was shown, hiding the wrong account number and holder.
    pay(order)

    response = send_cancel(
        client, order, {"reason": "", **ACCOUNT, "account_number": "12AB", "account_holder": "山田花子"}
    )

    assert response.status_code == 400
    form = response.context["cancel_form"]
    assert set(form.errors) == {"reason", "account_number", "account_holder"}
    body = response.content.decode()
    for message in (
        "Tell us why you are cancelling.",
        "An account number is 4 to 17 digits.",
        "Write the account holder in katakana or Latin letters",
    ):
        assert html.escape(message) in body
    unchanged(order, OrderStatus.PAID)


def test_missing_refund_details_when_money_was_paid_are_refused(client, order):
    pay(order)

    response = send_cancel(client, order, {"reason": REASON})

    assert response.status_code == 400
    assert set(response.context["cancel_form"].errors) == set(BANK_FIELDS)
    unchanged(order, OrderStatus.PAID)


def test_a_payment_arriving_after_the_page_was_shown_asks_for_the_account(client, order):
    form_without_bank = {"reason": REASON}
    pay(order)

    # The view builds its form from the order as it is now, so the bank fields are required.
    response = send_cancel(client, order, form_without_bank)

    assert response.status_code == 400
    unchanged(order, OrderStatus.PAID)


# --- Isolation ----------------------------------------------------------------------------------


def test_another_members_order_is_not_found(client, member):
    other_order = make_order(MemberFactory())

    response = send_cancel(client, other_order, {"reason": REASON})

    assert response.status_code == 404
    unchanged(other_order, OrderStatus.AWAITING_PAYMENT)


def test_a_visitor_must_log_in(client, db):
    order = make_order(MemberFactory())

    response = send_cancel(client, order, {"reason": REASON})

    assert response.status_code == 302
    assert "login" in response["Location"]
    unchanged(order, OrderStatus.AWAITING_PAYMENT)


def test_get_is_not_allowed(client, order):
    assert client.get(cancel_url(order)).status_code == 405
