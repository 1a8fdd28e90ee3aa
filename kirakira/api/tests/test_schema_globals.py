"""What the schema says of every operation, and that the server does it: a body refused before any
view reads it (400, 413, 415), 401 without a token, 429 with Retry-After, ETag and 304, links from
one call to the next, and error messages in the request's language."""

import json
import re
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.settings import api_settings

from kirakira.api.testing import api_token, error_body
from kirakira.common.ratelimit import ScopedThrottle
from kirakira.common.testing import MemberFactory
from kirakira.consultations.testing import open_for_member
from kirakira.orders.testing import place_order

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
ERROR_REF = "#/components/schemas/ErrorOutput"


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    """Throttle counters live in the cache, which outlives a test's database transaction."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def document(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


@pytest.fixture
def member():
    return MemberFactory()


@pytest.fixture
def api(client, member):
    """A client that sends the member's token."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token(member)}"
    return client


@pytest.fixture
def path_values(member):
    """A real object of the member's for each path parameter, so that a request gets as far as
    its body."""
    return {
        "order_id": place_order(member=member).pk,
        "consultation_id": open_for_member(member).pk,
    }


def fill(path: str, values: dict) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: str(values.get(m.group(1), uuid.uuid4())), path)


def assert_error_response(response_object):
    assert response_object["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}


# --- Refused bodies: 400, 413, 415 ----------------------------------------------------------------


def test_every_operation_with_a_body_documents_400_413_and_415_in_the_error_shape(document):
    with_body = [(path, method, op) for path, method, op in operations(document) if "requestBody" in op]
    assert len(with_body) >= 6
    for path, method, operation in with_body:
        for status in ("400", "413", "415"):
            assert status in operation["responses"], (path, method, status)
            assert_error_response(operation["responses"][status])


def test_a_text_body_is_415_json_on_every_operation_that_takes_a_body(document, api, path_values):
    checked = 0
    for path, method, operation in operations(document):
        if "requestBody" not in operation:
            continue
        response = getattr(api, method)(fill(path, path_values), "hello", content_type="text/plain")
        body = error_body(response, 415)
        assert "text/plain" in body["message"], (path, method)
        checked += 1
    assert checked >= 6


def test_a_body_over_the_limit_is_413_json_on_every_operation_that_takes_a_body(
    document, api, path_values, settings
):
    settings.API_MAX_BODY_BYTES = 200
    body = json.dumps({"body": "x" * 300})
    for path, method, operation in operations(document):
        if "requestBody" not in operation:
            continue
        response = getattr(api, method)(fill(path, path_values), body, content_type="application/json")
        assert "200" in error_body(response, 413)["message"], (path, method)


def test_a_body_that_is_not_json_is_400_and_says_where_in_the_language_of_the_request(api):
    response = api.post("/api/v1/orders", '{"service": 1,', content_type="application/json")

    message = error_body(response, 400)["message"]
    assert "JSON parse error" not in message
    assert "Expecting" not in message
    assert "1" in message and "15" in message  # line 1, column 15


def test_a_json_null_body_is_400_without_drf_s_english_literal(api):
    body = error_body(api.post("/api/v1/orders", "null", content_type="application/json"), 400)

    assert "No data provided" not in json.dumps(body)
    assert body["errors"]["non_field_errors"]


# --- 401 and 429 --------------------------------------------------------------------------------


def test_every_operation_that_needs_a_token_documents_401_and_answers_it_without_one(
    document, client, path_values
):
    needing = [(p, m, o) for p, m, o in operations(document) if o.get("security")]
    assert len(needing) >= 10
    for path, method, operation in needing:
        assert "401" in operation["responses"], (path, method)
        assert_error_response(operation["responses"]["401"])
        response = getattr(client, method)(fill(path, path_values), content_type="application/json")
        error_body(response, 401)
        assert response["WWW-Authenticate"] == "Bearer"


def test_every_throttled_operation_documents_429_with_retry_after(document):
    register = document["paths"]["/api/v1/auth/register"]["post"]
    assert_error_response(register["responses"]["429"])
    assert "Retry-After" in register["responses"]["429"]["headers"]


def _use_register_rate(settings, monkeypatch, rate):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "register": rate}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # DRF's throttle classes copy the rates when rest_framework.throttling is imported.
    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", rates)


@pytest.mark.parametrize("language", ["en", "ja", "ko"])
def test_a_throttled_request_says_when_to_try_again_in_one_language(client, settings, monkeypatch, language):
    """Observed: the Japanese throttle message ended in English ("Expected available in N
    seconds."), which DRF appends in English whatever the language."""
    _use_register_rate(settings, monkeypatch, "1/minute")
    client.post("/api/v1/auth/register", "{}", content_type="application/json")

    response = client.post(
        "/api/v1/auth/register", "{}", content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
    )

    message = error_body(response, 429)["message"]
    seconds = int(response["Retry-After"])
    assert 0 < seconds <= 60
    assert "Expected available" not in message
    assert str(seconds) in message
    if language != "en":
        assert_in_language(message)


# --- ETag and If-None-Match ---------------------------------------------------------------------


DETAILS = ["/api/v1/orders/{order_id}", "/api/v1/consultations/{consultation_id}", "/api/v1/me"]


def test_the_schema_documents_etag_if_none_match_and_304_on_single_objects(document):
    for path in DETAILS:
        operation = document["paths"][path]["get"]
        assert operation["responses"]["200"]["headers"]["ETag"]["required"] is True
        assert "ETag" in operation["responses"]["304"]["headers"]
        assert "content" not in operation["responses"]["304"]
        assert {"in": "header", "name": "If-None-Match"}.items() <= next(
            p for p in operation["parameters"] if p["name"] == "If-None-Match"
        ).items()


def _etag_round_trip(api, url):
    first = api.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert "Content-Security-Policy" in again
    return etag


def test_an_order_answers_304_while_unchanged_and_a_new_etag_once_cancelled(api, path_values):
    url = f"/api/v1/orders/{path_values['order_id']}"
    etag = _etag_round_trip(api, url)

    cancel = api.post(
        f"{url}/cancel", json.dumps({"reason": "気が変わりました"}), content_type="application/json"
    )
    assert cancel.status_code == 200, cancel.content

    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["status"] == "cancelled"


def test_a_consultation_answers_304_while_unchanged_and_a_new_etag_after_a_message(api, path_values):
    url = f"/api/v1/consultations/{path_values['consultation_id']}"
    etag = _etag_round_trip(api, url)

    posted = api.post(f"{url}/messages", json.dumps({"body": "追記です。"}), content_type="application/json")
    assert posted.status_code == 201, posted.content

    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_me_answers_304_while_unchanged_and_a_new_etag_after_a_change(api):
    etag = _etag_round_trip(api, "/api/v1/me")

    patched = api.patch("/api/v1/me", json.dumps({"name": "新しい 名前"}), content_type="application/json")
    assert patched.status_code == 200, patched.content

    changed = api.get("/api/v1/me", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_an_etag_matches_only_the_same_body_for_the_same_member_and_language(api, path_values):
    order_url = f"/api/v1/orders/{path_values['order_id']}"
    etag = api.get(order_url)["ETag"]
    other = Client(HTTP_AUTHORIZATION=f"Bearer {api_token(MemberFactory())}")

    # Another member's copy of "me" is another body; their request for this order is a 404.
    assert other.get("/api/v1/me", HTTP_IF_NONE_MATCH=api.get("/api/v1/me")["ETag"]).status_code == 200
    assert other.get(order_url, HTTP_IF_NONE_MATCH=etag).status_code == 404
    # The order in English (its status worded in English) is another body with another tag.
    english = api.get(order_url, HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200
    assert english["ETag"] != etag
    assert "Accept-Language" in english["Vary"]


def test_errors_stay_json_beside_conditional_requests(api):
    """A 404 page and a failed If-Match (412 from ConditionalGetMiddleware) still come out in
    the one error shape; an error carries no ETag of an HTML page it replaced."""
    missing = api.get("/api/v1/no-such-thing")
    error_body(missing, 404)

    failed = api.get("/api/v1/me", HTTP_IF_MATCH='"not-the-tag"')
    error_body(failed, 412)
    assert "ETag" not in failed


def test_pages_keep_their_content_security_policy(client):
    response = client.get("/")

    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert client.get("/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code in (200, 304)


# --- Links ----------------------------------------------------------------------------------------


def _link_target(document, link):
    if "operationId" in link:
        found = [(p, m) for p, m, o in operations(document) if o["operationId"] == link["operationId"]]
        assert len(found) == 1, link
        return found[0]
    path, method = link["operationRef"].removeprefix("#/paths/").rsplit("/", 1)
    return path.replace("~1", "/").replace("~0", "~"), method


def test_links_lead_from_each_call_to_the_next(document):
    expected = {
        ("/api/v1/orders", "post", "201"): {"/api/v1/orders/{order_id}", "/api/v1/orders/{order_id}/cancel"},
        ("/api/v1/orders/{order_id}", "get", "200"): {"/api/v1/orders/{order_id}/cancel"},
        ("/api/v1/consultations", "post", "201"): {
            "/api/v1/consultations/{consultation_id}",
            "/api/v1/consultations/{consultation_id}/messages",
        },
        ("/api/v1/consultations/{consultation_id}", "get", "200"): {
            "/api/v1/consultations/{consultation_id}/messages"
        },
        ("/api/v1/auth/register", "post", "201"): {"/api/v1/auth/token"},
        ("/api/v1/auth/token", "post", "200"): {"/api/v1/me"},
    }
    for (path, method, status), targets in expected.items():
        links = document["paths"][path][method]["responses"][status]["links"]
        reached = {}
        for link in links.values():
            target_path, target_method = _link_target(document, link)
            reached[target_path] = (target_method, link)
        assert targets <= set(reached), (path, method, set(reached))
        for target_path in targets:
            target_method, link = reached[target_path]
            target = document["paths"][target_path][target_method]
            names = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
            assert names == set(link.get("parameters", {})) - {"header.Authorization"}
            assert all(
                value == "$response.body#/id"
                for name, value in link.get("parameters", {}).items()
                if name in names
            )
    register_link = next(
        iter(document["paths"]["/api/v1/auth/register"]["post"]["responses"]["201"]["links"].values())
    )
    assert register_link["requestBody"] == {"login_id": "$response.body#/login_id"}
    token_link = next(
        iter(document["paths"]["/api/v1/auth/token"]["post"]["responses"]["200"]["links"].values())
    )
    assert token_link["parameters"] == {"header.Authorization": "Bearer {$response.body#/token}"}


def test_list_operations_are_named_as_lists(document):
    ids = [operation["operationId"] for _path, _method, operation in operations(document)]
    assert len(ids) == len(set(ids))
    for path in ("/api/v1/orders", "/api/v1/consultations"):
        assert document["paths"][path]["get"]["operationId"].endswith("_list")


# --- Messages in the request's language ------------------------------------------------------------

# Technical words a message may quote as they are.
_TECHNICAL = "JSON|UUID|null|true|false|Accept|Content-Type|Content-Length|Bearer|ETag"
_VERBATIM = re.compile(rf'"[^"]*"|(?<![A-Za-z])(?:{_TECHNICAL})(?![A-Za-z])')
_ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")


def assert_in_language(message: str) -> None:
    """No English word left in ``message`` (quoted input and technical words apart)."""
    leftover = _ENGLISH_WORD.findall(_VERBATIM.sub("", message))
    assert not leftover, f"English in {message!r}: {leftover}"


def _all_messages(body) -> list[str]:
    return [body["message"], *(m for messages in body["errors"].values() for m in messages)]


BAD_ORDERS = [
    ("no token", None, None),
    ("unknown token", "Bearer not-a-token", None),
    ("token with spaces", "Bearer a b", None),
    ("not JSON", "token", "{x"),
    ("NaN", "token", '{"service": NaN}'),
    ("JSON null", "token", "null"),
    ("a list", "token", "[]"),
    ("empty object", "token", "{}"),
    (
        "wrong types",
        "token",
        json.dumps(
            {
                "service": 0,
                "sns_platform": 5,
                "sns_account_id": None,
                "photo_links": "x",
                "note": [],
                "phone": "",
            }
        ),
    ),
    ("text as a number", "token", json.dumps({"service": "1", "sns_platform": True})),
]


@pytest.mark.parametrize("language", ["ja", "ko"])
@pytest.mark.parametrize(("case", "authorization", "body"), BAD_ORDERS, ids=[c[0] for c in BAD_ORDERS])
def test_order_errors_are_in_the_language_of_the_request(client, member, language, case, authorization, body):
    """Observed: DRF's own messages came through in English ("No data provided", "JSON parse
    error", "Not a valid string.")."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    if authorization == "token":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {api_token(member)}"
    elif authorization:
        headers["HTTP_AUTHORIZATION"] = authorization
    response = client.post("/api/v1/orders", body or "{}", content_type="application/json", **headers)
    english = client.post(
        "/api/v1/orders",
        body or "{}",
        content_type="application/json",
        **{**headers, "HTTP_ACCEPT_LANGUAGE": "en"},
    )

    assert response.status_code in (400, 401)
    for message, message_en in zip(
        _all_messages(error_body(response, response.status_code)),
        _all_messages(error_body(english, english.status_code)),
        strict=True,
    ):
        assert message != message_en
        assert_in_language(message)


OTHER_BAD_REQUESTS = [
    ("a body that is not JSON", "post", "/api/v1/orders", "hello", "text/plain"),
    ("an unknown service", "post", "/api/v1/orders", json.dumps({"service": 999999}), "application/json"),
    ("a method not allowed", "delete", "/api/v1/orders", "", "application/json"),
    ("an unknown order", "get", f"/api/v1/orders/{uuid.UUID(int=1)}", "", "application/json"),
    ("an unknown path", "get", "/api/v1/nothing-here", "", "application/json"),
    (
        "a bad consultation",
        "post",
        "/api/v1/consultations",
        json.dumps({"category": "zzz", "subject": 1, "body": "", "order": "x"}),
        "application/json",
    ),
    ("a bad page size", "get", "/api/v1/orders?page_size=0", "", "application/json"),
    ("a bad cursor", "get", "/api/v1/orders?cursor=zz", "", "application/json"),
    ("a blank name", "patch", "/api/v1/me", json.dumps({"name": ""}), "application/json"),
    (
        "an empty registration",
        "post",
        "/api/v1/auth/register",
        json.dumps({"login_id": "", "name": 3}),
        "application/json",
    ),
    (
        "a wrong password",
        "post",
        "/api/v1/auth/token",
        json.dumps({"login_id": "nobody", "password": "x"}),
        "application/json",
    ),
]


@pytest.mark.parametrize("language", ["ja", "ko"])
@pytest.mark.parametrize(
    ("case", "method", "url", "body", "content_type"),
    OTHER_BAD_REQUESTS,
    ids=[c[0] for c in OTHER_BAD_REQUESTS],
)
def test_other_errors_are_in_the_language_of_the_request(
    api, language, case, method, url, body, content_type
):
    response = getattr(api, method)(url, body, content_type=content_type, HTTP_ACCEPT_LANGUAGE=language)
    english = getattr(api, method)(url, body, content_type=content_type, HTTP_ACCEPT_LANGUAGE="en")

    assert 400 <= response.status_code < 500
    for message, message_en in zip(
        _all_messages(error_body(response, response.status_code)),
        _all_messages(error_body(english, english.status_code)),
        strict=True,
    ):
        assert message != message_en, case
        assert_in_language(message)
