"""The API's register and token endpoints: answers, errors, lockout, throttling and languages."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.settings import api_settings

from kirakira.accounts.models import User
from kirakira.api.testing import error_body as _error_body
from kirakira.common.ratelimit import ScopedThrottle
from kirakira.common.testing import PASSWORD, MemberFactory
from kirakira.legal.services import first_version

REGISTER_URL = "/api/v1/auth/register"
TOKEN_URL = "/api/v1/auth/token"
ME_URL = "/api/v1/me"

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")

WRONG_CREDENTIALS_EN = "The login ID or password is incorrect."
INVALID_REQUEST_EN = "The request has errors. Please check the fields."


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    """Throttle counters live in the cache, which outlives a test's database transaction."""
    cache.clear()
    yield
    cache.clear()


def _post(client, url, data, **extra):
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(url, body, content_type="application/json", **extra)


def _register(client, **overrides):
    """Register with these field values; upper-case keywords (REMOTE_ADDR, HTTP_...) are request
    headers, not fields."""
    extra = {key: overrides.pop(key) for key in list(overrides) if key.isupper()}
    data = {
        "login_id": "alice01",
        "name": "Alice",
        "email": "alice@example.com",
        "password": PASSWORD,
        "accept_terms": True,
    }
    data.update(overrides)
    return _post(client, REGISTER_URL, data, **extra)


def _token(client, login_id, password=PASSWORD, **extra):
    return _post(client, TOKEN_URL, {"login_id": login_id, "password": password}, **extra)


def _assert_in_language(text, language):
    if language == "ja":
        assert JAPANESE.search(text), f"not Japanese: {text!r}"
        assert not HANGUL.search(text)
    elif language == "ko":
        assert HANGUL.search(text), f"not Korean: {text!r}"
    else:
        assert text.isascii(), f"not English: {text!r}"


# --- Registration: success --------------------------------------------------------------------


@pytest.mark.django_db
def test_register_creates_a_member_and_answers_201_with_it(client):
    response = _register(client)

    assert response.status_code == 201
    body = response.json()
    user = User.objects.get()
    assert body["id"] == str(user.pk)
    assert body["login_id"] == "alice01"
    assert body["name"] == "Alice"
    assert body["email"] == "alice@example.com"
    assert body["email_confirmed"] is False
    assert "pending_email" in body
    assert not body["pending_email"]  # nothing awaiting confirmation ("" or null)
    assert body["language"] == "ja"
    assert body["date_joined"]
    assert user.login_id == "alice01"
    assert user.check_password(PASSWORD)
    assert user.email_confirmed_at is None
    assert not user.is_staff


@pytest.mark.django_db
def test_register_never_returns_the_password_or_its_hash(client):
    response = _register(client)

    assert response.status_code == 201
    body = response.json()
    assert not {key for key in body if "password" in key.lower() or "hash" in key.lower()}
    text = response.content.decode()
    assert PASSWORD not in text
    assert User.objects.get().password not in text
    assert "argon2" not in text
    assert "pbkdf2" not in text


@pytest.mark.django_db
def test_register_sends_the_confirmation_email_once_committed(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    first_version()  # published by the first registration of the site: here, before
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _register(client)

    assert response.status_code == 201
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@example.com"]
    assert "/accounts/confirm/" in message.body
    assert PASSWORD not in message.body


@pytest.mark.django_db
def test_the_emailed_link_confirms_the_registered_address(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert _register(client).status_code == 201
    link = re.search(r"http://testserver(\S*/accounts/confirm/\S+/)", mailoutbox[0].body).group(1)

    assert client.get(link).status_code == 200  # the page with the button confirms nothing yet
    response = client.post(link)

    assert response.status_code == 302
    assert User.objects.get().email_confirmed_at is not None


@pytest.mark.django_db
def test_register_normalises_login_id_and_email(client):
    response = _register(client, login_id="ＡＬＩＣＥ_01", email="Ａｌｉｃｅ@Example.COM", name="  Alice  ")

    assert response.status_code == 201
    user = User.objects.get()
    assert user.login_id == "alice_01"
    assert user.email == "alice@example.com"
    assert user.name == "Alice"
    assert response.json()["login_id"] == "alice_01"


@pytest.mark.django_db
def test_register_keeps_a_full_width_name_as_written(client):
    response = _register(client, name="山田　花子")

    assert response.status_code == 201
    assert User.objects.get().name == "山田　花子"


@pytest.mark.parametrize(("accept_language", "language"), [(None, "ja"), ("en", "en"), ("ko", "ko")])
@pytest.mark.django_db
def test_register_stores_the_request_language_on_the_member(client, accept_language, language):
    extra = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    data = {
        "login_id": "alice01",
        "name": "Alice",
        "email": "alice@example.com",
        "password": PASSWORD,
        "accept_terms": True,
    }

    response = _post(client, REGISTER_URL, data, **extra)

    assert response.status_code == 201
    assert response.json()["language"] == language
    assert User.objects.get().language == language


@pytest.mark.django_db
def test_register_does_not_need_a_csrf_token(client):
    client = type(client)(enforce_csrf_checks=True)
    assert _register(client).status_code == 201


@pytest.mark.django_db
def test_a_registered_member_can_get_a_token_and_use_it(client):
    assert _register(client).status_code == 201

    token = _token(client, "alice01").json()["token"]
    response = client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response.json()["login_id"] == "alice01"


# --- Registration: rejected input -------------------------------------------------------------


def _assert_rejected(response, field, status_code=400):
    body = _error_body(response, status_code)
    if field is not None:
        assert field in body["errors"], body
    assert not User.objects.exists()
    return body


@pytest.mark.parametrize(
    "login_id", ["taken01", "TAKEN01", "Taken01", "ｔａｋｅｎ０１", "ＴＡＫＥＮ01", " taken01 "]
)
@pytest.mark.django_db
def test_register_rejects_a_login_id_already_taken_in_any_case_or_width(client, mailoutbox, login_id):
    MemberFactory(login_id="taken01", email="owner@example.com")

    response = _register(client, login_id=login_id)

    body = _error_body(response, 400)
    assert list(body["errors"]) == ["login_id"]
    assert User.objects.count() == 1
    assert mailoutbox == []


@pytest.mark.parametrize(
    "email",
    ["owner@example.com", "OWNER@example.com", "Owner@Example.Com", "ｏｗｎｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ"],
)
@pytest.mark.django_db
def test_register_rejects_an_email_already_registered_in_any_case_or_width(client, mailoutbox, email):
    MemberFactory(login_id="taken01", email="owner@example.com")

    response = _register(client, email=email)

    body = _error_body(response, 400)
    assert list(body["errors"]) == ["email"]
    assert User.objects.count() == 1
    assert mailoutbox == []


@pytest.mark.django_db
def test_register_does_not_reveal_the_taken_account(client):
    MemberFactory(login_id="taken01", name="Secret Owner", email="owner@example.com")

    body = _error_body(_register(client, login_id="taken01", email="owner@example.com"), 400)

    assert set(body["errors"]) == {"login_id", "email"}
    assert "Secret Owner" not in json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize(
    "login_id",
    [
        "ab cd",
        "alice!",
        "alice@home",
        "アリス0001",
        "ali\u200bce",
        "alice\x00",
        "<script>",
        "abc",  # too short
        "a" * 31,  # too long after normalisation
        "a" * 61,  # too long for the serializer
        "",
        "    ",
    ],
)
@pytest.mark.django_db
def test_register_rejects_an_invalid_login_id(client, login_id):
    _assert_rejected(_register(client, login_id=login_id), "login_id")


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "\u3000",
        "a" * 101,
        "a" * 200,
        "Ali\u200bce",
        "Alice\x07",
        "Alice\x00",
        "Alice\u202e",
    ],
)
@pytest.mark.django_db
def test_register_rejects_an_invalid_name(client, name):
    _assert_rejected(_register(client, name=name), "name")


def test_a_name_of_exactly_the_maximum_length_is_accepted(client, db):
    assert _register(client, name="名" * 100).status_code == 201


@pytest.mark.parametrize(
    "email",
    [
        "",
        "not-an-email",
        "alice@",
        "@example.com",
        "alice@@example.com",
        "alice example@example.com",
        "alice@example.com\nBcc: victim@example.com",
        "a" * 250 + "@example.com",
        "a" * 400 + "@example.com",
    ],
)
@pytest.mark.django_db
def test_register_rejects_an_invalid_email(client, email):
    _assert_rejected(_register(client, email=email), "email")


@pytest.mark.parametrize(
    "password",
    [
        "password",
        "password123",
        "qwertyuiop",
        "short1!",
        "8493027561934",
        "alice01x1",  # too like the login ID
        "",
        "x" * 4097,
    ],
)
@pytest.mark.django_db
def test_register_rejects_a_weak_or_invalid_password(client, password):
    _assert_rejected(_register(client, password=password), "password")


@pytest.mark.parametrize("missing", ["login_id", "name", "email", "password"])
@pytest.mark.django_db
def test_register_rejects_a_missing_field(client, missing):
    data = {
        "login_id": "alice01",
        "name": "Alice",
        "email": "alice@example.com",
        "password": PASSWORD,
        "accept_terms": True,
    }
    del data[missing]

    body = _assert_rejected(_post(client, REGISTER_URL, data), missing)

    assert list(body["errors"]) == [missing]


@pytest.mark.django_db
def test_register_with_an_empty_object_lists_every_field(client):
    body = _assert_rejected(_post(client, REGISTER_URL, {}), None)
    assert set(body["errors"]) == {"login_id", "name", "email", "password", "accept_terms"}


@pytest.mark.parametrize("field", ["login_id", "name", "email", "password"])
@pytest.mark.parametrize("value", [None, ["alice01"], [], {"value": "alice01"}, True, False])
@pytest.mark.django_db
def test_register_rejects_a_value_that_is_not_a_string(client, field, value):
    _assert_rejected(_register(client, **{field: value}), field)


@pytest.mark.parametrize(
    ("field", "number"),
    [
        ("login_id", "12345678"),
        ("login_id", "1.5"),
        ("name", "42"),
        ("name", "1e400"),
        ("email", "12345"),
        ("password", "123456789012"),
        ("password", "3.14159265358979"),
    ],
)
@pytest.mark.django_db
def test_register_rejects_a_number_where_text_is_expected(client, field, number):
    data = {
        "login_id": "alice01",
        "name": "Alice",
        "email": "alice@example.com",
        "password": PASSWORD,
        "accept_terms": True,
    }
    data[field] = "__number__"
    body = json.dumps(data).replace('"__number__"', number)

    _assert_rejected(_post(client, REGISTER_URL, body), field)


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "{bad json}",
        '{"login_id": "alice01",}',
        '{"login_id": NaN}',
        '{"login_id": Infinity}',
        "\x00",
        "\xff\xfe",
        '"just a string"',
        "[]",
        "42",
        "null",
        "true",
    ],
)
@pytest.mark.django_db
def test_register_rejects_a_malformed_or_non_object_json_body(client, body):
    _assert_rejected(_post(client, REGISTER_URL, body), None)


@pytest.mark.django_db
def test_register_rejects_a_body_that_is_not_utf8(client):
    response = client.post(REGISTER_URL, b'{"login_id": "\xff\xfe"}', content_type="application/json")
    _assert_rejected(response, None)


@pytest.mark.django_db
def test_register_rejects_an_empty_body(client):
    _assert_rejected(client.post(REGISTER_URL, "", content_type="application/json"), None)


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "application/xml", "text/html"]
)
@pytest.mark.django_db
def test_register_answers_415_to_a_body_that_is_not_json(client, content_type):
    body = "login_id=alice01&name=Alice&email=alice%40example.com&password=" + PASSWORD
    _assert_rejected(client.post(REGISTER_URL, body, content_type=content_type), None, status_code=415)


@pytest.mark.django_db
def test_register_answers_415_to_a_multipart_form(client):
    data = {
        "login_id": "alice01",
        "name": "Alice",
        "email": "alice@example.com",
        "password": PASSWORD,
        "accept_terms": True,
    }
    _assert_rejected(client.post(REGISTER_URL, data), None, status_code=415)


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.django_db
def test_register_answers_other_methods_with_405_json(client, method):
    response = getattr(client, method)(REGISTER_URL)
    _assert_rejected(response, None, status_code=405)


@pytest.mark.django_db
def test_register_reports_every_field_error_of_form_at_once(client):
    """What the schema states (lengths, patterns, the email's form, the password's length) is
    checked first, every field together."""
    body = _assert_rejected(
        _register(client, login_id="a b", name="   ", email="nope", password="short1"), None
    )
    assert set(body["errors"]) == {"login_id", "name", "email", "password"}
    assert body["message"] == body["message"].strip()


@pytest.mark.django_db
def test_register_reports_every_refused_value_at_once(client):
    """Then what only the server can know (taken, too common), every field together."""
    MemberFactory(login_id="taken01", email="owner@example.com")

    body = _error_body(_register(client, login_id="TAKEN01", email="owner@example.com", password="password"), 400)

    assert set(body["errors"]) == {"login_id", "email", "password"}
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_register_refuses_fields_it_does_not_take_and_names_them(client):
    response = _register(client, is_staff=True, is_superuser=True, email_confirmed_at="2020-01-01T00:00:00Z")

    body = _assert_rejected(response, None)
    assert set(body["errors"]) == {"is_staff", "is_superuser", "email_confirmed_at"}


@pytest.mark.django_db
def test_register_names_an_unknown_field_beside_the_other_errors(client):
    body = _assert_rejected(_register(client, login_id="a b", password2=PASSWORD), None)
    assert set(body["errors"]) == {"login_id", "password2"}


# --- Registration: throttling -----------------------------------------------------------------


def _use_register_rate(settings, monkeypatch, rate):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "register": rate}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # DRF's throttle classes copy the rates when rest_framework.throttling is imported, so the
    # reloaded settings alone would not reach the class.
    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", rates)
    cache.clear()


@pytest.mark.django_db
def test_register_beyond_the_rate_is_answered_429_json(client, settings, monkeypatch):
    _use_register_rate(settings, monkeypatch, "2/minute")

    assert _post(client, REGISTER_URL, {}).status_code == 400
    assert _post(client, REGISTER_URL, {}).status_code == 400
    response = _register(client)

    body = _error_body(response, 429)
    assert body["errors"] == {}
    assert int(response["Retry-After"]) > 0
    assert not User.objects.exists()


@pytest.mark.django_db
def test_register_throttle_message_follows_the_language(client, settings, monkeypatch):
    _use_register_rate(settings, monkeypatch, "1/minute")
    _post(client, REGISTER_URL, {})

    body = _error_body(_post(client, REGISTER_URL, {}, HTTP_ACCEPT_LANGUAGE="en"), 429)

    assert body["message"].startswith("Request was throttled.")


@pytest.mark.django_db
def test_the_configured_register_rate_is_enforced(client):
    rate = api_settings.DEFAULT_THROTTLE_RATES["register"]
    assert ScopedThrottle.THROTTLE_RATES["register"] == rate
    allowed, _duration = ScopedThrottle().parse_rate(rate)
    assert 0 < allowed <= 100

    for _ in range(allowed):
        assert _post(client, REGISTER_URL, {}).status_code == 400
    _error_body(_register(client), 429)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_register_throttle_is_not_escaped_with_a_forged_forwarded_for(client, settings, monkeypatch):
    _use_register_rate(settings, monkeypatch, "2/minute")

    for n in range(2):
        _post(client, REGISTER_URL, {}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    _error_body(_post(client, REGISTER_URL, {}, HTTP_X_FORWARDED_FOR="198.51.100.99"), 429)


@pytest.mark.django_db
def test_register_throttle_counts_each_client_address_separately(client, settings, monkeypatch):
    _use_register_rate(settings, monkeypatch, "1/minute")

    assert _post(client, REGISTER_URL, {}, REMOTE_ADDR="203.0.113.1").status_code == 400
    assert _post(client, REGISTER_URL, {}, REMOTE_ADDR="203.0.113.1").status_code == 429

    assert _register(client, REMOTE_ADDR="203.0.113.2").status_code == 201


@pytest.mark.django_db
def test_register_throttle_uses_the_client_behind_a_trusted_proxy(client, settings, monkeypatch):
    _use_register_rate(settings, monkeypatch, "1/minute")
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    assert _post(client, REGISTER_URL, {}, HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code == 400
    assert _post(client, REGISTER_URL, {}, HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code == 429
    assert _register(client, HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy).status_code == 201


@pytest.mark.django_db
def test_the_token_endpoint_is_not_limited_by_the_register_throttle(client, settings, monkeypatch):
    _use_register_rate(settings, monkeypatch, "1/minute")
    member = MemberFactory()
    _post(client, REGISTER_URL, {})
    assert _post(client, REGISTER_URL, {}).status_code == 429

    assert _token(client, member.login_id).status_code == 200


# --- Token --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_token_is_issued_for_the_right_password(client):
    member = MemberFactory()

    response = _token(client, member.login_id)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    assert isinstance(body["token"], str)
    assert len(body["token"]) >= 32
    expiry = timezone.datetime.fromisoformat(body["expiry"].replace("Z", "+00:00"))
    assert timedelta(days=29) < expiry - timezone.now() <= timedelta(days=30)
    assert AuthToken.objects.filter(user=member).count() == 1


@pytest.mark.django_db
def test_the_issued_token_authenticates_the_member(client):
    member = MemberFactory()
    token = _token(client, member.login_id).json()["token"]

    response = client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response.json()["id"] == str(member.pk)


@pytest.mark.django_db
def test_each_token_request_issues_a_different_token(client):
    member = MemberFactory()

    first = _token(client, member.login_id).json()["token"]
    second = _token(client, member.login_id).json()["token"]

    assert first != second
    assert AuthToken.objects.filter(user=member).count() == 2


@pytest.mark.parametrize("typed", ["Member0000", "MEMBER0000", "ｍｅｍｂｅｒ００００", " member0000 "])
@pytest.mark.django_db
def test_token_login_id_is_matched_in_any_case_or_width(client, typed):
    MemberFactory(login_id="member0000")
    assert _token(client, typed).status_code == 200


@pytest.mark.django_db
def test_token_wrong_password_is_401_json(client):
    member = MemberFactory()

    response = _token(client, member.login_id, "wrong-password-1", HTTP_ACCEPT_LANGUAGE="en")

    body = _error_body(response, 401)
    assert body["message"] == WRONG_CREDENTIALS_EN
    assert body["errors"] == {}
    assert not AuthToken.objects.exists()


@pytest.mark.django_db
def test_token_for_an_unknown_login_id_looks_like_a_wrong_password(client):
    member = MemberFactory()

    unknown = _error_body(_token(client, "nobody99", HTTP_ACCEPT_LANGUAGE="en"), 401)
    wrong = _error_body(_token(client, member.login_id, "nope-nope-1", HTTP_ACCEPT_LANGUAGE="en"), 401)

    assert unknown == wrong


@pytest.mark.django_db
def test_token_password_is_case_sensitive(client):
    member = MemberFactory()
    _error_body(_token(client, member.login_id, PASSWORD.upper()), 401)


@pytest.mark.django_db
def test_token_is_refused_to_an_inactive_member(client):
    member = MemberFactory(is_active=False)
    _error_body(_token(client, member.login_id), 401)
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"login_id": "member0000"},
        {"password": PASSWORD},
        {"login_id": None, "password": PASSWORD},
        {"login_id": ["member0000"], "password": PASSWORD},
        {"login_id": "member0000", "password": {"p": PASSWORD}},
        {"login_id": "", "password": ""},
        {"login_id": "m" * 61, "password": PASSWORD},
        {"login_id": "member0000", "password": "x" * 4097},
    ],
)
@pytest.mark.django_db
def test_token_with_bad_input_is_400_json(client, data):
    MemberFactory(login_id="member0000")

    body = _error_body(_post(client, TOKEN_URL, data), 400)

    assert body["errors"]
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize("body", ["{", "[]", '"x"', "null"])
@pytest.mark.django_db
def test_token_with_a_malformed_body_is_400_json(client, body):
    _error_body(_post(client, TOKEN_URL, body), 400)


@pytest.mark.django_db
def test_token_with_a_form_body_is_415_json(client):
    member = MemberFactory()
    response = client.post(
        TOKEN_URL,
        f"login_id={member.login_id}&password={PASSWORD}",
        content_type="application/x-www-form-urlencoded",
    )
    _error_body(response, 415)
    assert not AuthToken.objects.exists()


@pytest.mark.django_db
def test_token_get_is_405_json(client):
    _error_body(client.get(TOKEN_URL), 405)


# --- Token: lockout -----------------------------------------------------------------------------


@pytest.fixture
def cheap_member(settings):
    """Members whose password checks cost little: lockout tests authenticate many times and
    are about counting, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def make(**fields):
        return MemberFactory(password=make_password(PASSWORD), **fields)

    return make


def _fail(client, login_id, times, **extra):
    return [_token(client, login_id, "wrong-password-1", **extra).status_code for _ in range(times)]


@pytest.mark.django_db
def test_five_failures_lock_the_login_id_even_for_the_right_password(client, cheap_member):
    member = cheap_member()

    statuses = _fail(client, member.login_id, 5)
    response = _token(client, member.login_id, HTTP_ACCEPT_LANGUAGE="en")

    assert statuses[:4] == [401] * 4
    assert statuses[4] in (401, 429)
    body = _error_body(response, 429)
    assert body["errors"] == {}
    assert "15 minutes" in body["message"]
    assert int(response["Retry-After"]) == 15 * 60
    assert not AuthToken.objects.exists()


@pytest.mark.django_db
def test_four_failures_do_not_lock(client, cheap_member):
    member = cheap_member()

    assert _fail(client, member.login_id, 4) == [401] * 4

    assert _token(client, member.login_id).status_code == 200


@pytest.mark.django_db
def test_a_success_resets_the_failure_count(client, cheap_member):
    member = cheap_member()

    _fail(client, member.login_id, 4)
    assert _token(client, member.login_id).status_code == 200
    _fail(client, member.login_id, 4)

    assert _token(client, member.login_id).status_code == 200


@pytest.mark.django_db
def test_lockout_stays_while_further_attempts_are_made(client, cheap_member):
    member = cheap_member()
    _fail(client, member.login_id, 5)

    assert _fail(client, member.login_id, 3) == [429] * 3
    assert _token(client, member.login_id).status_code == 429


@pytest.mark.django_db
def test_lockout_counts_the_login_id_in_any_case_or_width(client, cheap_member):
    member = cheap_member(login_id="member0000")

    for typed in ["MEMBER0000", "Member0000", "ｍｅｍｂｅｒ００００", "member0000", " member0000"]:
        _token(client, typed, "wrong-password-1")

    _error_body(_token(client, "member0000"), 429)
    assert not AuthToken.objects.filter(user=member).exists()


@pytest.mark.django_db
def test_lockout_is_per_address(client, cheap_member):
    member = cheap_member()
    _fail(client, member.login_id, 5, REMOTE_ADDR="203.0.113.1")

    assert _token(client, member.login_id, REMOTE_ADDR="203.0.113.1").status_code == 429
    assert _token(client, member.login_id, REMOTE_ADDR="203.0.113.2").status_code == 200


@pytest.mark.django_db
def test_lockout_is_per_login_id(client, cheap_member):
    locked, other = cheap_member(), cheap_member()
    _fail(client, locked.login_id, 5)

    assert _token(client, locked.login_id).status_code == 429
    assert _token(client, other.login_id).status_code == 200


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_escape_the_lockout(client, cheap_member):
    member = cheap_member()
    for n in range(5):
        _token(client, member.login_id, "wrong-password-1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    _error_body(_token(client, member.login_id, HTTP_X_FORWARDED_FOR="198.51.100.77"), 429)


@pytest.mark.django_db
def test_lockout_behind_a_trusted_proxy_is_per_client(client, cheap_member, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    member = cheap_member()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    _fail(client, member.login_id, 5, HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy)

    assert _token(client, member.login_id, HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code == 429
    assert _token(client, member.login_id, HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy).status_code == 200


@pytest.mark.django_db
def test_failures_for_an_unknown_login_id_also_lock(client, cheap_member):
    _fail(client, "nobody99", 5)
    _error_body(_token(client, "nobody99"), 429)


# --- Languages of the answers -------------------------------------------------------------------

LANGUAGES = [(None, "ja"), ("ja", "ja"), ("en", "en"), ("ko", "ko"), ("fr", "ja")]


def _language_headers(accept_language):
    return {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}


@pytest.mark.parametrize(("accept_language", "language"), LANGUAGES)
@pytest.mark.django_db
def test_wrong_password_message_follows_accept_language(client, cheap_member, accept_language, language):
    member = cheap_member()

    response = _token(client, member.login_id, "wrong-password-1", **_language_headers(accept_language))

    body = _error_body(response, 401)
    assert response["Content-Language"] == language
    _assert_in_language(body["message"], language)
    if language == "en":
        assert body["message"] == WRONG_CREDENTIALS_EN


@pytest.mark.parametrize(("accept_language", "language"), LANGUAGES)
@pytest.mark.django_db
def test_lockout_message_follows_accept_language(client, cheap_member, accept_language, language):
    member = cheap_member()
    _fail(client, member.login_id, 5)

    response = _token(client, member.login_id, **_language_headers(accept_language))

    body = _error_body(response, 429)
    assert response["Content-Language"] == language
    _assert_in_language(body["message"], language)


@pytest.mark.parametrize(("accept_language", "language"), LANGUAGES)
@pytest.mark.django_db
def test_validation_messages_follow_accept_language(client, accept_language, language):
    response = _post(client, REGISTER_URL, {}, **_language_headers(accept_language))

    body = _error_body(response, 400)
    assert response["Content-Language"] == language
    _assert_in_language(body["message"], language)
    for messages in body["errors"].values():
        for message in messages:
            _assert_in_language(message, language)
    if language == "en":
        assert body["message"] == INVALID_REQUEST_EN
        assert body["errors"]["login_id"] == ["This field is required."]


@pytest.mark.parametrize(("accept_language", "language"), LANGUAGES)
@pytest.mark.django_db
def test_service_validation_messages_follow_accept_language(client, accept_language, language):
    MemberFactory(login_id="taken01")
    data = {"login_id": "taken01", "name": "Alice", "email": "alice@example.com", "password": PASSWORD}
    data["accept_terms"] = True

    body = _error_body(_post(client, REGISTER_URL, data, **_language_headers(accept_language)), 400)

    _assert_in_language(body["errors"]["login_id"][0], language)
    if language == "en":
        assert body["errors"]["login_id"] == ["This login ID is already taken."]
