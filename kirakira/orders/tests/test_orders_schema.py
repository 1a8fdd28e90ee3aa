"""The schema of the orders endpoints tells the truth: every status they answer, and for every
input field the limits, patterns, enums and requirements the server enforces, taken from the
services' own constants (a change to one without the other fails here).

Observed before: ``note`` unlimited in the schema but 2,000 on the server, cancel ``reason``
4,000 vs 2,000, ``phone`` without its digit rule, ``sns_platform`` and ``account_type`` free
strings, ``RefundAccountInputRequest`` requiring nothing, empty strings allowed where the
server requires a value, 422 undocumented.
"""

import json
import re
import time
from unittest import mock

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given, settings
from hypothesis import strategies as st

from kirakira.common.testing import MemberFactory
from kirakira.orders import api, idempotency, normalization
from kirakira.orders.models import (
    MAX_PHOTO_LINKS,
    NOTE_MAX,
    AccountType,
    Cancellation,
    Order,
    OrderStatus,
    Refund,
    SnsPlatform,
)
from kirakira.orders.testing import make_service, place_order, record_payment
from kirakira.orders.tests.test_orders_api import ORDERS_URL, _error_body, _token_for

pytestmark = pytest.mark.django_db


def ecma(pattern: str) -> str:
    """A Python pattern as the schema shows it (drf-spectacular's conversion)."""
    return pattern.replace("\\x", "\\u00").replace(r"\A", "^").replace(r"\Z", "$")


@pytest.fixture(scope="module")
def schema():
    """The schema as /api/schema/ serves it (generated once for the module: it is large)."""
    return yaml.safe_load(yaml.safe_dump(SchemaGenerator().get_schema(request=None, public=True)))


def component(schema, name):
    return schema["components"]["schemas"][name]


# What each input field must say, from the constants the services check against.
ORDER_INPUT = {
    "service": ({"type": "integer"}, True),
    "sns_platform": (
        {
            "type": "string",
            "minLength": 1,
            "maxLength": SnsPlatform._meta.get_field("code").max_length,
            "pattern": ecma(validate_slug.regex.pattern),
        },
        True,
    ),
    "sns_account_id": (
        {"type": "string", "minLength": 1, "maxLength": normalization.ACCOUNT_ID_MAX, "pattern": r"\S"},
        True,
    ),
    "photo_links": (
        {
            "type": "array",
            "maxItems": MAX_PHOTO_LINKS,
            "items": {
                "oneOf": [
                    {
                        "type": "string",
                        "maxLength": normalization.PHOTO_LINK_MAX,
                        "pattern": ecma(api.PHOTO_LINK_PATTERN),
                    },
                    {"type": "string", "maxLength": 0},
                ]
            },
        },
        True,
    ),
    "note": ({"type": "string", "maxLength": NOTE_MAX}, False),
    "phone": (
        {
            "type": "string",
            "minLength": 1,
            "maxLength": normalization.PHONE_MAX,
            "pattern": ecma(api.PHONE_PATTERN),
        },
        True,
    ),
}
CANCEL_INPUT = {
    "reason": ({"type": "string", "minLength": 1, "maxLength": NOTE_MAX, "pattern": r"\S"}, True),
    "refund_account": ({"nullable": True}, False),
}
BANK_TEXT = {
    "type": "string",
    "minLength": 1,
    "maxLength": normalization.BANK_TEXT_MAX,
    "pattern": ecma(api.BANK_TEXT_PATTERN),
}
REFUND_ACCOUNT_INPUT = {
    "bank_name": (BANK_TEXT, True),
    "branch": (BANK_TEXT, True),
    "account_type": ({"$ref": "#/components/schemas/AccountTypeEnum"}, True),
    "account_number": (
        {
            "type": "string",
            "minLength": 1,
            "maxLength": Refund._meta.get_field("account_number").max_length,
            "pattern": ecma(api.ACCOUNT_NUMBER_PATTERN),
        },
        True,
    ),
    "account_holder": (
        {
            "type": "string",
            "minLength": 1,
            "maxLength": normalization.HOLDER_MAX,
            "pattern": ecma(api.ACCOUNT_HOLDER_PATTERN),
        },
        True,
    ),
}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("OrderInputRequest", ORDER_INPUT),
        ("CancelInputRequest", CANCEL_INPUT),
        ("RefundAccountInputRequest", REFUND_ACCOUNT_INPUT),
    ],
)
def test_every_input_field_states_the_servers_limits(schema, name, expected):
    definition = component(schema, name)

    assert set(definition["properties"]) == set(expected), "a new field needs its limits here"
    assert set(definition.get("required", [])) == {
        field for field, (_, required) in expected.items() if required
    }
    for field, (limits, _required) in expected.items():
        stated = definition["properties"][field]
        assert {key: stated.get(key) for key in limits} == limits, field
        assert stated.get("description") or "$ref" in stated, f"{name}.{field} says nothing"


def test_the_limits_are_the_ones_the_models_store(schema):
    """The service constants and the columns agree, so the schema's limits are the stored ones."""
    assert Order._meta.get_field("note").max_length == NOTE_MAX
    assert Cancellation._meta.get_field("reason").max_length == NOTE_MAX
    assert Order._meta.get_field("sns_account_id").max_length == normalization.ACCOUNT_ID_MAX
    assert Order._meta.get_field("phone").max_length == normalization.PHONE_MAX
    assert Refund._meta.get_field("bank_name").max_length == normalization.BANK_TEXT_MAX
    assert Refund._meta.get_field("branch").max_length == normalization.BANK_TEXT_MAX
    assert Refund._meta.get_field("account_holder").max_length == normalization.HOLDER_MAX
    assert Refund._meta.get_field("account_number").max_length >= normalization.ACCOUNT_NUMBER_DIGITS[1]
    # The characters a bank's name may hold are the service's own class.
    characters = normalization._BANK_TEXT.pattern.removeprefix("^").removesuffix("+$")
    assert api.BANK_TEXT_PATTERN.endswith(characters + r"*\Z")


def test_account_type_is_the_closed_set_the_server_takes(schema):
    assert component(schema, "AccountTypeEnum")["enum"] == AccountType.values


def test_the_platform_codes_in_use_fit_the_documented_pattern(schema):
    pattern = component(schema, "OrderInputRequest")["properties"]["sns_platform"]["pattern"]
    codes = list(SnsPlatform.objects.values_list("code", flat=True))
    assert codes
    assert all(re.search(pattern, code) for code in codes)


def test_the_idempotency_key_header_is_documented(schema):
    operation = schema["paths"]["/api/v1/orders"]["post"]
    [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header" and not header.get("required")
    assert header["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.KEY_MAX,
        "pattern": ecma(idempotency.KEY_PATTERN),
    }
    assert set(operation["responses"]["201"]["headers"]) >= {"Idempotent-Replayed", "Location"}


EXPECTED_STATUSES = {
    ("/api/v1/services", "get"): {"200"},
    ("/api/v1/orders", "get"): {"200", "400", "401"},
    ("/api/v1/orders", "post"): {"201", "400", "401", "403", "422"},
    ("/api/v1/orders/{order_id}", "get"): {"200", "401", "404"},
    ("/api/v1/orders/{order_id}/cancel", "post"): {"200", "400", "401", "404"},
}


@pytest.mark.parametrize(("path", "method"), list(EXPECTED_STATUSES))
def test_every_operation_documents_what_it_answers_and_has_a_description(schema, path, method):
    operation = schema["paths"][path][method]
    assert EXPECTED_STATUSES[path, method] <= set(operation["responses"])
    assert len(operation.get("description", "")) > 40
    assert operation.get("summary")
    for code, response in operation["responses"].items():
        if code.startswith(("4", "5")):
            assert response["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOutput"
            }


def test_the_list_documents_its_parameters_and_page(schema):
    operation = schema["paths"]["/api/v1/orders"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"cursor", "page_size", "ordering", "status"} <= set(parameters)
    assert parameters["status"]["schema"]["enum"] == sorted(OrderStatus.values)
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(component(schema, page)["properties"]) == {"next", "previous", "results"}


def test_the_order_output_says_what_was_paid_and_refunded(schema):
    output = component(schema, "OrderOutput")
    assert {"paid_yen", "cancellation", "refunds", "payment"} <= set(output["required"])
    assert output["properties"]["paid_yen"]["type"] == "integer"
    assert component(schema, "RefundOutput")["properties"]["status"]


# --- The patterns agree with the services' checks -----------------------------------------------
# Each sample is either accepted by both the schema's pattern and the service, or by neither.


def _service_accepts(check, value) -> bool:
    try:
        check(value)
    except ValidationError:
        return False
    return True


PHONES = [
    "090-1234-5678",
    "09012345678",
    "+81 90 1234 5678",
    "(03) 1234-5678",
    "  090-1234-5678  ",
    "０９０ー１２３４ー５６７８",
    "＋８１ ９０ １２３４ ５６７８",
    "090−1234−5678",
    "12345",
    "090-abcd-5678",
    "0901234567890123",
    "+",
    "++09012345678",
    "09012345678+",
    "090_1234_5678",
    "090.1234.5678",
]


@pytest.mark.parametrize("phone", PHONES)
def test_the_phone_pattern_agrees_with_the_service(phone):
    assert (re.search(api.PHONE_PATTERN, phone) is not None) == _service_accepts(
        normalization.clean_phone, phone
    )


def _refund_field_accepted(field, value) -> bool:
    account = {
        "bank_name": "きらきら銀行",
        "branch": "本店",
        "account_type": "ordinary",
        "account_number": "1234567",
        "account_holder": "ヤマダ ハナコ",
        field: value,
    }
    try:
        normalization.clean_refund_account(account)
    except ValidationError as exc:
        return field not in exc.message_dict
    return True


@pytest.mark.parametrize(
    ("field", "pattern", "value"),
    [
        ("account_number", api.ACCOUNT_NUMBER_PATTERN, value)
        for value in [
            "1234567",
            "123-4567",
            "１２３４５６７",
            "1234",
            "12345678901234567",
            "123",
            "123456789012345678",
            "12ab567",
            "-",
            "",
        ]
    ]
    + [
        ("account_holder", api.ACCOUNT_HOLDER_PATTERN, value)
        for value in [
            "ヤマダ ハナコ",
            "ﾔﾏﾀﾞ ﾊﾅｺ",
            "YAMADA HANAKO",
            "ＹＡＭＡＤＡ",
            "カ）キラキラ",
            "ヤマダ.ハナコ",
            "山田花子",
            "やまだ",
            "<script>",
            "   ",
        ]
    ]
    + [
        ("bank_name", api.BANK_TEXT_PATTERN, value)
        for value in ["きらきら銀行", "Kira Bank (Tokyo)", "<b>Bank</b>", "   ", "Bank\x07", ""]
    ],
)
def test_the_refund_account_patterns_agree_with_the_service(field, pattern, value):
    assert (re.search(pattern, value) is not None) == _refund_field_accepted(field, value)


@pytest.mark.parametrize(
    ("link", "accepted"),
    [
        ("https://photos.example.com/1.jpg", True),
        ("  https://photos.example.com/1.jpg  ", True),
        ("HTTPS://photos.example.com/1.jpg", True),
        ("   ", True),  # blank: ignored
        ("http://photos.example.com/1.jpg", False),
        ("https://exa mple.com/a.jpg", False),
        ("javascript:alert(1)", False),
        ("photos.example.com/1.jpg", False),
    ],
)
def test_the_photo_link_pattern_agrees_with_the_service(link, accepted):
    assert (re.search(api.PHOTO_LINK_PATTERN, link) is not None) is accepted
    assert _service_accepts(lambda value: normalization.clean_photo_links([value], 1), link) is accepted


# --- The server refuses what the schema refuses, and takes what it takes (at the limits) --------


@pytest.fixture
def token(db):
    return _token_for(MemberFactory(language="en"))


def _send(client, token, url, data):
    return client.post(
        url, json.dumps(data), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def _order(service, **overrides):
    data = {
        "service": service.pk,
        "sns_platform": "instagram",
        "sns_account_id": "kira.kira",
        "photo_links": ["https://photos.example.com/1.jpg"],
        "phone": "090-1234-5678",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("field", "at_limit", "over_limit"),
    [
        ("note", "a" * NOTE_MAX, "a" * (NOTE_MAX + 1)),
        ("note", " " * NOTE_MAX, " " * (NOTE_MAX + 1)),  # counted as sent, before stripping
        (
            "phone",
            "090-1234-5678" + " " * (normalization.PHONE_MAX - 13),
            "090-1234-5678" + " " * (normalization.PHONE_MAX - 12),
        ),
        ("phone", "1" * normalization.PHONE_DIGITS_MAX, "1" * (normalization.PHONE_DIGITS_MAX + 1)),
        (
            "photo_links",
            ["https://photos.example.com/1.jpg", ""],
            ["https://photos.example.com/1.jpg"] + [""] * MAX_PHOTO_LINKS,
        ),
        ("sns_platform", "instagram", " instagram"),
    ],
)
def test_each_order_limit_holds_at_the_boundary(client, token, field, at_limit, over_limit):
    service = make_service()

    accepted = _send(client, token, ORDERS_URL, _order(service, **{field: at_limit}))
    refused = _send(client, token, ORDERS_URL, _order(service, **{field: over_limit}))

    assert accepted.status_code == 201, accepted.content
    assert list(_error_body(refused, 400)["errors"]) == [field]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"reason": "x" * (NOTE_MAX + 1)}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "ok", "refund_account": {}}, "refund_account.bank_name"),
        ({"reason": "ok", "refund_account": "my bank"}, "refund_account"),
        ({"reason": "ok", "refund_account": {"bank_name": ""}}, "refund_account.bank_name"),
        ({"reason": "ok", "refund_account": {"account_type": "gold"}}, "refund_account.account_type"),
        ({"reason": "ok", "refund_account": {"account_number": "1" * 21}}, "refund_account.account_number"),
        ({"reason": "ok", "refund_account": {"account_holder": "ア" * 101}}, "refund_account.account_holder"),
    ],
)
def test_the_cancel_input_is_refused_where_the_schema_says(client, data, field):
    order = place_order(member=MemberFactory())
    record_payment(order)

    body = _error_body(_send(client, _token_for(order.member), f"{ORDERS_URL}/{order.pk}/cancel", data), 400)

    assert field in body["errors"], body
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_a_reason_of_2000_characters_is_taken(client):
    order = place_order(member=MemberFactory())
    response = _send(
        client, _token_for(order.member), f"{ORDERS_URL}/{order.pk}/cancel", {"reason": "x" * NOTE_MAX}
    )
    assert response.status_code == 200, response.content


def test_a_huge_value_is_refused_in_linear_time(client, token):
    """The patterns have no ambiguous parts: a value of a hundred thousand spaces is refused at
    once (a backtracking pattern would take hours)."""
    service = make_service()
    started = time.monotonic()

    body = _error_body(_send(client, token, ORDERS_URL, _order(service, phone=" " * 100_000)), 400)

    assert time.monotonic() - started < 5
    assert list(body["errors"]) == ["phone"]


# Every value the schema's pattern allows passes the service's own check (its length limit apart,
# which the schema states as maxLength from the same constant): the schema never promises what
# the server then refuses.


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.from_regex(api.PHONE_PATTERN, fullmatch=True))
def test_every_phone_the_schema_allows_is_taken(phone):
    with mock.patch.object(normalization, "PHONE_MAX", len(phone)):
        normalization.clean_phone(phone)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    st.from_regex(api.ACCOUNT_NUMBER_PATTERN, fullmatch=True),
    st.from_regex(api.ACCOUNT_HOLDER_PATTERN, fullmatch=True),
)
def test_every_account_number_and_holder_the_schema_allows_is_taken(number, holder):
    with mock.patch.object(normalization, "HOLDER_MAX", len(holder)):
        assert _refund_field_accepted("account_number", number)
        assert _refund_field_accepted("account_holder", holder)
