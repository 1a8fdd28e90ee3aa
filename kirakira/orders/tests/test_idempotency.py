"""Orders are placed once: ``POST /api/v1/orders`` with an ``Idempotency-Key``, and the order and
cancel forms with their one-time token, however often and however concurrently they are sent.

Observed before: five concurrent ``POST /api/v1/orders`` with one ``Idempotency-Key`` made five
orders; the order form posted three times with one CSRF token made three orders.
"""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from kirakira.common import clock
from kirakira.common.testing import MemberFactory, at_once
from kirakira.orders import idempotency, lifecycle
from kirakira.orders.models import Cancellation, IdempotencyKey, Order, OrderStatus, Refund
from kirakira.orders.testing import make_service, place_order, record_payment
from kirakira.orders.tests.test_orders_api import ORDERS_URL, _error_body, _token_for

REASON = "I ordered the wrong service."
ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "本店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}
TOKEN_INPUT = re.compile(r'<input type="hidden" name="submission" value="([^"]+)"')
EXPIRED = "This form has expired. Please check it and send it again."
REPLAYED_HEADER = "Idempotent-Replayed"


def body_for(service, **overrides):
    data = {
        "service": service.pk,
        "sns_platform": "instagram",
        "sns_account_id": "kira.kira_01",
        "photo_links": ["https://photos.example.com/1.jpg"],
        "note": "Brighter, please.",
        "phone": "090-1234-5678",
    }
    data.update(overrides)
    return data


def post_order(client, token, data, key=None, raw=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": "en"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(ORDERS_URL, raw or json.dumps(data), content_type="application/json", **headers)


@pytest.fixture
def member(db):
    return MemberFactory(language="en")


@pytest.fixture
def token(member):
    return _token_for(member)


@pytest.fixture
def service(db):
    return make_service()


# --- POST /api/v1/orders with an Idempotency-Key ------------------------------------------------


def test_a_retry_with_the_same_key_answers_the_first_order_and_places_no_second(
    client, member, token, service, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = post_order(client, token, body_for(service), key="order-2026-11-30-a")
        again = post_order(client, token, body_for(service), key="order-2026-11-30-a")

    assert first.status_code == 201, first.content
    assert again.status_code == 201, again.content
    assert again.json() == first.json()
    assert REPLAYED_HEADER not in first
    assert again[REPLAYED_HEADER] == "true"
    assert first["Location"] == again["Location"] == f"{ORDERS_URL}/{first.json()['id']}"
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.get().order_id == Order.objects.get().pk
    assert len(mailoutbox) == 1  # one order, one confirmation


def test_a_retry_answers_the_orders_current_state(client, token, service):
    first = post_order(client, token, body_for(service), key="k1").json()
    record_payment(Order.objects.get(pk=first["id"]))

    again = post_order(client, token, body_for(service), key="k1")

    assert again.status_code == 201
    body = again.json()
    assert body["id"] == first["id"]
    assert body["status"] == OrderStatus.PAID
    assert body["paid_yen"] == service.price_yen
    assert body["payment"] is None


def test_the_same_key_with_another_body_is_422_and_places_nothing(client, token, service):
    post_order(client, token, body_for(service), key="k1")

    response = post_order(client, token, body_for(service, note="Darker, please."), key="k1")

    body = _error_body(response, 422)
    assert list(body["errors"]) == ["Idempotency-Key"]
    assert "different request" in body["errors"]["Idempotency-Key"][0]
    assert Order.objects.count() == 1


def test_spacing_and_key_order_do_not_make_another_request(client, token, service):
    data = body_for(service)
    first = post_order(client, token, data, key="k1")
    reordered = json.dumps(dict(reversed(list(data.items()))), indent=4)

    again = post_order(client, token, None, key="k1", raw=reordered)

    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1


def test_without_a_key_every_request_is_a_new_order(client, token, service):
    post_order(client, token, body_for(service))
    post_order(client, token, body_for(service))
    assert Order.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


def test_keys_are_each_members_own(client, token, service):
    other_token = _token_for(MemberFactory())

    mine = post_order(client, token, body_for(service), key="shared-key")
    theirs = post_order(client, other_token, body_for(service, note="Other."), key="shared-key")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert REPLAYED_HEADER not in theirs
    assert Order.objects.count() == 2


def test_a_key_is_honoured_for_24_hours_then_free_again(client, token, service):
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with clock.frozen_at(start):
        first = post_order(client, token, body_for(service), key="k1").json()
        clock.advance(timedelta(hours=24) - timedelta(seconds=1))
        within = post_order(client, token, body_for(service), key="k1")
        clock.advance(timedelta(seconds=1))
        after = post_order(client, token, body_for(service), key="k1")

    assert within.json()["id"] == first["id"]
    assert after.status_code == 201 and REPLAYED_HEADER not in after
    assert after.json()["id"] != first["id"]
    assert Order.objects.count() == 2
    assert str(IdempotencyKey.objects.get().order_id) == after.json()["id"]  # the old row went


def test_a_failed_request_spends_no_key(client, token, service):
    refused = post_order(client, token, body_for(service, phone="12345"), key="k1")
    _error_body(refused, 400)
    assert not IdempotencyKey.objects.exists()

    corrected = post_order(client, token, body_for(service), key="k1")

    assert corrected.status_code == 201 and REPLAYED_HEADER not in corrected
    assert Order.objects.count() == 1


def test_an_unconfirmed_member_spends_no_key(client, service):
    member = MemberFactory(email_confirmed_at=None)
    token = _token_for(member)

    _error_body(post_order(client, token, body_for(service), key="k1"), 403)
    member.email_confirmed_at = clock.now()
    member.save(update_fields=["email_confirmed_at"])
    response = post_order(client, token, body_for(service), key="k1")

    assert response.status_code == 201 and REPLAYED_HEADER not in response


@pytest.mark.parametrize(
    "key",
    ["", " ", "two words", "x" * 256, "ключ", "キー", "tab\there", " leading", "trailing ", "\x7f"],
)
def test_a_malformed_key_is_400_and_places_nothing(client, token, service, key):
    body = _error_body(post_order(client, token, body_for(service), key=key), 400)

    assert list(body["errors"]) == ["Idempotency-Key"]
    assert not Order.objects.exists()


def test_a_key_of_255_visible_characters_is_taken(client, token, service):
    key = ("!~" + "0123456789abcdef" * 16)[:255]
    assert len(key) == 255

    assert post_order(client, token, body_for(service), key=key).status_code == 201
    assert post_order(client, token, body_for(service), key=key)[REPLAYED_HEADER] == "true"


def test_neither_the_key_nor_the_request_is_stored_as_text(client, token, service):
    key = "alice-order-kira.kira_01"
    post_order(client, token, body_for(service), key=key)

    row = IdempotencyKey.objects.values().get()
    stored = " ".join(str(value) for value in row.values())
    assert key not in stored and "kira.kira_01" not in stored and "090-1234-5678" not in stored
    assert re.fullmatch(r"[0-9a-f]{64}", row["key_digest"])
    assert re.fullmatch(r"[0-9a-f]{64}", row["request_digest"])
    assert row["scope"] == IdempotencyKey.Scope.ORDER_API


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_requests_with_one_key_place_one_order():
    member = MemberFactory()
    token = _token_for(member)
    service = make_service()

    responses = at_once(
        *[lambda: post_order(Client(), token, body_for(service), key="one-key") for _ in range(5)]
    )

    assert all(not isinstance(response, Exception) for response in responses), responses
    assert [response.status_code for response in responses] == [201] * 5, [r.content for r in responses]
    assert len({response.json()["id"] for response in responses}) == 1
    assert sum(REPLAYED_HEADER in response for response in responses) == 4
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_and_different_bodies_place_one_order():
    member = MemberFactory()
    token = _token_for(member)
    service = make_service()
    notes = ["first", "first", "second", "third"]

    responses = at_once(
        *[lambda n=n: post_order(Client(), token, body_for(service, note=n), key="one-key") for n in notes]
    )

    order = Order.objects.get()
    for note, response in zip(notes, responses, strict=True):
        if note == order.note:
            assert response.status_code == 201 and response.json()["id"] == str(order.pk)
        else:
            _error_body(response, 422)


# --- The keys' lifetime -------------------------------------------------------------------------


def test_prune_deletes_only_the_keys_no_longer_honoured(member, service):
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with clock.frozen_at(start):
        for number in range(5):
            idempotency.order_place_once(
                member=member,
                scope=IdempotencyKey.Scope.ORDER_API,
                key=f"old-{number}",
                request="r",
                service=service,
                platform="instagram",
                sns_account_id="kira.kira",
                photo_links=[],
                phone="090-1234-5678",
            )
        clock.advance(timedelta(hours=1))
        fresh = place_order(member=member, service=service)
        IdempotencyKey.objects.create(
            member=member,
            scope=IdempotencyKey.Scope.ORDER_FORM,
            key_digest="f" * 64,
            request_digest="r",
            order=fresh,
        )
        clock.advance(timedelta(hours=23))

        assert idempotency.idempotency_keys_prune(batch_size=2) == 5
        assert idempotency.idempotency_keys_prune() == 0

    assert list(IdempotencyKey.objects.values_list("order_id", flat=True)) == [fresh.pk]
    assert Order.objects.count() == 6  # the orders stay: only the keys go


# --- The order form -----------------------------------------------------------------------------


@pytest.fixture
def browser(client, member):
    client.force_login(member)
    return client


def form_token(response) -> str:
    [token] = TOKEN_INPUT.findall(response.content.decode())
    return token


def order_form(token, **overrides):
    data = {
        "platform": "instagram",
        "sns_account_id": "kira.kira_01",
        "photo_links": "https://photos.example.com/1.jpg",
        "note": "",
        "phone": "090-1234-5678",
        "submission": token,
    }
    data.update(overrides)
    return data


def test_the_order_form_sent_three_times_places_one_order(browser, service, mailoutbox):
    page = browser.get(f"/en/orders/new/{service.pk}/")
    token = form_token(page)

    responses = [browser.post(f"/en/orders/new/{service.pk}/", order_form(token)) for _ in range(3)]

    order = Order.objects.get()
    assert [response.status_code for response in responses] == [302] * 3
    assert {response["Location"] for response in responses} == {f"/en/orders/{order.pk}/"}
    shown = browser.get(f"/en/orders/{order.pk}/").content.decode()
    assert "This order form has already been sent: here is the order it placed." in shown
    assert IdempotencyKey.objects.get().scope == IdempotencyKey.Scope.ORDER_FORM


def test_each_showing_of_the_order_form_has_its_own_token(browser, service):
    first = form_token(browser.get(f"/en/orders/new/{service.pk}/"))
    second = form_token(browser.get(f"/en/orders/new/{service.pk}/"))
    assert first != second and idempotency.is_valid_key(first)

    browser.post(f"/en/orders/new/{service.pk}/", order_form(first))
    browser.post(f"/en/orders/new/{service.pk}/", order_form(second))

    assert Order.objects.count() == 2


def test_the_token_is_a_hidden_field_without_a_label(browser, service):
    page = browser.get(f"/en/orders/new/{service.pk}/").content.decode()
    assert 'for="id_submission"' not in page
    assert page.count('name="submission"') == 1


@pytest.mark.parametrize("token", [None, "", "has space", "x" * 256])
def test_an_order_form_without_a_valid_token_is_refused_and_shown_again_with_a_new_one(
    browser, service, token
):
    data = order_form(token)
    if token is None:
        del data["submission"]

    response = browser.post(f"/en/orders/new/{service.pk}/", data)

    assert response.status_code == 400
    assert EXPIRED in response.content.decode()
    renewed = form_token(response)
    assert renewed != token and idempotency.is_valid_key(renewed)
    assert 'value="kira.kira_01"' in response.content.decode()  # the input is kept
    assert not Order.objects.exists()

    assert browser.post(f"/en/orders/new/{service.pk}/", order_form(renewed)).status_code == 302
    assert Order.objects.count() == 1


def test_a_refused_order_form_keeps_its_token_for_the_corrected_send(browser, service):
    token = form_token(browser.get(f"/en/orders/new/{service.pk}/"))

    refused = browser.post(f"/en/orders/new/{service.pk}/", order_form(token, phone="12"))
    assert refused.status_code == 400
    assert form_token(refused) == token
    placed = browser.post(f"/en/orders/new/{service.pk}/", order_form(token))
    again = browser.post(f"/en/orders/new/{service.pk}/", order_form(token))

    assert placed.status_code == again.status_code == 302
    assert placed["Location"] == again["Location"]
    assert Order.objects.count() == 1


def test_an_order_form_token_sent_to_another_services_form_is_refused(browser, service):
    other = make_service(name_en="Other")
    token = form_token(browser.get(f"/en/orders/new/{service.pk}/"))
    browser.post(f"/en/orders/new/{service.pk}/", order_form(token))

    response = browser.post(f"/en/orders/new/{other.pk}/", order_form(token))

    assert response.status_code == 400
    assert EXPIRED in response.content.decode()
    assert form_token(response) != token
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_three_concurrent_sends_of_one_order_form_place_one_order():
    member = MemberFactory()
    service = make_service()
    token = idempotency.new_form_token()

    def send():
        client = Client()
        client.force_login(member)
        return client.post(f"/orders/new/{service.pk}/", order_form(token))

    responses = at_once(send, send, send)

    assert all(not isinstance(response, Exception) for response in responses), responses
    order = Order.objects.get()
    assert [response.status_code for response in responses] == [302] * 3
    assert {response["Location"] for response in responses} == {f"/orders/{order.pk}/"}


# --- The cancel form ----------------------------------------------------------------------------


def test_the_cancel_form_sent_twice_cancels_once_and_shows_the_order(browser, member, mailoutbox):
    order = place_order(member=member)
    record_payment(order)
    token = form_token(browser.get(f"/en/orders/{order.pk}/"))
    data = {"reason": REASON, "submission": token, **ACCOUNT}

    first = browser.post(f"/en/orders/{order.pk}/cancel/", data)
    again = browser.post(f"/en/orders/{order.pk}/cancel/", data)

    assert first.status_code == again.status_code == 302
    assert again["Location"] == f"/en/orders/{order.pk}/"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert Cancellation.objects.count() == 1 and Refund.objects.count() == 1
    shown = browser.get(f"/en/orders/{order.pk}/").content.decode()
    assert "This cancel form has already been sent: the order is cancelled." in shown


def test_a_cancel_form_without_a_token_is_refused(browser, member):
    order = place_order(member=member)

    response = browser.post(f"/en/orders/{order.pk}/cancel/", {"reason": REASON})

    assert response.status_code == 400
    assert EXPIRED in response.content.decode()
    assert idempotency.is_valid_key(form_token(response))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_PAYMENT


def test_a_cancel_token_sent_for_another_order_is_refused(browser, member):
    first, second = place_order(member=member), place_order(member=member)
    token = form_token(browser.get(f"/en/orders/{first.pk}/"))
    browser.post(f"/en/orders/{first.pk}/cancel/", {"reason": REASON, "submission": token})

    response = browser.post(f"/en/orders/{second.pk}/cancel/", {"reason": REASON, "submission": token})

    assert response.status_code == 400
    assert EXPIRED in response.content.decode()
    assert Order.objects.get(pk=second.pk).status == OrderStatus.AWAITING_PAYMENT


def test_another_cancel_form_for_a_cancelled_order_is_still_refused(browser, member):
    order = place_order(member=member)
    lifecycle.order_cancel(order_id=order.pk, member=member, reason=REASON)

    response = browser.post(
        f"/en/orders/{order.pk}/cancel/", {"reason": REASON, "submission": idempotency.new_form_token()}
    )

    assert response.status_code == 400
    assert "can no longer be cancelled" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sends_of_one_cancel_form_cancel_once():
    member = MemberFactory()
    order = place_order(member=member)
    record_payment(order)
    data = {"reason": REASON, "submission": idempotency.new_form_token(), **ACCOUNT}

    def send():
        client = Client()
        client.force_login(member)
        return client.post(f"/orders/{order.pk}/cancel/", data)

    responses = at_once(send, send)

    assert all(not isinstance(response, Exception) for response in responses), responses
    assert [response.status_code for response in responses] == [302, 302]
    assert Cancellation.objects.filter(order=order).count() == 1
    assert Refund.objects.filter(order=order).count() == 1
