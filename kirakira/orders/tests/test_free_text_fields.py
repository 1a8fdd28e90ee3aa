"""An order's note, a cancellation's reason and the payer's name on a payment refuse the
invisible and control characters a name refuses, on the pages and through the API alike; the
note and the reason keep their line breaks and emoji, the payer's name is one line."""

import html
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from kirakira.api.testing import error_body
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import idempotency, lifecycle
from kirakira.orders.models import Cancellation, Order, OrderStatus, Payment
from kirakira.orders.testing import make_service, place_order
from kirakira.orders.tests.test_orders_api import _token_for

pytestmark = pytest.mark.django_db

INVISIBLE = (
    "This text contains an invisible or control character ({}, character {}) that cannot be used. "
    "Delete it and try again."
)
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧


@pytest.fixture
def member(client):
    member = MemberFactory(language="en")
    client.force_login(member)
    return member


def api(client, member, url, data):
    return client.post(
        url,
        json.dumps(data),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {_token_for(member)}",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def order_form(**overrides):
    data = {
        "platform": "instagram",
        "sns_account_id": "kira.kira",
        "photo_links": "https://photos.example.com/1.jpg",
        "note": "",
        "phone": "090-1234-5678",
        "submission": idempotency.new_form_token(),
    }
    data.update(overrides)
    return data


# --- The order's note ----------------------------------------------------------------------------


def test_a_note_with_a_right_to_left_override_is_refused_on_the_page(client, member):
    service = make_service()

    response = client.post(f"/en/orders/new/{service.pk}/", order_form(note="明るく\u202eしてください"))

    assert response.status_code == 400
    assert response.context["form"].errors["note"] == [INVISIBLE.format("U+202E", 4)]
    assert html.escape(INVISIBLE.format("U+202E", 4)) in response.content.decode()
    assert not Order.objects.exists()


def test_a_note_with_a_zero_width_space_is_refused_by_the_api(client, member):
    service = make_service()
    data = {
        "service": service.pk,
        "sns_platform": "instagram",
        "sns_account_id": "kira.kira",
        "photo_links": ["https://photos.example.com/1.jpg"],
        "note": "\u200b",
        "phone": "090-1234-5678",
    }

    body = error_body(api(client, member, "/api/v1/orders", data), 400)

    assert body["errors"] == {"note": [INVISIBLE.format("U+200B", 1)]}
    assert not Order.objects.exists()


def test_a_note_keeps_its_lines_and_a_family_emoji(client, member):
    service = make_service()

    response = client.post(
        f"/en/orders/new/{service.pk}/", order_form(note=f"家族写真です{FAMILY}\r\n\t明るめに")
    )

    assert response.status_code == 302
    assert Order.objects.get().note == f"家族写真です{FAMILY}\n\t明るめに"


# --- The cancellation's reason -------------------------------------------------------------------


def test_a_cancellation_reason_with_a_control_character_is_refused_on_the_page(client, member):
    order = place_order(member=member)

    response = client.post(
        f"/en/orders/{order.pk}/cancel/",
        {"reason": "間違えました\x1b[2J", "submission": idempotency.new_form_token()},
    )

    assert response.status_code == 400
    assert html.escape(INVISIBLE.format("U+001B", 7)) in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert not Cancellation.objects.exists()


def test_a_cancellation_reason_with_an_isolate_is_refused_by_the_api(client, member):
    order = place_order(member=member)

    response = api(client, member, f"/api/v1/orders/{order.pk}/cancel", {"reason": "\u2067wrong order"})

    assert error_body(response, 400)["errors"] == {"reason": [INVISIBLE.format("U+2067", 1)]}
    assert not Cancellation.objects.exists()


def test_a_cancellation_reason_keeps_its_lines(member):
    order = place_order(member=member)

    cancellation = lifecycle.order_cancel(order_id=order.pk, member=member, reason="一行目\r\n二行目🙏")

    assert cancellation.reason == "一行目\n二行目🙏"


# --- The payer's name on a payment ---------------------------------------------------------------


def _record(client, order, payer_name):
    return client.post(
        "/en/backoffice/orders/payment/add/",
        {
            "reference": order.reference,
            "amount_yen": str(order.price_yen),
            "received_on": timezone.localdate(clock.now()).isoformat(),
            "payer_name": payer_name,
        },
    )


@pytest.mark.parametrize(
    ("payer_name", "error"),
    [
        ("ヤマダ\u200bハナコ", INVISIBLE.format("U+200B", 4)),
        ("ヤマダ\tハナコ", INVISIBLE.format("U+0009", 4)),
        ("ヤマダ\r\nハナコ", "Write this on one line: line breaks cannot be used here."),
    ],
)
def test_a_payer_name_with_a_hidden_character_or_a_line_break_is_a_form_error(client, payer_name, error):
    order = place_order()
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING], language="en"))

    response = _record(client, order, payer_name)

    assert response.status_code == 200
    assert html.escape(error) in response.content.decode()
    assert not Payment.objects.exists()


def test_the_payment_service_refuses_a_payer_name_with_an_override():
    order = place_order()

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        lifecycle.payment_record(
            order_id=order.pk,
            amount_yen=order.price_yen,
            received_on=timezone.localdate(clock.now()),
            payer_name="\u202eコナハ ダマヤ",
            actor=StaffFactory(roles=[Role.ACCOUNTING]),
        )

    assert refused.value.message_dict == {"payer_name": [INVISIBLE.format("U+202E", 1)]}
    assert not Payment.objects.exists()
