"""The schema tells the truth about the accounts API (issue 11, section 4).

Observed: statuses the server answers and the schema did not name (400 and 429 on register; 400,
401 and 429 on token; 401 on me; 400 on ``PATCH /me``), so a generated client got ``parsed=None``
for a duplicate registration, a wrong password or an invalid email; ``login_id`` at least 1
character in the schema and 4–30 of ``a–z 0–9 _ . -`` on the server; ``name`` unlimited against
100; the input ``email`` without ``format: email`` and its 254; register, ``GET /me`` and
``PATCH /me`` without a description.

Here the schema's limits are read back and compared with the constants the server's validators
use; every field's limit, pattern, enum and requirement is tried on the server from what the
schema says; and every status each accounts operation answers is provoked, found documented,
and its body and headers checked against the schema (schemathesis's own response checks).
"""

import json
import re
import sys
import uuid

import pytest
import requests
import schemathesis
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import MinimumLengthValidator, get_default_password_validators
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.validators import EmailValidator, RegexValidator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.serializers import ChoiceField
from rest_framework.settings import api_settings

from kirakira.accounts import api as accounts_api
from kirakira.accounts import services
from kirakira.accounts.models import User
from kirakira.accounts.normalization import (
    LOGIN_ID_MAX,
    LOGIN_ID_MIN,
    LOGIN_ID_PATTERN,
    NAME_MAX,
    normalize_login_id,
    normalize_name,
    validate_login_id,
)
from kirakira.accounts.tokens import email_confirmation_token
from kirakira.api.testing import error_body
from kirakira.common.ratelimit import ScopedThrottle
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Tide-pool-lantern-42"
# Statuses that the layers every request passes through answer, documented for every operation
# once by kirakira/api/schema.py: a body that is too large or not JSON, a conditional GET.
LAYER_STATUSES = {"304", "411", "413", "415"}

REGISTER = ("/api/v1/auth/register", "post")
TOKEN = ("/api/v1/auth/token", "post")
LOGOUT = ("/api/v1/auth/logout", "post")
LOGOUT_ALL = ("/api/v1/auth/logout-all", "post")
TOKENS = ("/api/v1/auth/tokens", "get")
TOKEN_DETAIL = ("/api/v1/auth/tokens/{token_id}", "delete")
ME = ("/api/v1/me", "get")
ME_PATCH = ("/api/v1/me", "patch")
RESEND = ("/api/v1/me/confirmation", "post")
PASSWORD_CHANGE = ("/api/v1/me/password", "post")
WITHDRAW = ("/api/v1/me/withdraw", "post")
CONFIRM_EMAIL = ("/api/v1/auth/confirm-email", "post")
RESET = ("/api/v1/auth/password-reset", "post")
RESET_CONFIRM = ("/api/v1/auth/password-reset/confirm", "post")
OPERATIONS = [
    REGISTER,
    TOKEN,
    LOGOUT,
    LOGOUT_ALL,
    TOKENS,
    TOKEN_DETAIL,
    ME,
    ME_PATCH,
    RESEND,
    PASSWORD_CHANGE,
    WITHDRAW,
    CONFIRM_EMAIL,
    RESET,
    RESET_CONFIRM,
]
# The operations that take fields. (Withdrawal's nested refund account is not a text field:
# kirakira/accounts/tests/test_withdraw_api.py tries its rules.)
BODY_OPERATIONS = [REGISTER, TOKEN, ME_PATCH, PASSWORD_CHANGE, CONFIRM_EMAIL, RESET, RESET_CONFIRM]


@pytest.fixture(autouse=True)
def _fresh_counters():
    """Rate limits count in the cache, which outlives a test's database transaction."""
    cache.clear()
    yield
    cache.clear()


_served: dict = {}


def served_schema(client) -> dict:
    """The schema as ``/api/schema/`` serves it, in English (built once per test run)."""
    if "schema" not in _served:
        response = client.get(
            "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 200, response.content
        _served["schema"] = json.loads(response.content)
        _served["loaded"] = schemathesis.openapi.from_dict(_served["schema"])
    return _served["schema"]


@pytest.fixture
def schema(client):
    return served_schema(client)


def component(schema, reference: dict) -> dict:
    return schema["components"]["schemas"][reference["$ref"].rsplit("/", 1)[-1]]


def request_schema(schema, operation) -> dict:
    path, method = operation
    content = schema["paths"][path][method]["requestBody"]["content"]
    return component(schema, content["application/json"]["schema"])


def prop(schema, operation, field) -> dict:
    """A request field's schema, with an enum's ``$ref`` (under ``allOf``) resolved."""
    found = request_schema(schema, operation)["properties"][field]
    if "allOf" in found:
        return {**found, **component(schema, found["allOf"][0])}
    return found


def assert_documented(schema, operation, response) -> None:
    """The answer's status is documented for the operation, and its body, content type and
    headers are what the schema says for that status."""
    path, method = operation
    documented = schema["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in documented, f"{method.upper()} {path} answered {status}, undocumented: {response.content}"
    answer = schemathesis.Response(
        status_code=response.status_code,
        headers={name: [value] for name, value in response.items()},
        content=response.content,
        request=requests.Request(method.upper(), f"http://testserver{path}").prepare(),
        elapsed=0.0,
        verify=True,
    )
    _served["loaded"][path][method.upper()].validate_response(answer)
    if response.status_code >= 400:
        assert documented[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOutput"
        }
        error_body(response, response.status_code)
    if response.status_code == 429:
        assert "Retry-After" in documented[status]["headers"]
        assert int(response["Retry-After"]) > 0


# --- a member, their tokens and their links --------------------------------------------------------


def uid_of(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


class Scene:
    """A confirmed member with a token, an unconfirmed one, and calls in English."""

    def __init__(self, client, settings, monkeypatch):
        # A cheap hasher: the lockouts are reached by trying many passwords.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        self.client, self.settings, self.monkeypatch = client, settings, monkeypatch
        self.member = MemberFactory(password=make_password(PASSWORD))
        self.unconfirmed = MemberFactory(password=make_password(PASSWORD), email_confirmed_at=None)
        self.token = self.token_of(self.member)

    @staticmethod
    def token_of(user) -> str:
        _instance, token = services.member_token_create(user=user, client="")
        return token

    def call(self, operation, body=None, *, token=None, path=None, raw=None):
        """``body`` as JSON (none when None, ``raw`` as it is); ``token``: a bearer token, or
        False for none (the scene's member's by default)."""
        url, method = path or operation[0], operation[1]
        headers = {"HTTP_ACCEPT_LANGUAGE": "en"}
        token = self.token if token is None else token
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        if raw is not None:
            return self.client.generic(method.upper(), url, raw, content_type="application/json", **headers)
        if body is None:
            return self.client.generic(method.upper(), url, **headers)
        return self.client.generic(method.upper(), url, json.dumps(body), content_type="application/json", **headers)

    # Bodies the server takes, for the operations with one.
    def valid_body(self, operation) -> dict:
        if operation == REGISTER:
            return {
                "login_id": "newcomer01",
                "name": "新しい会員",
                "email": "newcomer@example.com",
                "password": NEW_PASSWORD,
                "accept_terms": True,
            }
        if operation == TOKEN:
            return {"login_id": self.member.login_id, "password": PASSWORD}
        if operation == ME_PATCH:
            return {"name": "花子", "email": self.member.email, "language": "en"}
        if operation == PASSWORD_CHANGE:
            return {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        if operation == CONFIRM_EMAIL:
            return {"uid": uid_of(self.unconfirmed), "token": email_confirmation_token.make_token(self.unconfirmed)}
        if operation == RESET:
            return {"email": self.member.email}
        if operation == RESET_CONFIRM:
            return {
                "uid": uid_of(self.member),
                "token": default_token_generator.make_token(self.member),
                "new_password": NEW_PASSWORD,
            }
        raise AssertionError(operation)

    def register_rate(self, rate: str) -> None:
        rates = {**api_settings.DEFAULT_THROTTLE_RATES, "register": rate}
        self.settings.REST_FRAMEWORK = {**self.settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
        # DRF's throttle classes copy the rates when they are imported.
        self.monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", rates)


@pytest.fixture
def scene(client, settings, monkeypatch, schema):
    return Scene(client, settings, monkeypatch)


# --- every status of every operation, provoked ---------------------------------------------------------


def _token_detail_path(scene) -> str:
    member_token = scene.member.auth_token_set.get().member_token
    return f"/api/v1/auth/tokens/{member_token.id}"


def _locked_out(scene, operation, body):
    for _ in range(5):
        scene.call(operation, body)
    return scene.call(operation, body)


def _throttled_registration(scene):
    scene.register_rate("1/minute")
    scene.call(REGISTER, {}, token=False)
    return scene.call(REGISTER, scene.valid_body(REGISTER), token=False)


def _resend_over_the_limit(scene):
    scene.settings.CONFIRMATION_RESEND_LIMIT_PER_HOUR = 0
    return scene.call(RESEND, token=scene.token_of(scene.unconfirmed))


def _withdrawn_meanwhile(scene):
    """Another request withdraws the member between this one's password check and its own
    withdrawal (run at exactly that point)."""
    from kirakira.accounts import withdraw_api
    from kirakira.privacy.retention.withdrawal import member_withdraw

    real = withdraw_api.authenticate

    def checked_then_withdrawn_elsewhere(request, **credentials):
        user = real(request, **credentials)
        member_withdraw(user=User.objects.get(pk=user.pk), checked_hash=user.password)
        return user

    scene.monkeypatch.setattr(withdraw_api, "authenticate", checked_then_withdrawn_elsewhere)
    return scene.call(WITHDRAW, {"password": PASSWORD})


def _reset_over_the_limit(scene):
    scene.settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 0
    return scene.call(RESET, scene.valid_body(RESET), token=False)


PROVOKED = {
    REGISTER: {
        "201": lambda s: s.call(REGISTER, s.valid_body(REGISTER), token=False),
        "400": lambda s: s.call(REGISTER, {**s.valid_body(REGISTER), "login_id": s.member.login_id}, token=False),
        "429": _throttled_registration,
    },
    TOKEN: {
        "200": lambda s: s.call(TOKEN, s.valid_body(TOKEN), token=False),
        "400": lambda s: s.call(TOKEN, {"login_id": s.member.login_id}, token=False),
        "401": lambda s: s.call(TOKEN, {"login_id": s.member.login_id, "password": "wrong-1"}, token=False),
        "429": lambda s: _locked_out(s, TOKEN, {"login_id": s.member.login_id, "password": "wrong-1"}),
    },
    LOGOUT: {
        "204": lambda s: s.call(LOGOUT),
        "400": lambda s: s.call(LOGOUT, raw="[1]"),
        "401": lambda s: s.call(LOGOUT, token=False),
    },
    LOGOUT_ALL: {
        "204": lambda s: s.call(LOGOUT_ALL),
        "400": lambda s: s.call(LOGOUT_ALL, {"everything": True}),
        "401": lambda s: s.call(LOGOUT_ALL, token="0" * 64),
    },
    TOKENS: {
        "200": lambda s: s.call(TOKENS),
        "401": lambda s: s.call(TOKENS, token=False),
    },
    TOKEN_DETAIL: {
        "204": lambda s: s.call(TOKEN_DETAIL, path=_token_detail_path(s)),
        "401": lambda s: s.call(TOKEN_DETAIL, path=_token_detail_path(s), token=False),
        "404": lambda s: s.call(TOKEN_DETAIL, path=f"/api/v1/auth/tokens/{uuid.uuid4()}"),
    },
    ME: {
        "200": lambda s: s.call(ME),
        "401": lambda s: s.call(ME, token=False),
    },
    ME_PATCH: {
        "200": lambda s: s.call(ME_PATCH, s.valid_body(ME_PATCH)),
        "400": lambda s: s.call(ME_PATCH, {"language": "fr"}),
        "401": lambda s: s.call(ME_PATCH, {"name": "x"}, token=False),
    },
    RESEND: {
        "202": lambda s: s.call(RESEND, token=s.token_of(s.unconfirmed)),
        "400": lambda s: s.call(RESEND, {"email": "x@example.com"}, token=s.token_of(s.unconfirmed)),
        "401": lambda s: s.call(RESEND, token=False),
        "409": lambda s: s.call(RESEND),
        "429": _resend_over_the_limit,
    },
    PASSWORD_CHANGE: {
        "200": lambda s: s.call(PASSWORD_CHANGE, s.valid_body(PASSWORD_CHANGE)),
        "400": lambda s: s.call(PASSWORD_CHANGE, {"current_password": "wrong-1", "new_password": NEW_PASSWORD}),
        "401": lambda s: s.call(PASSWORD_CHANGE, s.valid_body(PASSWORD_CHANGE), token=False),
        "429": lambda s: _locked_out(
            s, PASSWORD_CHANGE, {"current_password": "wrong-1", "new_password": NEW_PASSWORD}
        ),
    },
    WITHDRAW: {
        "200": lambda s: s.call(WITHDRAW, {"password": PASSWORD}),
        "400": lambda s: s.call(WITHDRAW, {"password": "wrong-1"}),
        "401": lambda s: s.call(WITHDRAW, {"password": PASSWORD}, token=False),
        "403": lambda s: s.call(
            WITHDRAW, {"password": PASSWORD}, token=s.token_of(StaffFactory(password=make_password(PASSWORD)))
        ),
        "409": _withdrawn_meanwhile,
        "429": lambda s: _locked_out(s, WITHDRAW, {"password": "wrong-1"}),
    },
    CONFIRM_EMAIL: {
        "200": lambda s: s.call(CONFIRM_EMAIL, s.valid_body(CONFIRM_EMAIL), token=False),
        "400": lambda s: s.call(CONFIRM_EMAIL, {**s.valid_body(CONFIRM_EMAIL), "token": "1-2"}, token=False),
    },
    RESET: {
        "202": lambda s: s.call(RESET, s.valid_body(RESET), token=False),
        "400": lambda s: s.call(RESET, {"email": "not an address"}, token=False),
        "429": _reset_over_the_limit,
    },
    RESET_CONFIRM: {
        "204": lambda s: s.call(RESET_CONFIRM, s.valid_body(RESET_CONFIRM), token=False),
        "400": lambda s: s.call(RESET_CONFIRM, {**s.valid_body(RESET_CONFIRM), "token": "1-2"}, token=False),
    },
}
CASES = [(operation, status) for operation in OPERATIONS for status in PROVOKED[operation]]


@pytest.mark.parametrize(("operation", "status"), CASES, ids=[f"{op[1]} {op[0]} {st}" for op, st in CASES])
def test_each_status_is_answered_as_documented(scene, schema, operation, status):
    response = PROVOKED[operation][status](scene)

    assert str(response.status_code) == status, response.content
    assert_documented(schema, operation, response)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_the_schema_names_exactly_the_statuses_the_server_answers(schema, operation):
    path, method = operation
    documented = set(schema["paths"][path][method]["responses"]) - LAYER_STATUSES

    assert documented == set(PROVOKED[operation])


def test_every_accounts_operation_is_in_the_schema_and_described(schema):
    ours = {(path, method) for path, ops in schema["paths"].items() for method in ops if _is_accounts(path)}

    assert ours == set(OPERATIONS)
    for path, method in OPERATIONS:
        operation = schema["paths"][path][method]
        assert len(operation.get("description", "")) > 40, (path, method)
        needs_token = bool(operation.get("security")) and all(operation["security"])
        if needs_token:
            assert "401" in operation["responses"], (path, method)
        else:
            assert path.startswith("/api/v1/auth/") and method == "post", (path, method)


def _is_accounts(path: str) -> bool:
    return path.startswith(("/api/v1/auth/", "/api/v1/me"))


# --- limits from the validators' own constants --------------------------------------------------------


def configured_password_min() -> int:
    lengths = [v.min_length for v in get_default_password_validators() if isinstance(v, MinimumLengthValidator)]
    assert lengths, "a MinimumLengthValidator is configured"
    return max(lengths)


def test_the_login_id_is_stated_as_the_server_checks_it(schema):
    login_id = prop(schema, REGISTER, "login_id")

    assert (login_id["minLength"], login_id["maxLength"]) == (LOGIN_ID_MIN, LOGIN_ID_MAX) == (4, 30)
    assert "full-width" in login_id["description"]
    assert login_id["pattern"].startswith("^") and login_id["pattern"].endswith("$")


def test_the_name_is_stated_as_the_server_checks_it(schema):
    for operation in (REGISTER, ME_PATCH):
        name = prop(schema, operation, "name")
        assert (name["minLength"], name["maxLength"], name["pattern"]) == (1, NAME_MAX, r"\S")
        assert NAME_MAX == 100


def test_the_email_is_stated_as_the_server_checks_it(schema):
    limit = User._meta.get_field("email").max_length
    for operation in (REGISTER, ME_PATCH, RESET):
        email = prop(schema, operation, "email")
        assert (email["format"], email["minLength"], email["maxLength"]) == ("email", 1, limit)
    assert limit == accounts_api.EMAIL_MAX == 254


def test_passwords_are_stated_as_the_server_checks_them(schema):
    minimum = configured_password_min()
    for operation, field in ((REGISTER, "password"), (PASSWORD_CHANGE, "new_password"), (RESET_CONFIRM, "new_password")):
        new = prop(schema, operation, field)
        assert (new["minLength"], new["maxLength"]) == (minimum, accounts_api.PASSWORD_MAX), (operation, field)
        assert new["writeOnly"] is True
        assert f"at least {minimum} characters" in new["description"]
    for operation, field in ((TOKEN, "password"), (PASSWORD_CHANGE, "current_password")):
        checked = prop(schema, operation, field)
        assert (checked["minLength"], checked["maxLength"]) == (1, accounts_api.PASSWORD_MAX)


def test_the_password_minimum_follows_the_configured_validator(client, settings):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}}
    ]
    fresh = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)

    assert prop(fresh, REGISTER, "password")["minLength"] == 12
    short = client.post(
        REGISTER[0],
        json.dumps({"login_id": "newcomer01", "name": "N", "email": "n@example.com", "password": "a" * 11}),
        content_type="application/json",
    )
    assert "password" in error_body(short, 400)["errors"]


def test_the_language_is_a_closed_set_of_the_sites_languages(schema, settings):
    codes = [code for code, _name in settings.LANGUAGES]

    assert prop(schema, ME_PATCH, "language")["enum"] == codes
    output = schema["components"]["schemas"]["MemberOutput"]["properties"]["language"]
    assert component(schema, output["allOf"][0])["enum"] == codes


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=[f"{m} {p}" for p, m in BODY_OPERATIONS])
def test_every_input_refuses_fields_it_does_not_take_and_says_so(scene, schema, operation):
    body = request_schema(schema, operation)
    assert body["additionalProperties"] is False

    response = scene.call(operation, {**scene.valid_body(operation), "unexpected": 1}, token=_token_for(scene, operation))

    assert error_body(response, 400)["errors"]["unexpected"] == ["This field is not accepted here."]


@pytest.mark.parametrize("operation", [LOGOUT, LOGOUT_ALL, RESEND])
def test_a_body_without_fields_must_be_empty(scene, schema, operation):
    path, method = operation
    assert "requestBody" not in schema["paths"][path][method]
    token = _token_for(scene, operation)

    assert error_body(scene.call(operation, {"all": True}, token=token), 400)["errors"] == {
        "all": ["This field is not accepted here."]
    }


def _token_for(scene, operation):
    if operation in (REGISTER, TOKEN, CONFIRM_EMAIL, RESET, RESET_CONFIRM):
        return False
    if operation == RESEND:
        return scene.token_of(scene.unconfirmed)
    return None


# --- every field's rule, tried on the server as the schema states it --------------------------------------

def _fields(schema, operation):
    return request_schema(schema, operation)["properties"]


# The fields are listed from the code's serializers, so that the cases exist before the schema is read.
INPUTS = {
    REGISTER: accounts_api.RegisterApi.RegisterInput,
    TOKEN: accounts_api.TokenApi.TokenInput,
    ME_PATCH: accounts_api.MeApi.ProfileInput,
    PASSWORD_CHANGE: accounts_api.PasswordChangeApi.PasswordChangeInput,
    CONFIRM_EMAIL: accounts_api.ConfirmEmailApi.ConfirmEmailInput,
    RESET: accounts_api.PasswordResetApi.PasswordResetInput,
    RESET_CONFIRM: accounts_api.PasswordResetConfirmApi.PasswordResetConfirmInput,
}


def _field_cases():
    return [(operation, field) for operation in BODY_OPERATIONS for field in INPUTS[operation]().fields]


FIELD_CASES = _field_cases()
FIELD_IDS = [f"{op[1]} {op[0]} {field}" for op, field in FIELD_CASES]


def _has_rule(operation, field) -> bool:
    """Whether the code checks the field against a pattern, an address's form or a closed set."""
    serializer_field = INPUTS[operation]().fields[field]
    return isinstance(serializer_field, ChoiceField) or any(
        isinstance(v, RegexValidator | EmailValidator) for v in serializer_field.validators
    )


RULED_CASES = [case for case in FIELD_CASES if _has_rule(*case)]


def _refused(scene, operation, field, value) -> dict:
    body = {**scene.valid_body(operation), field: value}
    response = scene.call(operation, body, token=_token_for(scene, operation))
    errors = error_body(response, 400)["errors"]
    assert field in errors, (value, errors)
    return errors


def test_the_field_cases_cover_every_field_of_the_schema(schema):
    in_schema = {(op, field) for op in BODY_OPERATIONS for field in _fields(schema, op)}
    assert in_schema == set(FIELD_CASES)


@pytest.mark.parametrize(("operation", "field"), FIELD_CASES, ids=FIELD_IDS)
def test_a_field_is_required_exactly_when_the_schema_says(scene, schema, operation, field):
    required = field in request_schema(schema, operation).get("required", [])
    body = scene.valid_body(operation)
    del body[field]

    response = scene.call(operation, body, token=_token_for(scene, operation))

    if required:
        assert error_body(response, 400)["errors"][field] == ["This field is required."]
    else:
        assert response.status_code == 200, response.content


@pytest.mark.parametrize(("operation", "field"), FIELD_CASES, ids=FIELD_IDS)
def test_a_field_of_another_json_type_is_refused(scene, schema, operation, field):
    kind = _fields(schema, operation)[field].get("type", "string")
    assert kind in ("string", "boolean")
    others = (42, None, True, ["x"], {"x": "y"}) if kind == "string" else (1, 0, None, "true", "yes", ["x"], {})
    for value in others:
        _refused(scene, operation, field, value)


@pytest.mark.parametrize(("operation", "field"), FIELD_CASES, ids=FIELD_IDS)
def test_a_field_one_over_its_max_length_or_under_its_min_length_is_refused(scene, schema, operation, field):
    rule = prop(schema, operation, field)
    if "enum" in rule:
        assert "maxLength" not in rule
        return
    if rule.get("type") == "boolean":
        # An agreement: only true is taken, and false is refused on the field.
        assert "maxLength" not in rule
        _refused(scene, operation, field, False)
        return
    longest = rule["maxLength"]
    _refused(scene, operation, field, _text_matching(rule, longest + 1))
    if rule["minLength"] > 1:
        _refused(scene, operation, field, _text_matching(rule, rule["minLength"] - 1))
    _refused(scene, operation, field, "")
    assert rule["minLength"] >= 1


def _text_matching(rule, length: int) -> str:
    """Text of ``length`` that breaks no rule of ``rule`` but its lengths."""
    if rule.get("format") == "email":
        return email_of_length(length)
    return "a" * length


def email_of_length(length: int) -> str:
    """A well-formed address of exactly ``length`` characters (labels of at most 63)."""
    local = "a" * 64
    domain_length = length - len(local) - 1 - len(".example")
    labels = []
    while domain_length > 0:
        label = min(63, domain_length)
        if domain_length - label == 1:
            label -= 1  # never leave a label of zero characters after the dot
        labels.append("b" * label)
        domain_length -= label + 1
    address = f"{local}@{'.'.join(labels)}.example"
    assert len(address) == length, (len(address), length)
    return address


@pytest.mark.parametrize(("operation", "field"), RULED_CASES, ids=[f"{o[1]} {o[0]} {f}" for o, f in RULED_CASES])
def test_a_value_against_the_fields_pattern_format_or_enum_is_refused(scene, schema, operation, field):
    rule = prop(schema, operation, field)
    assert {"pattern", "format", "enum"} & set(rule), "the schema states the rule the code checks"
    breaking = []
    if rule.get("pattern") == r"\S":
        breaking += [" ", "\u3000", " \t\n "]
    elif "pattern" in rule:
        breaking += ["ab cd", "alice!", "ａｌｉ＠ｅ", " alice01", "アリス0001"]
    if rule.get("format") == "email":
        breaking += ["not-an-email", "alice@", "@example.com", "alice@example.com\nBcc: x@example.com"]
    if "enum" in rule:
        breaking += ["fr", "JA", "", "en-US"]
    for value in breaking:
        if "pattern" in rule:
            assert _python_pattern(rule["pattern"]).search(value) is None, value  # the schema refuses it too
        if "enum" in rule:
            assert value not in rule["enum"]
        _refused(scene, operation, field, value)


# --- at each limit the server takes what the schema allows ---------------------------------------------


def test_the_longest_and_shortest_values_the_schema_allows_are_registered(scene, schema):
    rules = request_schema(schema, REGISTER)["properties"]
    longest = {
        "login_id": "a" * rules["login_id"]["maxLength"],
        "name": "名" * rules["name"]["maxLength"],
        "email": email_of_length(rules["email"]["maxLength"]),
        "password": ("Zq9!x" * 1000)[: rules["password"]["maxLength"]],
        "accept_terms": True,
    }
    shortest = {
        "login_id": "b" * rules["login_id"]["minLength"],
        "name": "N" * rules["name"]["minLength"],
        "email": "b@example.com",
        "password": "Kq7#zP2w!xR"[: rules["password"]["minLength"]],
        "accept_terms": True,
    }

    first = scene.call(REGISTER, longest, token=False)
    second = scene.call(REGISTER, shortest, token=False)

    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    assert User.objects.filter(login_id__in=[longest["login_id"], shortest["login_id"]]).count() == 2


def test_the_longest_name_and_email_the_schema_allows_are_taken_by_patch(scene, schema):
    rules = request_schema(schema, ME_PATCH)["properties"]
    body = {"name": "名" * rules["name"]["maxLength"], "email": email_of_length(rules["email"]["maxLength"])}

    response = scene.call(ME_PATCH, body)

    assert response.status_code == 200, response.content
    assert response.json()["pending_email"] == body["email"]


# --- the login ID: every character the pattern takes is one the server stores --------------------------


def _python_pattern(ecma: str) -> re.Pattern:
    """The schema's ECMA pattern, read by Python (a final ``$`` made strict, as in ECMA)."""
    return re.compile(ecma[:-1] + r"\Z" if ecma.endswith("$") else ecma)


def test_the_login_id_pattern_takes_exactly_what_folds_into_a_valid_login_id(schema):
    """Every code point, repeated to the shortest length: the schema's pattern takes it exactly
    when the server's field does, and then the server folds it into a stored login ID."""
    pattern = _python_pattern(prop(schema, REGISTER, "login_id")["pattern"])
    server = re.compile(accounts_api.LOGIN_ID_TYPED)
    taken = []
    for point in range(sys.maxunicode + 1):
        if 0xD800 <= point <= 0xDFFF:
            continue
        text = chr(point) * LOGIN_ID_MIN
        allowed = pattern.match(text) is not None
        assert allowed is (server.search(text) is not None), hex(point)
        if allowed:
            folded = normalize_login_id(text)
            validate_login_id(folded)  # raises if the server would refuse it
            assert len(folded) == len(text)
            taken.append(chr(point))
    canonical = {c for c in map(chr, range(128)) if LOGIN_ID_PATTERN.match(c * LOGIN_ID_MIN)}
    typed = canonical | {c.upper() for c in canonical}
    assert set(taken) == typed | {chr(ord(c) + 0xFEE0) for c in typed}  # and their full-width forms


def test_the_name_pattern_is_the_servers_blank_rule(schema):
    pattern = re.compile(prop(schema, REGISTER, "name")["pattern"])
    for point in range(0x3100):
        text = chr(point)
        assert (pattern.search(text) is not None) is bool(normalize_name(text)), hex(point)
