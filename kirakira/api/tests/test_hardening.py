"""The API against hostile bodies and unexpected errors: deeply nested JSON is a 400, a body over
``API_MAX_BODY_BYTES`` is a 413 naming the limit, and every error under /api/ is JSON in the one
error shape, with DEBUG on or off.

Every JSON endpoint is found by walking the URL resolver, so a new endpoint is covered without
editing this file.
"""

import io
import json

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponse
from django.test import Client
from django.urls import get_resolver, include, path, reverse
from django.utils import translation
from django.views.decorators.http import require_POST
from knox.models import AuthToken

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401 - this URLconf's
from config.urls import urlpatterns as site_urlpatterns
from kirakira.api.parsers import MAX_DEPTH, JSONParser, nesting_exceeds
from kirakira.api.testing import asgi_post, error_body
from kirakira.common.testing import MemberFactory
from kirakira.consultations.testing import open_for_member
from kirakira.orders.testing import place_order

BODY_METHODS = ("post", "put", "patch")


def _json_endpoints() -> list[tuple[str, object, str]]:
    """(URL name, URL pattern, method) of every view under /api/v1/ that takes a body."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, route, pattern.namespace or namespace)
                continue
            view_class = getattr(pattern.callback, "cls", None)
            if not route.startswith("api/v1/") or view_class is None:
                continue
            for method in BODY_METHODS:
                if hasattr(view_class, method):
                    found.append((f"{namespace}:{pattern.name}", pattern, method))

    walk(get_resolver().url_patterns, "", None)
    return found


JSON_ENDPOINTS = _json_endpoints()
ENDPOINT_IDS = [f"{method.upper()} {name}" for name, _pattern, method in JSON_ENDPOINTS]


@pytest.fixture
def caller(db):
    """A member with a token and one object of each kind a URL can name."""
    member = MemberFactory()
    _instance, token = AuthToken.objects.create(member)
    ids = {
        "order_id": str(place_order(member=member).pk),
        "consultation_id": str(open_for_member(member).pk),
    }
    return {"auth": {"HTTP_AUTHORIZATION": f"Bearer {token}"}, "ids": ids}


def _url(name, pattern, ids) -> str:
    names = list(pattern.pattern.regex.groupindex)
    missing = [name for name in names if name not in ids]
    assert not missing, f"{name}: give the caller fixture an object for {missing}"
    return reverse(name, kwargs={key: ids[key] for key in names})


def _send(client, method, url, body: bytes, **extra):
    return getattr(client, method)(url, body, content_type="application/json", **extra)


def test_the_walk_finds_the_json_endpoints():
    found = {(name, method) for name, _pattern, method in JSON_ENDPOINTS}
    assert {
        ("api_v1:auth-register", "post"),
        ("api_v1:auth-token", "post"),
        ("api_v1:me", "patch"),
        ("api_v1:orders", "post"),
        ("api_v1:order-cancel", "post"),
        ("api_v1:consultations", "post"),
        ("api_v1:consultation-messages", "post"),
    } <= found


# --- Nested bodies ------------------------------------------------------------------------------

NESTED_BODIES = {
    "arrays": b"[" * 1000 + b"]" * 1000,
    "objects": b'{"a":' * 1000 + b"1" + b"}" * 1000,
}


@pytest.mark.parametrize("shape", NESTED_BODIES)
@pytest.mark.parametrize(("name", "pattern", "method"), JSON_ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_deeply_nested_body_is_a_400_on_every_json_endpoint(client, caller, name, pattern, method, shape):
    url = _url(name, pattern, caller["ids"])
    response = _send(client, method, url, NESTED_BODIES[shape], HTTP_ACCEPT_LANGUAGE="en", **caller["auth"])
    body = error_body(response, 400)
    assert body["message"] == f"The JSON is nested too deeply (more than {MAX_DEPTH} levels)."


def test_nesting_is_refused_without_an_account_and_in_the_callers_language(client, db):
    response = _send(client, "post", "/api/v1/auth/token", NESTED_BODIES["arrays"], HTTP_ACCEPT_LANGUAGE="ja")
    body = error_body(response, 400)
    with translation.override("ja"):
        expected = translation.gettext("The JSON is nested too deeply (more than %(depth)s levels).")
    assert body["message"] == expected % {"depth": MAX_DEPTH}


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = '{"a": "' + "[{" * 1000 + '", "b": "\\"' + "[" * 1000 + '"}'
    assert JSONParser().parse(io.BytesIO(text.encode())) == {"a": "[{" * 1000, "b": '"' + "[" * 1000}


def test_an_unclosed_string_is_read_in_one_pass():
    """A body of unclosed quotes made the string pattern rescan from every quote: seconds of CPU
    for 40 KB on the unauthenticated endpoints. An unclosed literal now runs to the end of the
    body in one match, so no quote is read twice."""
    from kirakira.api.parsers import _STRING

    assert _STRING.fullmatch(b'"no closing quote [[[')
    assert _STRING.fullmatch(b'"ends in a backslash\\')
    assert _STRING.sub(b"", b'["a", "b\\"c", "[') == b"[, , "
    hostile = (b'"\\' + b"a" * 10) * 20_000  # 240 KB of unclosed literals
    assert not nesting_exceeds(hostile, MAX_DEPTH)


def test_a_body_of_unclosed_quotes_is_a_plain_400(client, db):
    hostile = b"[" + b'"\\aaaaaaaaaa' * 20_000
    response = client.post("/api/v1/auth/token", hostile, content_type="application/json")
    error_body(response, 400)


def test_nesting_up_to_the_limit_is_accepted():
    assert not nesting_exceeds(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, MAX_DEPTH)
    assert nesting_exceeds(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), MAX_DEPTH)
    value = JSONParser().parse(io.BytesIO(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH))
    assert isinstance(value, list)


# --- Oversized bodies ---------------------------------------------------------------------------


def _oversized(limit: int) -> bytes:
    padding = limit + 1 - len(b'{"x": ""}')
    return b'{"x": "' + b"a" * padding + b'"}'


@pytest.mark.parametrize(("name", "pattern", "method"), JSON_ENDPOINTS, ids=ENDPOINT_IDS)
def test_an_oversized_body_is_a_413_naming_the_limit_on_every_json_endpoint(
    client, caller, settings, name, pattern, method
):
    limit = settings.API_MAX_BODY_BYTES
    assert limit == 1024 * 1024  # the documented default
    url = _url(name, pattern, caller["ids"])
    response = _send(client, method, url, _oversized(limit), HTTP_ACCEPT_LANGUAGE="en", **caller["auth"])
    body = error_body(response, 413)
    assert body["message"] == f"The request body is too large: the limit is {limit} bytes."


def test_the_limit_is_a_setting(client, db, settings):
    settings.API_MAX_BODY_BYTES = 200
    error_body(_send(client, "post", "/api/v1/auth/token", _oversized(200)), 413)
    at_the_limit = json.dumps({"login_id": 5, "password": "x" * 150}).encode()
    assert len(at_the_limit) <= 200
    body = error_body(_send(client, "post", "/api/v1/auth/token", at_the_limit), 400)
    assert "login_id" in body["errors"]


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(client, db):
    # The test client's payload refuses to be read past its two bytes: a read would be an error.
    response = client.post(
        "/api/v1/auth/register", b"{}", content_type="application/json", CONTENT_LENGTH=str(10**9)
    )
    error_body(response, 413)


def test_the_parser_counts_the_bytes_it_gets_whatever_was_declared(settings):
    from kirakira.api.parsers import RequestTooLarge

    settings.API_MAX_BODY_BYTES = 100
    with pytest.raises(RequestTooLarge) as refused:
        JSONParser().parse(io.BytesIO(_oversized(100)))
    assert "100" in str(refused.value.detail)


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_the_limit_is_a_413(settings):
    settings.API_MAX_BODY_BYTES = 1000
    status, body = asgi_post("/api/v1/auth/token", [b'{"login_id": "', b"a" * 600, b"a" * 600 + b'"}'])
    assert status == 413
    assert body == {"message": "The request body is too large: the limit is 1000 bytes.", "errors": {}}


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_within_the_limit_is_read(settings):
    settings.API_MAX_BODY_BYTES = 1000
    status, body = asgi_post("/api/v1/auth/token", [b'{"login_id": 5,', b' "password": "x"}'])
    assert status == 400
    assert list(body["errors"]) == ["login_id"]  # the body was parsed: its login ID is not text

    status, body = asgi_post("/api/v1/auth/token", [b"[" * 600, b"]" * 300])
    assert status == 400
    assert "nested" in body["message"]


# --- Every error under /api/ is JSON ------------------------------------------------------------


def _boom(request):
    raise RuntimeError("an unexpected fault")


@require_POST
def _post_only(request):
    return HttpResponse("ok")


def _page_error(request):
    return HttpResponse("<h1>Conflict</h1>", status=409, headers={"X-Kept": "yes"})


def _raise(exception):
    def view(request):
        raise exception

    return view


def _form(request):
    return HttpResponse("ok")


# This module is the URLconf of the tests below: the site's URLs, and views under /api/ that fail
# in ways no real endpoint does today.
urlpatterns = [
    path(
        "api/test/",
        include(
            [
                path("boom", _boom),
                path("post-only", _post_only),
                path("conflict", _page_error),
                path("suspicious", _raise(SuspiciousOperation("a crafted request"))),
                path("denied", _raise(PermissionDenied())),
                path("missing", _raise(Http404("nothing here"))),
                path("form", _form),
            ]
        ),
    ),
    *site_urlpatterns,
]


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def api_client(request, settings, db):
    settings.DEBUG = request.param
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    return client


def _in(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


@pytest.mark.parametrize("url", ["/api/v1/nope", "/api/nope", "/api/v1/me/extra", "/api/test/nope"])
def test_an_unknown_api_path_is_a_json_404(api_client, url):
    body = error_body(api_client.get(url), 404)
    assert body["message"] == "Not found."


def test_a_404_raised_by_a_view_is_json(api_client):
    assert error_body(api_client.get("/api/test/missing"), 404)["message"] == "Not found."


def test_a_server_error_is_a_json_500_without_the_traceback(api_client):
    response = api_client.get("/api/test/boom")
    body = error_body(response, 500)
    assert body["message"] == "An internal error occurred."
    assert b"unexpected fault" not in response.content
    assert b"Traceback" not in response.content


def test_a_method_not_allowed_is_json_and_keeps_its_allow_header(api_client):
    response = api_client.get("/api/test/post-only")
    body = error_body(response, 405)
    assert body["message"] == "The method GET is not allowed here."
    assert response["Allow"] == "POST"


def test_a_405_of_an_api_endpoint_is_json(api_client):
    error_body(api_client.delete("/api/v1/auth/token"), 405)


def test_a_suspicious_request_is_a_json_400(api_client):
    assert error_body(api_client.get("/api/test/suspicious"), 400)["message"] == "Bad request."


def test_a_permission_error_is_a_json_403(api_client):
    error_body(api_client.get("/api/test/denied"), 403)


def test_a_csrf_failure_is_json(settings, db):
    settings.ROOT_URLCONF = __name__
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    error_body(client.post("/api/test/form", {"a": "b"}), 403)


def test_any_other_page_error_becomes_json_with_its_status_and_headers(api_client):
    response = api_client.get("/api/test/conflict")
    body = error_body(response, 409)
    assert "409" in body["message"]
    assert response["X-Kept"] == "yes"


def test_an_oversized_body_is_json_in_debug_too(api_client):
    error_body(_send(api_client, "post", "/api/test/boom", _oversized(1024 * 1024)), 413)


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
def test_the_errors_drawn_around_the_api_speak_the_callers_language(api_client, language):
    for url, message in [("/api/nope", "Not found."), ("/api/test/boom", "An internal error occurred.")]:
        response = api_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.json()["message"] == _in(language, message)
    too_large = _send(
        api_client, "post", "/api/v1/auth/token", _oversized(1024 * 1024), HTTP_ACCEPT_LANGUAGE=language
    )
    with translation.override(language):
        expected = translation.gettext("The request body is too large: the limit is %(limit)s bytes.")
    assert too_large.json()["message"] == expected % {"limit": 1024 * 1024}


def test_site_pages_keep_their_html_errors(api_client):
    response = api_client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
