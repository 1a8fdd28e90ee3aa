"""The orders API: the services on sale, placing an order, and a member's own orders."""

import json
import uuid

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from kirakira.api.testing import error_body as _error_body
from kirakira.common.testing import MemberFactory
from kirakira.orders import services as order_services
from kirakira.orders.models import Order, OrderStatus, Service, SnsPlatform

SERVICES_URL = "/api/v1/services"
ORDERS_URL = "/api/v1/orders"
UNCONFIRMED_MESSAGE = "Please confirm your email address before ordering: open the link we sent you."
ORDER_FIELDS = {
    "id",
    "reference",
    "service",
    "price_yen",
    "sns_platform",
    "sns_account_id",
    "photo_links",
    "note",
    "phone",
    "status",
    "status_display",
    "created_at",
    "payment_due_at",
    "paid_yen",
    "estimated_completion_on",
    "estimated_business_days",
    "delivery_note",
    "payment",
    "cancellation",
    "refunds",
    "under_correction",
}

# The studio's account as the settings' defaults give it, in Japanese (the API's default language).
STUDIO_ACCOUNT_JA = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店 (123)",
    "account_type": "普通",
    "account_number": "1234567",
    "account_holder": "ド）プレトスタジオ",
}


def make_service(platforms=("instagram", "x"), **overrides):
    data = {
        "name_ja": "写真レタッチ",
        "name_en": "Photo retouch",
        "name_ko": "사진 보정",
        "description_ja": "説明",
        "description_en": "Description",
        "description_ko": "설명",
        "price_yen": 3000,
        "photo_link_count": 2,
    }
    data.update(overrides)
    service = Service.objects.create(**data)
    service.platforms.set(SnsPlatform.objects.filter(code__in=platforms))
    return service


def _token_for(user):
    _instance, token = AuthToken.objects.create(user)
    return token


def _auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _valid_data(service, **overrides):
    data = {
        "service": service.pk,
        "sns_platform": "instagram",
        "sns_account_id": "kira.kira_01",
        "photo_links": ["https://example.com/a.jpg", "https://example.com/b.jpg"],
        "note": "Brighter, please.",
        "phone": "090-1234-5678",
    }
    data.update(overrides)
    return data


def _post(client, token, data, **extra):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(ORDERS_URL, body, content_type="application/json", **_auth(token), **extra)


def _place(member, service, **overrides):
    data = _valid_data(service, **overrides)
    return order_services.order_place(
        member=member,
        service=service,
        platform=data["sns_platform"],
        sns_account_id=data["sns_account_id"],
        photo_links=data["photo_links"],
        note=data["note"],
        phone=data["phone"],
    )


# --- GET /services --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_services_lists_what_is_on_sale_without_a_token(client):
    service = make_service(platforms=("instagram", "x"), price_yen=3000, photo_link_count=2)

    response = client.get(SERVICES_URL)

    assert response.status_code == 200
    [body] = response.json()
    assert set(body) == {"id", "name", "description", "price_yen", "photo_link_count", "platforms"}
    assert body["id"] == service.pk
    assert body["price_yen"] == 3000
    assert isinstance(body["price_yen"], int)
    assert body["photo_link_count"] == 2
    assert [platform["code"] for platform in body["platforms"]] == ["instagram", "x"]
    assert set(body["platforms"][0]) == {"code", "name", "account_id_rule"}
    assert body["platforms"][0]["name"] == "Instagram"


@pytest.mark.django_db
def test_services_ignores_a_bad_token(client):
    make_service()
    response = client.get(SERVICES_URL, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 200
    assert len(response.json()) == 1


@pytest.mark.parametrize(
    ("accept_language", "name", "description", "rule_start"),
    [
        ("en", "Photo retouch", "Description", "Up to 30"),
        ("ko", "사진 보정", "설명", "영문"),
        ("ja", "写真レタッチ", "説明", "英数字"),
        (None, "写真レタッチ", "説明", "英数字"),
    ],
)
@pytest.mark.django_db
def test_services_are_in_the_requested_language(client, accept_language, name, description, rule_start):
    make_service(platforms=("instagram",))
    extra = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}

    [body] = client.get(SERVICES_URL, **extra).json()

    assert body["name"] == name
    assert body["description"] == description
    assert body["platforms"][0]["account_id_rule"].startswith(rule_start)


@pytest.mark.django_db
def test_services_excludes_what_is_off_sale_and_inactive_platforms(client):
    on_sale = make_service(name_en="On sale", platforms=("instagram", "x"))
    make_service(name_en="Off sale", is_active=False)
    SnsPlatform.objects.filter(code="x").update(is_active=False)

    body = client.get(SERVICES_URL, HTTP_ACCEPT_LANGUAGE="en").json()

    assert [service["id"] for service in body] == [on_sale.pk]
    assert [platform["code"] for platform in body[0]["platforms"]] == ["instagram"]


@pytest.mark.django_db
def test_services_are_in_display_order(client):
    second = make_service(sort_order=2)
    first = make_service(sort_order=1)
    assert [service["id"] for service in client.get(SERVICES_URL).json()] == [first.pk, second.pk]


@pytest.mark.django_db
def test_services_takes_a_fixed_number_of_queries(client):
    make_service()
    with CaptureQueriesContext(connection) as one:
        client.get(SERVICES_URL)
    for _ in range(4):
        make_service(platforms=("instagram", "x", "tiktok", "youtube"))
    with CaptureQueriesContext(connection) as five:
        response = client.get(SERVICES_URL)

    assert len(response.json()) == 5
    assert len(one) == len(five) == 2


# --- POST /orders ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_placing_an_order_is_201_and_sends_the_email(client, mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory(email="alice@example.com")
    service = make_service(price_yen=3000, name_en="Photo retouch")

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, _token_for(member), _valid_data(service), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ORDER_FIELDS
    order = Order.objects.get()
    assert order.member == member
    assert body["id"] == str(order.pk)
    assert body["reference"] == order.reference
    assert body["service"] == {"id": service.pk, "name": "Photo retouch"}
    assert body["price_yen"] == 3000
    assert body["sns_platform"] == "instagram"
    assert body["sns_account_id"] == "kira.kira_01"
    assert body["photo_links"] == ["https://example.com/a.jpg", "https://example.com/b.jpg"]
    assert body["note"] == "Brighter, please."
    assert body["phone"] == "090-1234-5678"
    assert body["status"] == "awaiting_payment"
    assert body["status_display"] == "Awaiting payment"
    assert body["created_at"]
    assert (order.sns_account_id, order.phone, order.price_yen) == ("kira.kira_01", "090-1234-5678", 3000)

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["alice@example.com"]
    assert order.reference in mailoutbox[0].body


@pytest.mark.django_db
def test_a_new_order_carries_the_payment_details(client, settings):
    member = MemberFactory()
    service = make_service(price_yen=12000)

    body = _post(client, _token_for(member), _valid_data(service)).json()

    assert body["payment"] == {
        "amount_yen": 12000,
        "reference": body["reference"],
        "bank": STUDIO_ACCOUNT_JA,
    }


@pytest.mark.django_db
def test_money_is_an_integer_in_the_json(client):
    member = MemberFactory()
    service = make_service(price_yen=5500)

    response = _post(client, _token_for(member), _valid_data(service))

    raw = response.content.decode()
    assert '"price_yen":5500' in raw.replace(" ", "")
    assert '"amount_yen":5500' in raw.replace(" ", "")
    body = response.json()
    assert type(body["price_yen"]) is int
    assert type(body["payment"]["amount_yen"]) is int


@pytest.mark.django_db
def test_input_is_normalized_as_on_the_pages(client):
    member = MemberFactory()
    service = make_service()

    body = _post(
        client,
        _token_for(member),
        _valid_data(
            service,
            sns_account_id=" @kira.kira_01 ",
            photo_links=["  https://example.com/a.jpg  ", "", "   "],
            note="  hi  ",
        ),
    ).json()

    assert body["sns_account_id"] == "kira.kira_01"
    assert body["photo_links"] == ["https://example.com/a.jpg"]
    assert body["note"] == "hi"


@pytest.mark.parametrize("omitted", ["note"])
@pytest.mark.django_db
def test_optional_fields_may_be_left_out(client, omitted):
    member = MemberFactory()
    data = _valid_data(make_service())
    del data[omitted]

    response = _post(client, _token_for(member), data)

    assert response.status_code == 201, response.content
    assert response.json()["note"] == ""


@pytest.mark.django_db
def test_a_service_without_photos_takes_an_empty_list(client):
    member = MemberFactory()
    service = make_service(photo_link_count=0)

    response = _post(client, _token_for(member), _valid_data(service, photo_links=[]))

    assert response.status_code == 201, response.content
    assert response.json()["photo_links"] == []


@pytest.mark.django_db
def test_the_price_is_the_services_price_whatever_the_client_sends(client):
    member = MemberFactory()
    service = make_service(price_yen=3000)

    body = _post(
        client, _token_for(member), {**_valid_data(service), "price_yen": 1, "status": "paid"}
    ).json()

    assert body["price_yen"] == 3000
    assert body["status"] == "awaiting_payment"
    assert Order.objects.get().price_yen == 3000


def _bad_inputs():
    long_link = "https://example.com/" + "a" * 1981  # 2,001 characters
    assert len(long_link) == 2001
    cases = [
        # links
        ({"photo_links": ["http://example.com/a.jpg"]}, "photo_links"),
        ({"photo_links": ["ftp://example.com/a.jpg"]}, "photo_links"),
        ({"photo_links": ["javascript:alert(1)"]}, "photo_links"),
        ({"photo_links": ["example.com/a.jpg"]}, "photo_links"),
        ({"photo_links": ["https://"]}, "photo_links"),
        ({"photo_links": ["https://exa mple.com/a.jpg"]}, "photo_links"),
        ({"photo_links": ["not a link"]}, "photo_links"),
        ({"photo_links": [f"https://example.com/{n}.jpg" for n in range(3)]}, "photo_links"),
        ({"photo_links": [long_link]}, "photo_links"),
        ({"photo_links": [f"https://example.com/{n}.jpg" for n in range(1000)]}, "photo_links"),
        # platform and account ID
        ({"sns_platform": "myspace"}, "sns_platform"),
        ({"sns_platform": ""}, "sns_platform"),
        ({"sns_platform": "tiktok"}, "sns_platform"),  # not one of this service's
        ({"sns_platform": "Instagram"}, "sns_platform"),
        ({"sns_account_id": "kira-kira"}, "sns_account_id"),
        ({"sns_account_id": "kira kira"}, "sns_account_id"),
        ({"sns_account_id": "きらきら"}, "sns_account_id"),
        ({"sns_account_id": "<script>"}, "sns_account_id"),
        ({"sns_account_id": ".kira"}, "sns_account_id"),
        ({"sns_account_id": "a" * 31}, "sns_account_id"),
        ({"sns_account_id": "a" * 500}, "sns_account_id"),
        ({"sns_account_id": ""}, "sns_account_id"),
        ({"sns_account_id": "@"}, "sns_account_id"),
        # phone and note
        ({"phone": ""}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "090-abcd-5678"}, "phone"),
        ({"phone": "090" + " " * 100 + "1234-5678"}, "phone"),
        ({"phone": "(" * 300 + "09012345678"}, "phone"),
        ({"note": "a" * 2001}, "note"),
        # wrong JSON types
        ({"service": str(0)}, "service"),
        ({"service": "1"}, "service"),
        ({"service": 1.0}, "service"),
        ({"service": True}, "service"),
        ({"service": None}, "service"),
        ({"service": [1]}, "service"),
        ({"service": {"id": 1}}, "service"),
        ({"sns_platform": 1}, "sns_platform"),
        ({"sns_platform": ["instagram"]}, "sns_platform"),
        ({"sns_platform": None}, "sns_platform"),
        ({"sns_account_id": 12345}, "sns_account_id"),
        ({"sns_account_id": None}, "sns_account_id"),
        ({"sns_account_id": ["kira"]}, "sns_account_id"),
        ({"phone": 9012345678}, "phone"),
        ({"phone": None}, "phone"),
        ({"note": 5}, "note"),
        ({"note": None}, "note"),
        ({"note": {"text": "hi"}}, "note"),
        ({"photo_links": "https://example.com/a.jpg"}, "photo_links"),
        ({"photo_links": None}, "photo_links"),
        ({"photo_links": {"0": "https://example.com/a.jpg"}}, "photo_links"),
        ({"photo_links": [1]}, "photo_links"),
        ({"photo_links": [None]}, "photo_links"),
        ({"photo_links": [["https://example.com/a.jpg"]]}, "photo_links"),
        ({"photo_links": 5}, "photo_links"),
    ]
    # missing fields
    for field in ("service", "sns_platform", "sns_account_id", "photo_links", "phone"):
        cases.append(({field: _MISSING}, field))
    return [pytest.param(data, field, id=f"{field}-{n}") for n, (data, field) in enumerate(cases)]


_MISSING = object()


@pytest.mark.parametrize(("overrides", "field"), _bad_inputs())
@pytest.mark.django_db
def test_invalid_input_is_400_json_and_creates_nothing(
    client, mailoutbox, django_capture_on_commit_callbacks, overrides, field
):
    member = MemberFactory()
    service = make_service(platforms=("instagram", "x"), photo_link_count=2)
    data = _valid_data(service)
    for key, value in overrides.items():
        if value is _MISSING:
            del data[key]
        else:
            data[key] = value

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, _token_for(member), data)

    body = _error_body(response, 400)
    assert field in body["errors"], body
    assert not Order.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_every_bad_field_is_reported_at_once(client):
    member = MemberFactory()
    data = _valid_data(make_service(), sns_account_id="", photo_links=["http://x"], phone="1")

    body = _error_body(_post(client, _token_for(member), data), 400)

    assert {"sns_account_id", "photo_links", "phone"} <= set(body["errors"])


@pytest.mark.django_db
def test_every_field_the_service_refuses_is_reported_at_once(client):
    """Input the schema allows but the service's rules refuse: each field's error together."""
    member = MemberFactory()
    data = _valid_data(make_service(), sns_account_id="bad id", photo_links=["https://x", "https://y"] * 2)

    body = _error_body(_post(client, _token_for(member), data), 400)

    assert {"sns_account_id", "photo_links"} <= set(body["errors"])


@pytest.mark.django_db
def test_an_unknown_service_is_a_field_error(client):
    member = MemberFactory()
    service = make_service()

    for service_id in (service.pk + 1000, 2**63 - 1, 2**63, 10**30, 0, -1):
        body = _error_body(
            _post(client, _token_for(member), {**_valid_data(service), "service": service_id}), 400
        )
        assert list(body["errors"]) == ["service"], service_id
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_service_off_sale_is_a_field_error(client, mailoutbox):
    member = MemberFactory()
    service = make_service(is_active=False)

    body = _error_body(_post(client, _token_for(member), _valid_data(service)), 400)

    assert list(body["errors"]) == ["service"]
    assert not Order.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_an_inactive_platform_cannot_be_chosen(client):
    member = MemberFactory()
    service = make_service()
    SnsPlatform.objects.filter(code="instagram").update(is_active=False)

    body = _error_body(_post(client, _token_for(member), _valid_data(service)), 400)

    assert list(body["errors"]) == ["sns_platform"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body", ["{", "", "[]", '"service"', "null", "1", '{"service": NaN}', "{'service': 1}", "\x00"]
)
@pytest.mark.django_db
def test_a_malformed_body_is_400_json(client, body):
    member = MemberFactory()
    make_service()

    _error_body(_post(client, _token_for(member), body), 400)

    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_form_body_is_415_json(client):
    member = MemberFactory()
    service = make_service()

    response = client.post(
        ORDERS_URL,
        f"service={service.pk}&sns_platform=instagram",
        content_type="application/x-www-form-urlencoded",
        **_auth(_token_for(member)),
    )

    _error_body(response, 415)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_an_unconfirmed_member_cannot_order(client, mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory(email_confirmed_at=None)
    service = make_service()

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, _token_for(member), _valid_data(service), HTTP_ACCEPT_LANGUAGE="en")

    body = _error_body(response, 403)
    assert body["message"] == UNCONFIRMED_MESSAGE
    assert body["errors"] == {}
    assert not Order.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db
def test_ordering_without_a_token_is_401_json(client):
    service = make_service()

    response = client.post(ORDERS_URL, json.dumps(_valid_data(service)), content_type="application/json")

    _error_body(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_browser_session_cannot_order(client):
    member = MemberFactory()
    client.force_login(member)

    response = client.post(
        ORDERS_URL, json.dumps(_valid_data(make_service())), content_type="application/json"
    )

    _error_body(response, 401)
    assert not Order.objects.exists()


# --- GET /orders and /orders/{id} -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_only_the_callers_orders_newest_first(client):
    member, other = MemberFactory(), MemberFactory()
    service = make_service()
    first = _place(member, service)
    second = _place(member, service, sns_platform="x", sns_account_id="kira_02")
    _place(other, service)

    response = client.get(ORDERS_URL, **_auth(_token_for(member)))

    assert response.status_code == 200
    body = response.json()["results"]
    assert [order["id"] for order in body] == [str(second.pk), str(first.pk)]
    assert all(set(order) == ORDER_FIELDS for order in body)
    assert body[0]["sns_platform"] == "x"
    assert body[0]["sns_account_id"] == "kira_02"


@pytest.mark.django_db
def test_the_list_is_empty_for_a_new_member(client):
    response = client.get(ORDERS_URL, **_auth(_token_for(MemberFactory())))
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


@pytest.mark.django_db
def test_the_list_takes_a_fixed_number_of_queries(client):
    member = MemberFactory()
    service = make_service()
    token = _token_for(member)
    _place(member, service)
    client.get(ORDERS_URL, **_auth(token))  # warm whatever the process caches

    with CaptureQueriesContext(connection) as one:
        client.get(ORDERS_URL, **_auth(token))
    for _ in range(4):
        _place(member, make_service(), sns_platform="x", sns_account_id="kira_02")
    with CaptureQueriesContext(connection) as five:
        response = client.get(ORDERS_URL, **_auth(token))

    assert len(response.json()["results"]) == 5
    assert len(one) == len(five)


@pytest.mark.django_db
def test_the_list_without_a_token_is_401_json(client):
    _error_body(client.get(ORDERS_URL), 401)


@pytest.mark.django_db
def test_the_detail_shows_the_callers_order(client, settings):
    member = MemberFactory()
    order = _place(member, make_service(price_yen=3000))

    response = client.get(f"{ORDERS_URL}/{order.pk}", **_auth(_token_for(member)))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == ORDER_FIELDS
    assert body["id"] == str(order.pk)
    assert body["payment"]["bank"] == STUDIO_ACCOUNT_JA
    assert body["payment"]["amount_yen"] == 3000


@pytest.mark.django_db
def test_the_detail_accepts_an_upper_case_id(client):
    member = MemberFactory()
    order = _place(member, make_service())

    response = client.get(f"{ORDERS_URL}/{str(order.pk).upper()}", **_auth(_token_for(member)))

    assert response.status_code == 200
    assert response.json()["id"] == str(order.pk)


@pytest.mark.django_db
def test_another_members_order_is_404_json(client):
    owner, other = MemberFactory(), MemberFactory()
    order = _place(owner, make_service())

    body = _error_body(client.get(f"{ORDERS_URL}/{order.pk}", **_auth(_token_for(other))), 404)

    assert body["errors"] == {}
    assert order.reference not in str(body)


@pytest.mark.parametrize(
    "order_id",
    ["not-a-uuid", "1", "0" * 33, str(uuid.uuid4())[:-1], "%00", "..", "x" * 300, str(uuid.uuid4())],
)
@pytest.mark.django_db
def test_a_malformed_or_unknown_order_id_is_404_json(client, order_id):
    member = MemberFactory()
    _place(member, make_service())
    _error_body(client.get(f"{ORDERS_URL}/{order_id}", **_auth(_token_for(member))), 404)


@pytest.mark.django_db
def test_the_detail_without_a_token_is_401_json(client):
    order = _place(MemberFactory(), make_service())
    _error_body(client.get(f"{ORDERS_URL}/{order.pk}"), 401)


@pytest.mark.django_db
def test_a_paid_order_has_no_payment_details(client):
    member = MemberFactory()
    order = _place(member, make_service())
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)

    body = client.get(
        f"{ORDERS_URL}/{order.pk}", **_auth(_token_for(member)), HTTP_ACCEPT_LANGUAGE="en"
    ).json()

    assert body["status"] == "paid"
    assert body["status_display"] == "Paid"
    assert body["payment"] is None


@pytest.mark.django_db
def test_a_later_price_change_does_not_alter_an_order(client):
    member = MemberFactory()
    service = make_service(price_yen=3000)
    order = _place(member, service)
    Service.objects.filter(pk=service.pk).update(price_yen=9999)

    body = client.get(f"{ORDERS_URL}/{order.pk}", **_auth(_token_for(member))).json()

    assert body["price_yen"] == 3000
    assert body["payment"]["amount_yen"] == 3000


# PATCH changes an open order's phone (the member's own correction): the only change there is.
@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.django_db
def test_an_order_cannot_be_changed_through_the_api(client, method):
    member = MemberFactory()
    order = _place(member, make_service())

    response = getattr(client, method)(
        f"{ORDERS_URL}/{order.pk}", "{}", content_type="application/json", **_auth(_token_for(member))
    )

    _error_body(response, 405)
    assert Order.objects.filter(pk=order.pk).exists()


# --- The API's description ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_describes_the_orders_api(client):
    document = yaml.safe_load(client.get("/api/schema/").content)
    paths = document["paths"]

    assert "get" in paths["/api/v1/services"]
    assert paths["/api/v1/services"]["get"].get("security", []) in ([], [{}])
    assert {"get", "post"} <= set(paths["/api/v1/orders"])
    assert paths["/api/v1/orders"]["post"]["security"]
    assert {"201", "400", "401", "403"} <= set(paths["/api/v1/orders"]["post"]["responses"])
    assert paths["/api/v1/orders/{order_id}"]["get"]["security"]
    assert "404" in paths["/api/v1/orders/{order_id}"]["get"]["responses"]



@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "bank_name", "branch", "account_type"),
    [
        ("en", "Kirakira Bank", "Shibuya Branch (123)", "Ordinary (普通)"),
        ("ko", "키라키라 은행", "시부야 지점 (123)", "보통(普通)"),
    ],
)
def test_the_bank_account_comes_in_the_requests_language(client, language, bank_name, branch, account_type):
    member = MemberFactory()
    order = _place(member, make_service(price_yen=3000))
    response = client.get(
        f"{ORDERS_URL}/{order.pk}", HTTP_ACCEPT_LANGUAGE=language, **_auth(_token_for(member))
    )
    assert response.json()["payment"]["bank"] == {
        **STUDIO_ACCOUNT_JA,
        "bank_name": bank_name,
        "branch": branch,
        "account_type": account_type,
    }
