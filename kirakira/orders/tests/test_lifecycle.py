"""Payments and the order's status lifecycle: who may do what, what each step stores and
emails, what is refused (leaving nothing behind), and two staff acting on one order at once."""

import datetime
import html

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory, at_once
from kirakira.orders import lifecycle, services
from kirakira.orders.models import Order, OrderEvent, OrderStatus, Payment, Service, SnsPlatform

PRICE = 3000
PAYER = "ヤマダ ハナコ"
Kind = OrderEvent.Kind


# --- Helpers ------------------------------------------------------------------------------------


def today() -> datetime.date:
    return timezone.localdate(clock.now())


def make_order(member, service) -> Order:
    return services.order_place(
        member=member,
        service=service,
        platform="instagram",
        sns_account_id="kira.kira",
        photo_links=["https://photos.example.com/1.jpg"],
        phone="090-1234-5678",
    )


def pay(order, actor, amount=PRICE, *, received_on=None, payer_name=PAYER) -> Payment:
    return lifecycle.payment_record(
        order_id=order.pk,
        amount_yen=amount,
        received_on=today() if received_on is None else received_on,
        payer_name=payer_name,
        actor=actor,
    )


def start(order, actor) -> Order:
    return lifecycle.order_advance(order_id=order.pk, step="start", actor=actor)


def complete(order, actor) -> Order:
    return lifecycle.order_advance(order_id=order.pk, step="complete", actor=actor)


def kinds(order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))


def status_of(order) -> str:
    return Order.objects.get(pk=order.pk).status


def set_status(order, status) -> None:
    Order.objects.filter(pk=order.pk).update(status=status)


def raw_payer_name(payment) -> bytes:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('payer_name')} FROM {quote(Payment._meta.db_table)} WHERE {quote('id')} = %s",  # noqa: S608
            [Payment._meta.pk.get_db_prep_value(payment.pk, connection)],
        )
        (value,) = cursor.fetchone()
    assert isinstance(value, bytes | memoryview), type(value)
    return bytes(value)


# --- Fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def service(db):
    service = Service.objects.create(
        name_ja="写真レタッチ",
        name_en="Photo retouch",
        name_ko="사진 보정",
        description_ja="説明",
        description_en="d",
        description_ko="d",
        price_yen=PRICE,
        photo_link_count=2,
    )
    service.platforms.set(SnsPlatform.objects.filter(code__in=["instagram", "x"]))
    return service


@pytest.fixture
def member(db):
    return MemberFactory(name="山田 花子", login_id="hanako", email="hanako@example.com")


@pytest.fixture
def order(member, service):
    return make_order(member, service)


@pytest.fixture
def accountant(db):
    return StaffFactory(roles=[Role.ACCOUNTING])


@pytest.fixture
def clerk(db):
    return StaffFactory(roles=[Role.CUSTOMER_SERVICE])


@pytest.fixture
def paid_order(order, accountant):
    pay(order, accountant)
    assert status_of(order) == OrderStatus.PAID
    return order


# --- Recording payments -------------------------------------------------------------------------


def test_a_payment_of_the_price_makes_the_order_paid(order, accountant):
    payment = pay(order, accountant)
    payment = Payment.objects.get(pk=payment.pk)
    assert payment.amount_yen == PRICE and payment.received_on == today()
    assert payment.payer_name == PAYER and payment.reverses is None
    assert payment.order_id == order.pk and payment.member_id == order.member_id
    assert payment.recorded_by_id == accountant.pk
    assert status_of(order) == OrderStatus.PAID
    assert kinds(order) == [Kind.PLACED, Kind.PAYMENT_RECORDED, Kind.PAID]
    assert OrderEvent.objects.get(order=order, kind=Kind.PAID).status == OrderStatus.PAID
    assert lifecycle.paid_total(order) == PRICE


def test_partial_payments_add_up(order, accountant):
    pay(order, accountant, 1000)
    assert status_of(order) == OrderStatus.AWAITING_PAYMENT
    pay(order, accountant, 1500)
    assert status_of(order) == OrderStatus.AWAITING_PAYMENT
    assert lifecycle.paid_total(order) == 2500
    pay(order, accountant, 500)
    assert status_of(order) == OrderStatus.PAID
    assert kinds(order) == [
        Kind.PLACED,
        Kind.PAYMENT_RECORDED,
        Kind.PAYMENT_RECORDED,
        Kind.PAYMENT_RECORDED,
        Kind.PAID,
    ]
    assert Payment.objects.filter(order=order).count() == 3


def test_an_overpayment_makes_the_order_paid_and_is_noted(order, accountant):
    pay(order, accountant, PRICE + 1)
    assert status_of(order) == OrderStatus.PAID
    assert kinds(order) == [Kind.PLACED, Kind.PAYMENT_RECORDED, Kind.PAID, Kind.OVERPAID]


def test_a_payment_on_an_order_already_paid_is_noted_as_an_overpayment(paid_order, accountant):
    pay(paid_order, accountant, 500)
    assert status_of(paid_order) == OrderStatus.PAID
    assert kinds(paid_order).count(Kind.PAID) == 1
    assert kinds(paid_order).count(Kind.OVERPAID) == 1


def assert_nothing_stored(order):
    assert not Payment.objects.exists()
    assert kinds(order) == [Kind.PLACED]
    assert status_of(order) == OrderStatus.AWAITING_PAYMENT


@pytest.mark.parametrize(
    "amount",
    [
        0,
        -1,
        -PRICE,
        1500.0,
        3000.5,
        True,
        False,
        "3000",
        None,
        pytest.param(2**31, id="over-the-integer-column"),  # a field error, not a DataError
        pytest.param(10**20, id="over-64-bits"),  # a field error, not an OverflowError
    ],
)
def test_a_bad_amount_is_refused_and_nothing_is_stored(order, accountant, amount):
    with pytest.raises(ValidationError) as excinfo:
        pay(order, accountant, amount)
    assert "amount_yen" in excinfo.value.message_dict
    assert_nothing_stored(order)


@pytest.mark.parametrize(
    "received_on",
    [
        pytest.param(lambda: today() + datetime.timedelta(days=1), id="tomorrow"),
        pytest.param(lambda: today() - datetime.timedelta(days=401), id="401-days-ago"),
        pytest.param(lambda: today() - datetime.timedelta(days=4000), id="years-ago"),
        pytest.param(lambda: clock.now(), id="a-datetime"),
        pytest.param(lambda: today().isoformat(), id="a-string"),
    ],
)
def test_a_bad_receipt_date_is_refused(order, accountant, received_on):
    with pytest.raises(ValidationError) as excinfo:
        pay(order, accountant, received_on=received_on())
    assert "received_on" in excinfo.value.message_dict
    assert_nothing_stored(order)


def test_a_receipt_date_400_days_ago_is_accepted(order, accountant):
    pay(order, accountant, received_on=today() - datetime.timedelta(days=400))
    assert Payment.objects.get().received_on == today() - datetime.timedelta(days=400)


@pytest.mark.parametrize("payer_name", ["", "   ", "ア" * 101, None, 42])
def test_a_bad_payer_name_is_refused(order, accountant, payer_name):
    with pytest.raises(ValidationError) as excinfo:
        pay(order, accountant, payer_name=payer_name)
    assert "payer_name" in excinfo.value.message_dict
    assert_nothing_stored(order)


def test_a_payer_name_of_100_characters_is_accepted(order, accountant):
    pay(order, accountant, payer_name="ア" * 100)
    assert Payment.objects.get().payer_name == "ア" * 100


def test_the_payer_name_is_encrypted_at_rest(order, accountant):
    payment = pay(order, accountant, payer_name="ヤマダ ハナコ (KIRA)")
    raw = raw_payer_name(payment)
    for text in ["ヤマダ ハナコ (KIRA)", "ヤマダ", "KIRA"]:
        encoded = text.encode("utf-8")
        assert encoded not in raw
        assert encoded.hex().encode() not in raw
    assert Payment.objects.get(pk=payment.pk).payer_name == "ヤマダ ハナコ (KIRA)"


@pytest.mark.parametrize(
    "make_actor",
    [
        pytest.param(lambda: StaffFactory(roles=[Role.CUSTOMER_SERVICE]), id="customer_service"),
        pytest.param(lambda: StaffFactory(roles=[Role.PRIVACY_STAFF]), id="privacy_staff"),
        pytest.param(lambda: StaffFactory(roles=[Role.PRIVACY_OFFICER]), id="privacy_officer"),
        pytest.param(lambda: StaffFactory(roles=[]), id="staff-without-roles"),
        pytest.param(MemberFactory, id="member"),
    ],
)
def test_only_accounting_records_payments(order, make_actor):
    actor = make_actor()
    with pytest.raises(PermissionDenied):
        pay(order, actor)
    assert_nothing_stored(order)


def test_the_member_cannot_record_a_payment_on_their_own_order(order, member):
    with pytest.raises(PermissionDenied):
        pay(order, member)
    assert_nothing_stored(order)


# --- Reversing a payment ------------------------------------------------------------------------


def test_a_reversal_is_a_negative_record_and_reopens_the_order(paid_order, accountant):
    original = Payment.objects.get()
    reversal = lifecycle.payment_reverse(payment_id=original.pk, actor=accountant)
    reversal = Payment.objects.get(pk=reversal.pk)
    assert reversal.amount_yen == -PRICE and reversal.reverses_id == original.pk
    assert reversal.order_id == paid_order.pk and reversal.recorded_by_id == accountant.pk
    assert Payment.objects.get(pk=original.pk).amount_yen == PRICE  # the original stays
    assert Payment.objects.count() == 2
    assert lifecycle.paid_total(paid_order) == 0
    assert status_of(paid_order) == OrderStatus.AWAITING_PAYMENT
    events = list(OrderEvent.objects.filter(order=paid_order))
    assert [e.kind for e in events[:3]] == [Kind.PLACED, Kind.PAYMENT_RECORDED, Kind.PAID]
    assert {e.kind for e in events[3:]} == {Kind.PAYMENT_REVERSED}
    assert events[-1].status == OrderStatus.AWAITING_PAYMENT


def test_a_reversal_that_leaves_the_price_covered_keeps_the_order_paid(paid_order, accountant):
    extra = pay(paid_order, accountant, 500)
    lifecycle.payment_reverse(payment_id=extra.pk, actor=accountant)
    assert status_of(paid_order) == OrderStatus.PAID
    assert lifecycle.paid_total(paid_order) == PRICE


def test_a_payment_cannot_be_reversed_twice(paid_order, accountant):
    original = Payment.objects.get()
    lifecycle.payment_reverse(payment_id=original.pk, actor=accountant)
    before = kinds(paid_order)
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.payment_reverse(payment_id=original.pk, actor=accountant)
    assert excinfo.value.code == "already_reversed"
    assert Payment.objects.count() == 2 and kinds(paid_order) == before


def test_a_reversal_cannot_be_reversed(paid_order, accountant):
    reversal = lifecycle.payment_reverse(payment_id=Payment.objects.get().pk, actor=accountant)
    before = kinds(paid_order)
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.payment_reverse(payment_id=reversal.pk, actor=accountant)
    assert excinfo.value.code == "not_reversible"
    assert Payment.objects.count() == 2 and kinds(paid_order) == before
    assert status_of(paid_order) == OrderStatus.AWAITING_PAYMENT


def test_only_accounting_reverses_payments(paid_order, clerk):
    with pytest.raises(PermissionDenied):
        lifecycle.payment_reverse(payment_id=Payment.objects.get().pk, actor=clerk)
    assert Payment.objects.count() == 1 and status_of(paid_order) == OrderStatus.PAID


def test_the_database_refuses_a_payment_whose_sign_does_not_match_its_kind(paid_order, accountant):
    original = Payment.objects.get()
    common = {
        "order": paid_order,
        "member_id": paid_order.member_id,
        "received_on": today(),
        "payer_name": PAYER,
        "recorded_by": accountant,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(amount_yen=100, reverses=original, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(amount_yen=-100, reverses=None, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(amount_yen=0, reverses=None, **common)
    assert Payment.objects.count() == 1


# --- Work on the order --------------------------------------------------------------------------


def test_customer_service_starts_and_completes_a_paid_order(paid_order, clerk):
    assert start(paid_order, clerk).status == OrderStatus.IN_PROGRESS
    assert status_of(paid_order) == OrderStatus.IN_PROGRESS
    assert complete(paid_order, clerk).status == OrderStatus.COMPLETED
    assert status_of(paid_order) == OrderStatus.COMPLETED
    assert kinds(paid_order)[-2:] == [Kind.STARTED, Kind.COMPLETED]
    statuses = list(
        OrderEvent.objects.filter(order=paid_order, kind__in=[Kind.STARTED, Kind.COMPLETED]).values_list(
            "status", flat=True
        )
    )
    assert statuses == [OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED]


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (OrderStatus.AWAITING_PAYMENT, "start"),
        (OrderStatus.AWAITING_PAYMENT, "complete"),
        (OrderStatus.PAID, "complete"),
        (OrderStatus.IN_PROGRESS, "start"),
        (OrderStatus.CANCELLED, "start"),
        (OrderStatus.CANCELLED, "complete"),
        (OrderStatus.COMPLETED, "start"),
        (OrderStatus.COMPLETED, "complete"),
    ],
)
def test_a_step_from_the_wrong_status_is_refused_and_nothing_changes(order, clerk, status, step):
    set_status(order, status)
    before = Order.objects.get(pk=order.pk)
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.order_advance(order_id=order.pk, step=step, actor=clerk)
    assert excinfo.value.code == "invalid_transition"
    after = Order.objects.get(pk=order.pk)
    assert after.status == status and after.updated_at == before.updated_at
    assert kinds(order) == [Kind.PLACED]


@pytest.mark.parametrize(
    "make_actor",
    [
        pytest.param(lambda: StaffFactory(roles=[Role.ACCOUNTING]), id="accounting"),
        pytest.param(lambda: StaffFactory(roles=[Role.PRIVACY_STAFF]), id="privacy_staff"),
        pytest.param(MemberFactory, id="member"),
    ],
)
def test_only_customer_service_works_on_orders(paid_order, make_actor):
    before = kinds(paid_order)
    with pytest.raises(PermissionDenied):
        start(paid_order, make_actor())
    assert status_of(paid_order) == OrderStatus.PAID and kinds(paid_order) == before


# --- Emails -------------------------------------------------------------------------------------


def assert_one_plain_email(mailoutbox, member, order):
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [member.email]
    for personal in [order.reference, member.name, member.email, member.login_id, PAYER, "kira.kira"]:
        assert personal not in message.subject
    assert order.reference in message.body


def test_paid_started_and_completed_each_email_the_member(
    order, member, accountant, clerk, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        pay(order, accountant)
    assert_one_plain_email(mailoutbox, member, order)
    with translation.override("ja"):
        assert str(Kind.PAID.label) in mailoutbox[0].body
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        start(order, clerk)
    assert_one_plain_email(mailoutbox, member, order)
    with translation.override("ja"):
        assert str(Kind.STARTED.label) in mailoutbox[0].body
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        complete(order, clerk)
    assert_one_plain_email(mailoutbox, member, order)
    with translation.override("ja"):
        assert str(Kind.COMPLETED.label) in mailoutbox[0].body


def test_a_partial_payment_sends_no_email(order, accountant, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        pay(order, accountant, 1000)
    assert mailoutbox == []


# --- The member's order page --------------------------------------------------------------------


def test_the_member_sees_the_steps_on_the_order_page(client, order, member, accountant, clerk):
    pay(order, accountant, 1000)
    pay(order, accountant, PRICE - 1000)
    start(order, clerk)
    complete(order, clerk)
    client.force_login(member)
    response = client.get(f"/orders/{order.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    with translation.override("ja"):
        labels = [
            html.escape(str(kind.label))
            for kind in [Kind.PLACED, Kind.PAYMENT_RECORDED, Kind.PAID, Kind.STARTED, Kind.COMPLETED]
        ]
    positions = [body.find(label) for label in labels]
    assert all(position >= 0 for position in positions), dict(zip(labels, positions, strict=True))
    assert positions == sorted(positions)  # in the order they happened
    assert body.count(labels[1]) >= 2  # both recorded payments


# --- Two staff at the same moment (both databases) ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_full_payments_at_once_pay_the_order_once_and_note_the_overpayment(order):
    accountants = [StaffFactory(roles=[Role.ACCOUNTING]) for _ in range(2)]
    results = at_once(*[lambda a=a: pay(order, a) for a in accountants])
    assert all(isinstance(result, Payment) for result in results), results
    assert Payment.objects.filter(order=order).count() == 2
    assert lifecycle.paid_total(order) == 2 * PRICE
    assert status_of(order) == OrderStatus.PAID
    events = kinds(order)
    assert events.count(Kind.PAYMENT_RECORDED) == 2
    assert events.count(Kind.PAID) == 1
    assert events.count(Kind.OVERPAID) == 1


@pytest.mark.django_db(transaction=True)
def test_two_clerks_starting_one_order_at_once_start_it_once(order):
    pay(order, StaffFactory(roles=[Role.ACCOUNTING]))
    clerks = [StaffFactory(roles=[Role.CUSTOMER_SERVICE]) for _ in range(2)]
    results = at_once(*[lambda c=c: start(order, c) for c in clerks])
    started = [result for result in results if isinstance(result, Order)]
    refused = [result for result in results if isinstance(result, ValidationError)]
    assert len(started) == 1 and len(refused) == 1, results
    assert refused[0].code == "invalid_transition"
    assert status_of(order) == OrderStatus.IN_PROGRESS
    assert kinds(order).count(Kind.STARTED) == 1
