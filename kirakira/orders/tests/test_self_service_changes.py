"""What a member changes themselves (issue 14, policy C7): the phone number of an open order and
the bank account of a refund still to be paid, from the order's page and through the API. A
closed order, a paid refund, another member's order and bad input change nothing.

The pages are requested under /en/, so the expected texts are the English msgids.
"""

import html
import json

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import lifecycle, services
from kirakira.orders.models import Order, OrderEvent, OrderStatus, Refund, RefundStatus
from kirakira.orders.testing import open_correction, place_order, record_payment
from kirakira.orders.tests.test_cancel_pages import raw_column
from kirakira.orders.tests.test_orders_api import _auth, _error_body, _token_for
from kirakira.privacy.rights import freeze

pytestmark = pytest.mark.django_db

OLD_PHONE = "090-1234-5678"
NEW_PHONE = "080-9876-5432"
ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "本店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}
NEW_ACCOUNT = {
    "bank_name": "さくら銀行",
    "branch": "渋谷支店",
    "account_type": "savings",
    "account_number": "7654321",
    "account_holder": "ヤマダ タロウ",
}
ACCOUNT_FIELDS = tuple(ACCOUNT)
PHONE_MESSAGE = (
    "Enter a phone number of 10 to 15 digits (digits, spaces, hyphens, brackets and a leading + only)."
)


def _staff(role):
    return StaffFactory(roles=[role])


def advance(order, *steps):
    for step in steps:
        lifecycle.order_advance(order_id=order.pk, step=step, actor=_staff(Role.CUSTOMER_SERVICE))


def order_in(status, member=None) -> Order:
    order = place_order(member=member or MemberFactory(language="en"), phone=OLD_PHONE)
    if status == OrderStatus.AWAITING_PAYMENT:
        return order
    if status == OrderStatus.CANCELLED:
        lifecycle.order_cancel(order_id=order.pk, member=order.member, reason="Changed my mind.")
        order.refresh_from_db()
        return order
    record_payment(order)
    steps = {
        OrderStatus.PAID: (),
        OrderStatus.IN_PROGRESS: ("start",),
        OrderStatus.COMPLETED: ("start", "complete"),
    }
    advance(order, *steps[status])
    order.refresh_from_db()
    assert order.status == status
    return order


def cancelled_with_refund(member=None) -> Refund:
    """A paid order cancelled: a refund of the price is due to ``ACCOUNT``."""
    order = order_in(OrderStatus.PAID, member)
    lifecycle.order_cancel(
        order_id=order.pk, member=order.member, reason="Changed my mind.", refund_account=ACCOUNT
    )
    return Refund.objects.get(order=order)


def pay_refund(refund):
    lifecycle.refund_mark_paid(
        refund_id=refund.pk,
        paid_on=timezone.localdate(clock.now()),
        amount_yen=refund.amount_yen,
        actor=_staff(Role.ACCOUNTING),
    )


def english_label(status) -> str:
    with translation.override("en"):
        return str(OrderStatus(status).label)


def found_by_phone(phone):
    return set(Order.objects.filter(phone_index=Order.phone_index_of(phone)).values_list("pk", flat=True))


def found_by_account_number(number):
    return set(
        Refund.objects.filter(account_number_index=Refund.account_number_index_of(number)).values_list(
            "pk", flat=True
        )
    )


def account_of(refund) -> dict:
    refund = Refund.objects.get(pk=refund.pk)
    return {field: getattr(refund, field) for field in ACCOUNT_FIELDS}


def kinds(order):
    return list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))


def snapshot(order):
    """What a refused change must leave as it was."""
    order = Order.objects.get(pk=order.pk)
    return order.phone, order.phone_index, order.updated_at, kinds(order)


# --- The phone number, on the order's page ------------------------------------------------------


@pytest.mark.parametrize("status", [OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.IN_PROGRESS])
def test_the_member_changes_the_phone_of_an_open_order_and_search_by_phone_finds_it(client, status):
    order = order_in(status)
    client.force_login(order.member)
    page = client.get(f"/en/orders/{order.pk}/").content.decode()
    assert "Change the phone number" in page and f'action="/en/orders/{order.pk}/phone/"' in page

    response = client.post(f"/en/orders/{order.pk}/phone/", {"phone": "０８０ー９８７６ー５４３２"})

    assert response.status_code == 302 and response["Location"] == f"/en/orders/{order.pk}/"
    order.refresh_from_db()
    assert order.phone == NEW_PHONE  # folded as when ordering
    assert order.status == status
    assert found_by_phone("08098765432") == {order.pk}
    assert found_by_phone(OLD_PHONE) == set()
    assert b"9876" not in raw_column(Order, order, "phone")
    assert kinds(order)[-1] == OrderEvent.Kind.PHONE_CHANGED
    assert OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.PHONE_CHANGED).status == status
    after = client.get(f"/en/orders/{order.pk}/").content.decode()
    assert "The phone number of this order has been changed." in after
    assert NEW_PHONE in after and "Phone number changed" in after


@pytest.mark.parametrize("status", [OrderStatus.COMPLETED, OrderStatus.CANCELLED])
def test_a_closed_orders_phone_cannot_be_changed(client, status):
    order = order_in(status)
    before = snapshot(order)
    client.force_login(order.member)
    assert "Change the phone number" not in client.get(f"/en/orders/{order.pk}/").content.decode()

    response = client.post(f"/en/orders/{order.pk}/phone/", {"phone": NEW_PHONE})

    assert response.status_code == 400
    label = english_label(status)
    assert f"This order is {label}: its phone number can no longer be changed." in html.unescape(
        response.content.decode()
    )
    assert snapshot(order) == before
    assert found_by_phone(NEW_PHONE) == set()


@pytest.mark.parametrize("phone", ["", "12345", "090-1234-5678<script>", "0" * 31, "090 1234 5678 9012 3456"])
def test_a_bad_phone_number_is_a_form_error_and_nothing_changes(client, phone):
    order = order_in(OrderStatus.PAID)
    before = snapshot(order)
    client.force_login(order.member)

    response = client.post(f"/en/orders/{order.pk}/phone/", {"phone": phone})

    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert (PHONE_MESSAGE if phone else "Enter your phone number.") in page
    assert '<details id="phone" open>' in page
    assert snapshot(order) == before


def test_the_same_number_again_changes_nothing_and_records_nothing(client):
    order = order_in(OrderStatus.PAID)
    before = snapshot(order)
    client.force_login(order.member)
    assert client.post(f"/en/orders/{order.pk}/phone/", {"phone": OLD_PHONE}).status_code == 302
    assert snapshot(order) == before


def test_another_members_order_is_404_and_unchanged(client):
    order = order_in(OrderStatus.PAID)
    before = snapshot(order)
    client.force_login(MemberFactory())
    assert client.post(f"/en/orders/{order.pk}/phone/", {"phone": NEW_PHONE}).status_code == 404
    assert snapshot(order) == before


def test_the_pages_need_a_login(client):
    order = order_in(OrderStatus.PAID)
    response = client.post(f"/en/orders/{order.pk}/phone/", {"phone": NEW_PHONE})
    assert response.status_code == 302 and "/login/" in response["Location"]
    refund = cancelled_with_refund()
    response = client.post(f"/en/orders/{refund.order_id}/refund-account/change/", {})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert account_of(refund) == ACCOUNT


def test_a_phone_under_correction_is_still_the_members_to_change_and_the_request_stays_open(client):
    order = order_in(OrderStatus.PAID)
    correction = open_correction(order, "phone")
    assert freeze.is_frozen("orders.Order", order.pk, "phone")
    client.force_login(order.member)

    assert client.post(f"/en/orders/{order.pk}/phone/", {"phone": NEW_PHONE}).status_code == 302

    order.refresh_from_db()
    assert order.phone == NEW_PHONE
    correction.refresh_from_db()
    assert correction.status == "received"  # staff close it


def test_the_service_refuses_a_stranger_and_a_non_text_phone():
    order = order_in(OrderStatus.PAID)
    with pytest.raises(ValidationError) as stranger:
        services.order_phone_change(order_id=order.pk, member=MemberFactory(), phone=NEW_PHONE)
    assert stranger.value.code == "not_found"
    with pytest.raises(ValidationError) as not_text:
        services.order_phone_change(order_id=order.pk, member=order.member, phone=["08098765432"])
    assert [error.code for error in not_text.value.error_dict["phone"]] == ["required"]
    assert Order.objects.get(pk=order.pk).phone == OLD_PHONE


# --- The refund account, on the order's page ----------------------------------------------------


def change_account(client, order_id, account):
    return client.post(
        f"/en/orders/{order_id}/refund-account/change/",
        {f"account-{name}": value for name, value in account.items()},
    )


def test_the_member_changes_the_account_of_a_due_refund_and_search_by_number_finds_it(client):
    refund = cancelled_with_refund()
    client.force_login(refund.member)
    page = html.unescape(client.get(f"/en/orders/{refund.order_id}/").content.decode())
    assert "To be transferred" in page and "Change the refund account" in page
    assert 'name="account-account_number" value="1234567"' in page  # filled with the account given
    assert "Ordinary (普通) ****4567" in page and "ヤマダ ハナコ" in page  # the account it goes to now

    response = change_account(client, refund.order_id, {**NEW_ACCOUNT, "account_number": "７６５-４３２１"})

    assert response.status_code == 302 and response["Location"] == f"/en/orders/{refund.order_id}/"
    assert account_of(refund) == NEW_ACCOUNT
    refund.refresh_from_db()
    assert (refund.status, refund.amount_yen) == (RefundStatus.DUE, 3000)
    assert found_by_account_number("7654321") == {refund.pk}
    assert found_by_account_number("1234567") == set()
    assert b"7654321" not in raw_column(Refund, refund, "account_number")
    assert kinds(refund.order)[-1] == OrderEvent.Kind.REFUND_ACCOUNT_CHANGED
    after = html.unescape(client.get(f"/en/orders/{refund.order_id}/").content.decode())
    assert "The bank account for the refund has been changed." in after
    assert "Refund account changed" in after and "Savings (貯蓄) ****4321" in after


def test_every_due_refund_of_the_order_moves_to_the_new_account(client):
    order = order_in(OrderStatus.AWAITING_PAYMENT)
    record_payment(order, amount=3500)
    lifecycle.overpayment_refund_request(order_id=order.pk, member=order.member, refund_account=ACCOUNT)
    lifecycle.order_cancel(
        order_id=order.pk, member=order.member, reason="Changed my mind.", refund_account=ACCOUNT
    )
    assert sorted(Refund.objects.filter(order=order).values_list("amount_yen", flat=True)) == [500, 3000]
    client.force_login(order.member)

    assert change_account(client, order.pk, NEW_ACCOUNT).status_code == 302

    assert [account_of(r) for r in Refund.objects.filter(order=order)] == [NEW_ACCOUNT, NEW_ACCOUNT]
    assert kinds(order).count(OrderEvent.Kind.REFUND_ACCOUNT_CHANGED) == 1


def test_a_paid_refunds_account_cannot_be_changed(client):
    refund = cancelled_with_refund()
    client.force_login(refund.member)
    page = client.get(f"/en/orders/{refund.order_id}/").content.decode()
    assert "Change the refund account" in page
    pay_refund(refund)  # meanwhile, accounting pays it
    before = kinds(refund.order)

    response = change_account(client, refund.order_id, NEW_ACCOUNT)

    assert response.status_code == 400
    assert (
        "No refund of this order is waiting to be paid, so its bank account can no longer be changed."
        in html.unescape(response.content.decode())
    )
    assert account_of(refund) == ACCOUNT
    assert found_by_account_number("7654321") == set()
    assert kinds(refund.order) == before
    assert "Change the refund account" not in client.get(f"/en/orders/{refund.order_id}/").content.decode()


def test_an_order_without_a_refund_shows_no_account_form_and_refuses_a_change(client):
    order = order_in(OrderStatus.PAID)
    client.force_login(order.member)
    assert "Change the refund account" not in client.get(f"/en/orders/{order.pk}/").content.decode()
    assert change_account(client, order.pk, NEW_ACCOUNT).status_code == 400
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("account_number", "12ab", "An account number is 4 to 17 digits."),
        ("account_holder", "山田花子", "Write the account holder in katakana or Latin letters"),
        ("account_type", "gold", "Choose ordinary, current or savings."),
        ("bank_name", "", "This field is required."),
    ],
)
def test_a_bad_account_is_a_form_error_and_nothing_changes(client, field, value, message):
    refund = cancelled_with_refund()
    before = kinds(refund.order)
    client.force_login(refund.member)

    response = change_account(client, refund.order_id, {**NEW_ACCOUNT, field: value})

    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert message in page
    assert '<details id="refund-account" open>' in page
    assert account_of(refund) == ACCOUNT
    assert kinds(refund.order) == before


def test_another_members_refund_is_404_and_unchanged(client):
    refund = cancelled_with_refund()
    client.force_login(MemberFactory())
    assert change_account(client, refund.order_id, NEW_ACCOUNT).status_code == 404
    assert account_of(refund) == ACCOUNT


def test_a_refund_account_under_correction_is_still_the_members_to_change(client):
    refund = cancelled_with_refund()
    correction = open_correction(refund, "account_number")
    client.force_login(refund.member)
    assert change_account(client, refund.order_id, NEW_ACCOUNT).status_code == 302
    assert account_of(refund) == NEW_ACCOUNT
    correction.refresh_from_db()
    assert correction.status == "received"


def test_the_changes_are_not_emailed(client, mailoutbox, django_capture_on_commit_callbacks):
    refund = cancelled_with_refund()
    order = order_in(OrderStatus.PAID, refund.member)
    client.force_login(refund.member)
    with django_capture_on_commit_callbacks(execute=True):
        assert change_account(client, refund.order_id, NEW_ACCOUNT).status_code == 302
        assert client.post(f"/en/orders/{order.pk}/phone/", {"phone": NEW_PHONE}).status_code == 302
    assert mailoutbox == []


# --- The API --------------------------------------------------------------------------------------


def patch(client, token, order_id, data):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.patch(
        f"/api/v1/orders/{order_id}",
        body,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **_auth(token),
    )


def get(client, token, order_id):
    response = client.get(f"/api/v1/orders/{order_id}", HTTP_ACCEPT_LANGUAGE="en", **_auth(token))
    assert response.status_code == 200
    return response.json()


def put(client, token, order_id, data):
    return client.put(
        f"/api/v1/orders/{order_id}/refund-account",
        json.dumps(data),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **_auth(token),
    )


@pytest.mark.parametrize("status", [OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.IN_PROGRESS])
def test_api_changes_the_phone_of_an_open_order(client, status):
    order = order_in(status)

    token = _token_for(order.member)
    response = patch(client, token, order.pk, {"phone": " 080-9876-5432 "})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == get(client, token, order.pk)  # the order as it now is
    assert (body["id"], body["phone"], body["status"]) == (str(order.pk), NEW_PHONE, status)
    assert found_by_phone(NEW_PHONE) == {order.pk}
    assert found_by_phone(OLD_PHONE) == set()
    assert kinds(order)[-1] == OrderEvent.Kind.PHONE_CHANGED


@pytest.mark.parametrize("status", [OrderStatus.COMPLETED, OrderStatus.CANCELLED])
def test_api_refuses_a_closed_order(client, status):
    order = order_in(status)
    before = snapshot(order)
    body = _error_body(patch(client, _token_for(order.member), order.pk, {"phone": NEW_PHONE}), 400)
    assert body["errors"] == {
        "non_field_errors": [
            f"This order is {english_label(status)}: its phone number can no longer be changed."
        ]
    }
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"phone": "12345"}, {"phone": [PHONE_MESSAGE]}),
        ({"phone": 9098765432}, {"phone": ["Not a valid string."]}),
        ({"phone": NEW_PHONE, "note": "x"}, {"note": ["This field is not accepted here."]}),
        ({"status": "completed"}, {"status": ["This field is not accepted here."]}),
        ([NEW_PHONE], {"non_field_errors": ["The body must be a JSON object."]}),
    ],
)
def test_api_bad_input_changes_nothing(client, data, errors):
    order = order_in(OrderStatus.PAID)
    before = snapshot(order)
    body = _error_body(patch(client, _token_for(order.member), order.pk, data), 400)
    assert body["errors"] == errors
    assert snapshot(order) == before


def test_api_a_body_without_the_phone_changes_nothing(client):
    order = order_in(OrderStatus.PAID)
    before = snapshot(order)
    response = patch(client, _token_for(order.member), order.pk, {})
    assert response.status_code == 200 and response.json()["phone"] == OLD_PHONE
    assert snapshot(order) == before


def test_api_another_members_order_is_404(client):
    order = order_in(OrderStatus.PAID)
    before = snapshot(order)
    token = _token_for(MemberFactory())
    _error_body(patch(client, token, order.pk, {"phone": NEW_PHONE}), 404)
    _error_body(patch(client, token, "not-a-uuid", {"phone": NEW_PHONE}), 404)
    assert snapshot(order) == before


def test_api_changes_the_account_of_the_due_refunds(client):
    refund = cancelled_with_refund()

    token = _token_for(refund.member)
    response = put(client, token, refund.order_id, {**NEW_ACCOUNT, "account_number": "765-4321"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == get(client, token, refund.order_id)
    assert [(r["kind"], r["status"]) for r in body["refunds"]] == [("cancellation", "due")]
    assert account_of(refund) == NEW_ACCOUNT
    assert found_by_account_number("7654321") == {refund.pk}
    assert kinds(refund.order)[-1] == OrderEvent.Kind.REFUND_ACCOUNT_CHANGED


def test_api_refuses_a_paid_refund_and_an_order_without_one(client):
    refund = cancelled_with_refund()
    pay_refund(refund)
    before = kinds(refund.order)
    token = _token_for(refund.member)
    body = _error_body(put(client, token, refund.order_id, NEW_ACCOUNT), 400)
    assert body["errors"] == {
        "non_field_errors": [
            "No refund of this order is waiting to be paid, so its bank account can no longer be changed."
        ]
    }
    assert account_of(refund) == ACCOUNT and kinds(refund.order) == before
    other = order_in(OrderStatus.PAID, refund.member)
    _error_body(put(client, token, other.pk, NEW_ACCOUNT), 400)
    assert not Refund.objects.filter(order=other).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**NEW_ACCOUNT, "account_number": "12ab"}, "account_number"),
        ({**NEW_ACCOUNT, "account_type": "gold"}, "account_type"),
        ({**NEW_ACCOUNT, "account_holder": "山田花子"}, "account_holder"),
        ({k: v for k, v in NEW_ACCOUNT.items() if k != "branch"}, "branch"),
        ({**NEW_ACCOUNT, "refund_account": ACCOUNT}, "refund_account"),
    ],
)
def test_api_bad_account_changes_nothing(client, data, field):
    refund = cancelled_with_refund()
    body = _error_body(put(client, _token_for(refund.member), refund.order_id, data), 400)
    assert list(body["errors"]) == [field]
    assert account_of(refund) == ACCOUNT


def test_api_another_members_refund_is_404(client):
    refund = cancelled_with_refund()
    _error_body(put(client, _token_for(MemberFactory()), refund.order_id, NEW_ACCOUNT), 404)
    assert account_of(refund) == ACCOUNT


def test_api_needs_a_token(client):
    refund = cancelled_with_refund()
    assert (
        client.patch(f"/api/v1/orders/{refund.order_id}", "{}", content_type="application/json").status_code
        == 401
    )
    assert (
        client.put(
            f"/api/v1/orders/{refund.order_id}/refund-account",
            json.dumps(NEW_ACCOUNT),
            content_type="application/json",
        ).status_code
        == 401
    )
    assert account_of(refund) == ACCOUNT


def test_the_schema_documents_both_changes(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    change = schema["paths"]["/api/v1/orders/{order_id}"]["patch"]
    account = schema["paths"]["/api/v1/orders/{order_id}/refund-account"]["put"]
    for operation in (change, account):
        assert {"200", "400", "401", "404"} <= set(operation["responses"])
        assert operation["summary"] and len(operation["description"]) > 40
    components = schema["components"]["schemas"]
    phone_input = components[
        change["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    ]
    # PATCH: a field left out is left as it is.
    assert set(phone_input["properties"]) == {"phone"} and "required" not in phone_input
    assert phone_input["additionalProperties"] is False
    order_input = components["OrderInputRequest"]["properties"]["phone"]
    assert phone_input["properties"]["phone"] == order_input  # the rules of ordering
    account_input = components[
        account["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    ]
    assert set(account_input["required"]) == set(ACCOUNT_FIELDS)
    assert account_input["additionalProperties"] is False
