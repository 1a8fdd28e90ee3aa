"""The member's own record through the API, the API's description, and its 404s."""

import json
import re
from datetime import timedelta

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.utils import timezone
from knox.models import AuthToken

from kirakira.accounts.models import User
from kirakira.api.testing import error_body as _error_body
from kirakira.common.testing import MemberFactory, StaffFactory

ME_URL = "/api/v1/me"
API_PATHS = {"/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/me"}
MEMBER_FIELDS = {
    "id",
    "login_id",
    "name",
    "email",
    "email_confirmed",
    "pending_email",
    "language",
    "date_joined",
}


def _token_for(user):
    _instance, token = AuthToken.objects.create(user)
    return token


def _auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _patch(client, token, data, **extra):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.patch(ME_URL, body, content_type="application/json", **_auth(token), **extra)


# --- GET /me ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_me_returns_the_caller(client):
    member = MemberFactory(name="Alice", email="alice@example.com", language="en")
    MemberFactory()  # someone else, who must not be returned

    response = client.get(ME_URL, **_auth(_token_for(member)))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == MEMBER_FIELDS
    assert body["id"] == str(member.pk)
    assert body["login_id"] == member.login_id
    assert body["name"] == "Alice"
    assert body["email"] == "alice@example.com"
    assert body["email_confirmed"] is True
    assert not body["pending_email"]  # nothing awaiting confirmation ("" or null)
    assert body["language"] == "en"


@pytest.mark.django_db
def test_me_shows_an_unconfirmed_email_as_unconfirmed(client):
    member = MemberFactory(email_confirmed_at=None)
    body = client.get(ME_URL, **_auth(_token_for(member))).json()
    assert body["email_confirmed"] is False


@pytest.mark.django_db
def test_me_never_returns_the_password_hash(client):
    member = MemberFactory()

    response = client.get(ME_URL, **_auth(_token_for(member)))

    assert response.status_code == 200
    assert member.password not in response.content.decode()
    assert "argon2" not in response.content.decode()
    assert not [key for key in response.json() if "password" in key]


@pytest.mark.django_db
def test_each_token_identifies_its_own_member(client):
    alice, bob = MemberFactory(), MemberFactory()

    assert client.get(ME_URL, **_auth(_token_for(alice))).json()["id"] == str(alice.pk)
    assert client.get(ME_URL, **_auth(_token_for(bob))).json()["id"] == str(bob.pk)


@pytest.mark.django_db
def test_me_without_a_token_is_401_json(client):
    body = _error_body(client.get(ME_URL), 401)
    assert body["errors"] == {}


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Bearer not-a-token",
        "Bearer " + "0" * 64,
        "Bearer " + "a" * 500,
        "Bearer two words",
        "Basic dXNlcjpwYXNz",
        "Token " + "0" * 64,
        "bearer",
        # A server hands headers over decoded as Latin-1 (PEP 3333), so UTF-8 arrives like this.
        pytest.param("Bearer " + "\u3042\u3044\u3046".encode().decode("latin-1"), id="utf8-token"),
        pytest.param("Bearer " + "\xff" * 64, id="non-utf8-token"),
    ],
)
@pytest.mark.django_db
def test_me_with_a_bad_token_is_401_json(client, authorization):
    MemberFactory()
    _error_body(client.get(ME_URL, HTTP_AUTHORIZATION=authorization), 401)


@pytest.mark.django_db
def test_a_401_tells_the_client_to_send_a_bearer_token(client):
    response = client.get(ME_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_a_token_with_a_wrong_prefix_is_refused(client):
    token = _token_for(MemberFactory())
    _error_body(client.get(ME_URL, HTTP_AUTHORIZATION=f"Token {token}"), 401)


@pytest.mark.django_db
def test_an_altered_token_is_refused(client):
    token = _token_for(MemberFactory())
    altered = token[:-1] + ("0" if token[-1] != "0" else "1")
    _error_body(client.get(ME_URL, **_auth(altered)), 401)


@pytest.mark.django_db
def test_an_expired_token_is_refused(client):
    member = MemberFactory()
    instance, token = AuthToken.objects.create(member)
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    _error_body(client.get(ME_URL, **_auth(token)), 401)


@pytest.mark.django_db
def test_a_token_of_a_deactivated_member_is_refused(client):
    member = MemberFactory()
    token = _token_for(member)
    User.objects.filter(pk=member.pk).update(is_active=False)

    _error_body(client.get(ME_URL, **_auth(token)), 401)


@pytest.mark.django_db
def test_a_token_stops_working_when_the_member_is_deleted(client):
    member = MemberFactory()
    token = _token_for(member)
    member.delete()

    _error_body(client.get(ME_URL, **_auth(token)), 401)


@pytest.mark.django_db
def test_a_logged_in_browser_session_does_not_authenticate_the_api(client):
    client.force_login(MemberFactory())
    _error_body(client.get(ME_URL), 401)


@pytest.mark.django_db
def test_a_session_cannot_change_the_member_through_the_api(client):
    member = MemberFactory(name="Before")
    client.force_login(member)

    response = client.patch(ME_URL, json.dumps({"name": "After"}), content_type="application/json")

    _error_body(response, 401)
    member.refresh_from_db()
    assert member.name == "Before"


@pytest.mark.parametrize(("accept_language", "english"), [("en", True), ("ja", False), (None, False)])
@pytest.mark.django_db
def test_the_401_message_follows_accept_language(client, accept_language, english):
    extra = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    body = _error_body(client.get(ME_URL, **extra), 401)
    assert body["message"].isascii() is english


@pytest.mark.parametrize("method", ["post", "put", "delete"])
@pytest.mark.django_db
def test_other_methods_on_me_are_405_json(client, method):
    token = _token_for(MemberFactory())
    response = getattr(client, method)(ME_URL, "{}", content_type="application/json", **_auth(token))
    _error_body(response, 405)


# --- PATCH /me ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_patch_changes_the_name(client, mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory(name="Before")

    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(client, _token_for(member), {"name": "  After  "})

    assert response.status_code == 200
    assert response.json()["name"] == "After"
    member.refresh_from_db()
    assert member.name == "After"
    assert mailoutbox == []


@pytest.mark.django_db
def test_patch_with_nothing_changes_nothing(client):
    member = MemberFactory(name="Same", email="same@example.com")

    response = _patch(client, _token_for(member), {})

    assert response.status_code == 200
    assert response.json()["name"] == "Same"
    member.refresh_from_db()
    assert (member.name, member.email, member.pending_email or "") == ("Same", "same@example.com", "")


@pytest.mark.django_db
def test_patch_changes_only_the_caller(client):
    member, other = MemberFactory(name="Me"), MemberFactory(name="Other")

    _patch(client, _token_for(member), {"name": "Changed"})

    other.refresh_from_db()
    assert other.name == "Other"


@pytest.mark.django_db
def test_changing_the_email_waits_for_confirmation_of_the_new_address(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(email="old@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(client, _token_for(member), {"email": "New@Example.com"})

    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "old@example.com"
    assert body["pending_email"] == "new@example.com"
    member.refresh_from_db()
    assert member.email == "old@example.com"
    assert member.pending_email == "new@example.com"
    confirmations = [m for m in mailoutbox if m.to == ["new@example.com"]]
    assert len(confirmations) == 1
    assert "/accounts/confirm/" in confirmations[0].body


@pytest.mark.django_db
def test_the_current_address_is_told_about_an_email_change(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(email="old@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        _patch(client, _token_for(member), {"email": "new@example.com"})

    notices = [m for m in mailoutbox if m.to == ["old@example.com"]]
    assert len(notices) == 1
    assert "/accounts/confirm/" not in notices[0].body
    assert len(mailoutbox) == 2


@pytest.mark.django_db
def test_the_new_email_takes_effect_once_its_link_is_opened(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(email="old@example.com")
    token = _token_for(member)
    with django_capture_on_commit_callbacks(execute=True):
        _patch(client, token, {"email": "new@example.com"})
    confirmation = next(m for m in mailoutbox if m.to == ["new@example.com"])
    link = re.search(r"http://testserver(\S*/accounts/confirm/\S+/)", confirmation.body).group(1)

    assert client.get(link).status_code == 200  # the page with the button confirms nothing yet
    assert client.post(link).status_code == 302

    # A confirmed change of address ends every token: the member logs in again.
    assert client.get(ME_URL, **_auth(token)).status_code == 401
    body = client.get(ME_URL, **_auth(_token_for(member))).json()
    assert body["email"] == "new@example.com"
    assert not body["pending_email"]


@pytest.mark.parametrize(
    "taken",
    ["taken@example.com", "TAKEN@example.com", "Taken@Example.Com", "ｔａｋｅｎ＠ｅｘａｍｐｌｅ．ｃｏｍ"],
)
@pytest.mark.django_db
def test_changing_to_a_taken_email_is_400_json(client, mailoutbox, django_capture_on_commit_callbacks, taken):
    MemberFactory(email="taken@example.com")
    member = MemberFactory(email="mine@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(client, _token_for(member), {"email": taken})

    body = _error_body(response, 400)
    assert list(body["errors"]) == ["email"]
    member.refresh_from_db()
    assert (member.email, member.pending_email or "") == ("mine@example.com", "")
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_taken_email_does_not_save_the_name_sent_with_it(client):
    MemberFactory(email="taken@example.com")
    member = MemberFactory(name="Before")

    _error_body(_patch(client, _token_for(member), {"name": "After", "email": "taken@example.com"}), 400)

    member.refresh_from_db()
    assert member.name == "Before"


@pytest.mark.django_db
def test_asking_for_the_current_email_sends_nothing(client, mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory(email="mine@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(client, _token_for(member), {"email": "MINE@example.com"})

    assert response.status_code == 200
    assert not response.json()["pending_email"]
    assert mailoutbox == []


@pytest.mark.django_db
def test_asking_for_the_current_email_again_cancels_a_pending_change(client):
    member = MemberFactory(email="mine@example.com", pending_email="next@example.com")

    response = _patch(client, _token_for(member), {"email": "mine@example.com"})

    assert response.status_code == 200
    member.refresh_from_db()
    assert not member.pending_email


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "a" * 101}, "name"),
        ({"name": "a" * 200}, "name"),
        ({"name": "bad\u200bname"}, "name"),
        ({"name": None}, "name"),
        ({"name": ["Alice"]}, "name"),
        ({"name": {"first": "Alice"}}, "name"),
        ({"name": True}, "name"),
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": None}, "email"),
        ({"email": ["new@example.com"]}, "email"),
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"email": "a" * 400 + "@example.com"}, "email"),
    ],
)
@pytest.mark.django_db
def test_patch_with_invalid_input_is_400_json_and_changes_nothing(client, mailoutbox, data, field):
    member = MemberFactory(name="Before", email="mine@example.com")

    body = _error_body(_patch(client, _token_for(member), data), 400)

    assert field in body["errors"]
    member.refresh_from_db()
    assert (member.name, member.email, member.pending_email or "") == ("Before", "mine@example.com", "")
    assert mailoutbox == []


@pytest.mark.parametrize("body", ["{", "[]", '"name"', "null", '{"name": NaN}'])
@pytest.mark.django_db
def test_patch_with_a_malformed_body_is_400_json(client, body):
    member = MemberFactory(name="Before")

    _error_body(_patch(client, _token_for(member), body), 400)

    member.refresh_from_db()
    assert member.name == "Before"


@pytest.mark.django_db
def test_patch_with_a_form_body_is_415_json(client):
    member = MemberFactory(name="Before")

    response = client.patch(
        ME_URL, "name=After", content_type="application/x-www-form-urlencoded", **_auth(_token_for(member))
    )

    _error_body(response, 415)
    member.refresh_from_db()
    assert member.name == "Before"


@pytest.mark.django_db
def test_patch_refuses_protected_fields_by_name_and_changes_nothing(client):
    member = MemberFactory(login_id="alice01", email_confirmed_at=None, name="Before")

    response = _patch(
        client,
        _token_for(member),
        {"login_id": "mallory", "is_staff": True, "email_confirmed": True, "name": "After", "language": "ko"},
    )

    body = _error_body(response, 400)
    assert set(body["errors"]) == {"login_id", "is_staff", "email_confirmed"}
    member.refresh_from_db()
    assert member.login_id == "alice01"
    assert not member.is_staff
    assert member.email_confirmed_at is None
    assert (member.name, member.language) == ("Before", "ja")


@pytest.mark.django_db
def test_patch_without_a_token_is_401_json(client):
    member = MemberFactory(name="Before")

    response = client.patch(ME_URL, json.dumps({"name": "After"}), content_type="application/json")

    _error_body(response, 401)
    member.refresh_from_db()
    assert member.name == "Before"


@pytest.mark.django_db
def test_staff_token_sees_the_staff_member(client):
    staff = StaffFactory()
    response = client.get(ME_URL, **_auth(_token_for(staff)))
    assert response.status_code == 200
    assert response.json()["login_id"] == staff.login_id


# --- The API's description ------------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_is_an_openapi_3_document_listing_the_api(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert str(document["openapi"]).startswith("3.")
    assert document["info"]["title"]
    assert API_PATHS <= set(document["paths"])
    assert set(document["paths"]["/api/v1/me"]) >= {"get", "patch"}
    assert "post" in document["paths"]["/api/v1/auth/register"]
    assert "post" in document["paths"]["/api/v1/auth/token"]


@pytest.mark.django_db
def test_schema_is_available_as_json(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    document = json.loads(response.content)
    assert str(document["openapi"]).startswith("3.")
    assert API_PATHS <= set(document["paths"])


@pytest.mark.django_db
def test_schema_lists_only_the_api(client):
    document = yaml.safe_load(client.get("/api/schema/").content)
    assert all(path.startswith("/api/v1/") for path in document["paths"])


@pytest.mark.django_db
def test_schema_marks_me_as_needing_a_token_and_auth_as_open(client):
    document = yaml.safe_load(client.get("/api/schema/").content)
    paths = document["paths"]

    assert paths["/api/v1/me"]["get"].get("security")
    assert paths["/api/v1/me"]["patch"].get("security")
    for open_path in ("/api/v1/auth/register", "/api/v1/auth/token"):
        security = paths[open_path]["post"].get("security", [])
        assert security in ([], [{}])


@pytest.mark.django_db
def test_schema_does_not_describe_a_password_in_any_response(client):
    document = yaml.safe_load(client.get("/api/schema/").content)
    register_201 = document["paths"]["/api/v1/auth/register"]["post"]["responses"]["201"]
    ref = register_201["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]

    assert "password" not in schema["properties"]


@pytest.mark.django_db
def test_docs_page_is_html(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    # Swagger UI's start-up script comes apart from the page (no inline script) and names the schema.
    script = re.search(r'<script src="(/api/docs/\?script=)"', response.content.decode())
    assert script
    start_up = client.get(script.group(1))
    assert start_up["Content-Type"].startswith("application/javascript")
    assert b"/api/schema/" in start_up.content


@pytest.mark.django_db
def test_docs_page_loads_its_scripts_and_styles_from_this_site_only(client):
    html = client.get("/api/docs/").content.decode()

    references = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    scripts = re.findall(r"""<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']""", html)
    assert scripts, "the page should load Swagger UI from a script file"
    for reference in references:
        assert not re.match(r"(?i)^(?:https?:)?//", reference), reference
    assert not re.search(r"""(?i)<script\b[^>]*\bsrc\s*=\s*["'](?:https?:)?//""", html)
    assert not re.search(r"(?i)\bimport\s*\(\s*[\"']https?://", html)


@pytest.mark.django_db
def test_docs_page_references_static_files_that_exist(client):
    html = client.get("/api/docs/").content.decode()

    references = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    static = [ref for ref in references if ref != "/api/docs/?script="]  # the page's own start-up script
    assert static
    for reference in static:
        assert reference.startswith("/static/"), reference
        assert finders.find(reference.removeprefix("/static/")), reference


# --- Unknown API paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope",
        "/api/nope",
        "/api/v1/me/",
        "/api/v1/auth/",
        "/api/v2/me",
        "/api/",
        "/api/v1/",
        "/api/v1/auth/token/extra",
    ],
)
@pytest.mark.django_db
def test_an_unknown_api_path_is_404_json(client, path):
    body = _error_body(client.get(path), 404)
    assert body["errors"] == {}


@pytest.mark.django_db
def test_an_unknown_api_path_is_404_json_for_a_post_too(client):
    _error_body(client.post("/api/v1/nope", "{}", content_type="application/json"), 404)


@pytest.mark.django_db
def test_an_unknown_api_path_is_404_json_with_a_valid_token(client):
    token = _token_for(MemberFactory())
    _error_body(client.get("/api/v1/nope", **_auth(token)), 404)


@pytest.mark.django_db
def test_the_api_404_message_follows_accept_language(client):
    body = _error_body(client.get("/api/v1/nope", HTTP_ACCEPT_LANGUAGE="en"), 404)
    assert body["message"] == "Not found."


@pytest.mark.django_db
def test_an_unknown_site_page_is_still_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
