"""``POST /api/v1/me/withdraw``: the password checked as a login's (and counted by the lockout),
open orders cancelled with their refunds still due, the member unable to log in or use any token
afterwards, the email address free to register again, and every refusal changing nothing."""

import json

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate as real_authenticate
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken

from kirakira.accounts import withdraw_api
from kirakira.accounts.models import BrowserSession, User
from kirakira.api.testing import error_body
from kirakira.common.testing import PASSWORD, StaffFactory
from kirakira.orders.models import Order, OrderStatus, Refund, RefundStatus
from kirakira.orders.testing import place_order, record_payment
from kirakira.privacy.retention.withdrawal import member_withdraw

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/withdraw"
ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}


def call(method, url, data=None, *, token=None, client=None):
    client = client or Client()
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if data is None:
        return client.generic(method, url, **headers)
    return client.generic(method, url, json.dumps(data), content_type="application/json", **headers)


def log_in(user) -> str:
    response = call("POST", "/api/v1/auth/token", {"login_id": user.login_id, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def withdraw(token, **body):
    return call("POST", URL, {"password": PASSWORD, **body}, token=token)


def failures(login_id) -> int:
    return sum(AccessAttempt.objects.filter(username=login_id).values_list("failures_since_start", flat=True))


def assert_still_a_member(member, token):
    member.refresh_from_db()
    assert member.withdrawn_at is None and member.is_active
    assert call("GET", "/api/v1/me", token=token).status_code == 200


# --- withdrawing ------------------------------------------------------------------------------------


def test_the_password_withdraws_the_member_and_ends_every_token(fast_member):
    member = fast_member()
    token, other = log_in(member), log_in(member)

    response = withdraw(token)

    assert response.status_code == 200, response.content
    assert response.json() == {"withdrawn": True, "cancelled_orders": 0, "refunds_due_yen": 0}
    member.refresh_from_db()
    assert member.withdrawn_at is not None and not member.is_active
    assert not AuthToken.objects.filter(user=member).exists()
    for used in (token, other):
        error_body(call("GET", "/api/v1/me", token=used), 401)


def test_a_withdrawn_member_cannot_log_in_and_the_email_registers_again(fast_member):
    member = fast_member(email="hanako@example.com")
    login_id = member.login_id
    assert withdraw(log_in(member)).status_code == 200

    login = call("POST", "/api/v1/auth/token", {"login_id": login_id, "password": PASSWORD})
    again = call(
        "POST",
        "/api/v1/auth/register",
        {
            "login_id": "hanako_again",
            "name": "花子",
            "email": "hanako@example.com",
            "password": "Tide-pool-lantern-42",
            "accept_terms": True,
        },
    )

    error_body(login, 401)
    assert again.status_code == 201, again.content
    assert User.objects.get(login_id="hanako_again").email == "hanako@example.com"


def test_the_members_browser_sessions_end_too(fast_member):
    member = fast_member()
    browser = Client()
    assert (
        browser.post(
            reverse("accounts:login"), {"username": member.login_id, "password": PASSWORD}
        ).status_code
        == 302
    )

    assert withdraw(log_in(member)).status_code == 200

    assert not BrowserSession.objects.filter(user=member).exists()
    assert browser.get(reverse("accounts:mypage")).status_code == 302  # to the login page


def test_an_unpaid_open_order_is_cancelled_without_a_refund_account(fast_member):
    member = fast_member()
    place_order(member=member)

    response = withdraw(log_in(member))

    assert response.status_code == 200, response.content
    assert response.json() == {"withdrawn": True, "cancelled_orders": 1, "refunds_due_yen": 0}
    assert not Order.objects.filter(member=member).exists()  # moved to separate storage
    assert not Refund.objects.exists()


def test_a_paid_open_order_needs_a_refund_account_and_its_refund_stays_due(fast_member):
    member = fast_member()
    order = place_order(member=member)
    record_payment(order)
    token = log_in(member)

    refused = withdraw(token)
    assert set(error_body(refused, 400)["errors"]) == {"refund_account"}
    assert_still_a_member(member, token)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    response = withdraw(token, refund_account=ACCOUNT)

    assert response.status_code == 200, response.content
    assert response.json() == {"withdrawn": True, "cancelled_orders": 1, "refunds_due_yen": order.price_yen}
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.amount_yen, refund.account_number) == (
        RefundStatus.DUE,
        order.price_yen,
        "1234567",
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED  # kept live until the refund is paid


@pytest.mark.parametrize(
    ("field", "value"),
    [("account_number", "12"), ("account_holder", "山田花子"), ("account_type", "gold"), ("bank_name", " ")],
)
def test_a_refund_account_the_rules_refuse_is_named_by_its_field_and_changes_nothing(
    fast_member, field, value
):
    member = fast_member()
    record_payment(place_order(member=member))
    token = log_in(member)

    response = withdraw(token, refund_account={**ACCOUNT, field: value})

    assert f"refund_account.{field}" in error_body(response, 400)["errors"]
    assert_still_a_member(member, token)


# --- the password and the lockout -----------------------------------------------------------------


def test_a_wrong_password_is_400_naming_the_password_counted_as_a_failed_login(fast_member):
    member = fast_member()
    token = log_in(member)

    response = call("POST", URL, {"password": "not-it-1"}, token=token)

    assert list(error_body(response, 400)["errors"]) == ["password"]
    assert failures(member.login_id) == 1
    assert_still_a_member(member, token)


def test_guessing_the_password_locks_like_the_login(fast_member):
    member = fast_member()
    token = log_in(member)

    statuses = [call("POST", URL, {"password": f"guess-{n}"}, token=token).status_code for n in range(5)]
    right = withdraw(token)
    login = call("POST", "/api/v1/auth/token", {"login_id": member.login_id, "password": PASSWORD})

    assert statuses[:4] == [400] * 4
    error_body(right, 429)
    assert int(right["Retry-After"]) == 15 * 60
    error_body(login, 429)  # the same lockout: the guesses were failed logins of this login ID
    assert_still_a_member(member, token)


# --- refusals ------------------------------------------------------------------------------------------


def test_fields_it_does_not_take_are_refused_and_named(fast_member):
    member = fast_member()
    token = log_in(member)

    top = withdraw(token, everything=True)
    nested = withdraw(token, refund_account={**ACCOUNT, "iban": "DE00"})

    assert error_body(top, 400)["errors"] == {"everything": ["This field is not accepted here."]}
    assert error_body(nested, 400)["errors"] == {"refund_account.iban": ["This field is not accepted here."]}
    assert_still_a_member(member, token)


@pytest.mark.parametrize("body", [{}, {"password": ""}, {"password": 12345678}, {"password": "x" * 4097}])
def test_a_missing_or_malformed_password_is_400_and_not_counted(fast_member, body):
    member = fast_member()
    token = log_in(member)

    response = call("POST", URL, body, token=token)

    assert "password" in error_body(response, 400)["errors"]
    assert failures(member.login_id) == 0
    assert_still_a_member(member, token)


def test_without_a_token_it_is_401():
    error_body(call("POST", URL, {"password": PASSWORD}), 401)


def test_a_staff_account_is_refused_with_403(fast_hashing):
    staff = StaffFactory(password=make_password(PASSWORD))
    token = log_in(staff)

    response = withdraw(token)

    assert "administrator" in error_body(response, 403)["message"]
    staff.refresh_from_db()
    assert staff.withdrawn_at is None and staff.is_active


def test_a_second_withdrawal_with_the_same_token_is_401(fast_member):
    member = fast_member()
    token = log_in(member)
    assert withdraw(token).status_code == 200

    error_body(withdraw(token), 401)


def test_a_withdrawal_that_another_request_completed_meanwhile_is_409(fast_member, monkeypatch):
    """Two requests at once: the other one withdraws between this one's password check and its
    own withdrawal (run here at exactly that point)."""
    member = fast_member()
    token = log_in(member)

    def checked_then_withdrawn_elsewhere(request, **credentials):
        user = real_authenticate(request, **credentials)
        member_withdraw(user=User.objects.get(pk=user.pk), checked_hash=user.password)
        return user

    monkeypatch.setattr(withdraw_api, "authenticate", checked_then_withdrawn_elsewhere)

    response = withdraw(token)

    assert error_body(response, 409)["message"] == "This membership has already been withdrawn."


def test_a_password_changed_meanwhile_is_409_and_nothing_is_withdrawn(fast_member, monkeypatch):
    member = fast_member()
    token = log_in(member)

    def checked_then_changed_elsewhere(request, **credentials):
        user = real_authenticate(request, **credentials)
        User.objects.filter(pk=user.pk).update(password=make_password("Changed-elsewhere-9"))
        return user

    monkeypatch.setattr(withdraw_api, "authenticate", checked_then_changed_elsewhere)

    response = withdraw(token)

    error_body(response, 409)
    member.refresh_from_db()
    assert member.withdrawn_at is None and member.is_active


def test_a_refund_already_due_is_still_due_after_withdrawal(fast_member):
    from kirakira.orders import lifecycle

    member = fast_member()
    order = place_order(member=member)
    record_payment(order)
    lifecycle.order_cancel(order_id=order.pk, member=member, reason="やめます", refund_account=ACCOUNT)

    response = withdraw(log_in(member))

    assert response.json() == {"withdrawn": True, "cancelled_orders": 0, "refunds_due_yen": order.price_yen}
    assert Refund.objects.get(order=order).status == RefundStatus.DUE


# --- the schema ---------------------------------------------------------------------------------------


@pytest.fixture
def document(client):
    response = client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    return json.loads(response.content)


def _component(document, ref: str) -> dict:
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_the_schema_states_every_answer_in_the_one_error_shape(document):
    operation = document["paths"][URL]["post"]

    assert set(operation["responses"]) == {"200", "400", "401", "403", "409", "413", "415", "429"}
    for status, answer in operation["responses"].items():
        if status != "200":
            assert answer["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOutput"
            }
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert operation["security"] and all(operation["security"])
    assert len(operation["description"]) > 40


def test_the_schema_states_the_input_as_the_server_checks_it(document):
    operation = document["paths"][URL]["post"]
    body = _component(document, operation["requestBody"]["content"]["application/json"]["schema"]["$ref"])
    cancel = document["paths"]["/api/v1/orders/{order_id}/cancel"]["post"]
    cancel_body = _component(document, cancel["requestBody"]["content"]["application/json"]["schema"]["$ref"])

    assert body["additionalProperties"] is False
    assert body["required"] == ["password"]
    password = body["properties"]["password"]
    assert (password["minLength"], password["maxLength"], password["writeOnly"]) == (1, 4096, True)
    account = _component(document, body["properties"]["refund_account"]["allOf"][0]["$ref"])
    cancel_account = _component(document, cancel_body["properties"]["refund_account"]["allOf"][0]["$ref"])
    assert account["properties"] == cancel_account["properties"]
    assert account["required"] == cancel_account["required"]
    assert account["additionalProperties"] is False
    output = _component(
        document, operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert set(output["properties"]) == {"withdrawn", "cancelled_orders", "refunds_due_yen"}


def test_the_services_refusal_codes_are_each_answered():
    """Every code the service raises has its answer here (a new code would fall through as 400)."""
    for code, status in (("staff", 403), ("stale", 409), ("already_withdrawn", 409)):
        answer = withdraw_api._refused(ValidationError("x", code=code))
        assert answer.status_code == status, code
