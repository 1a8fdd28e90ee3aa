"""The consultations API (issue 5): open, list (only the caller's), read, and write in a
consultation; every error in the API's one JSON shape, and nothing stored on an error."""

import json
import uuid

import pytest
import yaml

from kirakira.api.testing import error_body
from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.consultations import services
from kirakira.consultations.models import BODY_MAX, Consultation, Message, Status
from kirakira.consultations.testing import open_for_member, open_for_visitor
from kirakira.orders.testing import place_order

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/consultations"


def detail_url(consultation_id) -> str:
    return f"{LIST_URL}/{consultation_id}"


def messages_url(consultation_id) -> str:
    return f"{LIST_URL}/{consultation_id}/messages"


def token_for(client, member) -> str:
    response = client.post(
        "/api/v1/auth/token",
        {"login_id": member.login_id, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code in (200, 201), response.content
    return response.json()["token"]


class Api:
    def __init__(self, client, member):
        self.client = client
        self.member = member
        self.headers = {"Authorization": f"Bearer {token_for(client, member)}", "Accept-Language": "en"}

    def get(self, url):
        return self.client.get(url, headers=self.headers)

    def post(self, url, data):
        body = data if isinstance(data, str) else json.dumps(data)
        return self.client.post(url, body, content_type="application/json", headers=self.headers)


@pytest.fixture
def api(client):
    return Api(client, MemberFactory())


def counts():
    return Consultation.objects.count(), Message.objects.count()


VALID = {"category": "question", "subject": "納期について", "body": "いつ届きますか？"}


# --- POST /api/v1/consultations ----------------------------------------------------------------


def test_a_member_opens_a_consultation(api):
    response = api.post(LIST_URL, VALID)

    assert response.status_code == 201, response.content
    body = response.json()
    consultation = Consultation.objects.get()
    assert body["id"] == str(consultation.pk)
    assert body["reference"] == consultation.reference
    assert (body["category"], body["subject"], body["status"]) == ("question", "納期について", "open")
    assert body["order"] is None
    assert [m["body"] for m in body["messages"]] == ["いつ届きますか？"]
    assert body["messages"][0]["author"] == "member"
    assert body["messages"][0]["attachments"] == []
    assert consultation.member == api.member
    assert consultation.subject == "納期について"


def test_a_member_opens_a_consultation_about_their_own_order(api):
    order = place_order(member=api.member)

    response = api.post(LIST_URL, {**VALID, "order": str(order.pk), "callback_phone": "090-1111-2222"})

    assert response.status_code == 201, response.content
    assert response.json()["order"] == str(order.pk)
    assert Consultation.objects.get().order == order


def test_the_longest_allowed_body_is_accepted(api):
    response = api.post(LIST_URL, {**VALID, "body": "あ" * BODY_MAX})

    assert response.status_code == 201, response.content
    assert len(Message.objects.get().body) == BODY_MAX


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   \n  "}, "body"),
        ({"body": "あ" * 20_000}, "body"),
        ({"body": "あ" * (BODY_MAX + 1)}, "body"),
        ({"body": 12345}, "body"),
        ({"body": None}, "body"),
        ({"body": ["text"]}, "body"),
        ({"category": "gossip"}, "category"),
        ({"category": None}, "category"),
        ({"subject": ""}, "subject"),
        ({"subject": "件" * 201}, "subject"),
        ({"subject": 7}, "subject"),
        ({"order": "not-a-uuid"}, "order"),
        ({"order": str(uuid.uuid4())}, "order"),
        ({"callback_phone": 9012345678}, "callback_phone"),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_stored(api, change, field):
    response = api.post(LIST_URL, {**VALID, **change})

    body = error_body(response, 400)
    assert field in body["errors"], body
    assert counts() == (0, 0)


@pytest.mark.parametrize("missing", ["subject", "body", "category"])
def test_a_missing_field_is_refused(api, missing):
    data = {k: v for k, v in VALID.items() if k != missing}

    body = error_body(api.post(LIST_URL, data), 400)

    assert missing in body["errors"]
    assert counts() == (0, 0)


def test_another_members_order_is_refused_and_nothing_stored(api):
    theirs = place_order(member=MemberFactory())

    body = error_body(api.post(LIST_URL, {**VALID, "order": str(theirs.pk)}), 400)

    assert body["errors"]["order"] == ["Choose one of your own orders."]
    assert counts() == (0, 0)


def test_the_messages_are_in_the_callers_language(api):
    body = error_body(api.post(LIST_URL, {**VALID, "body": "  "}), 400)

    assert body["errors"]["body"] == ["Write your message."]


def test_several_problems_are_reported_together(api):
    body = error_body(api.post(LIST_URL, {"category": "question", "subject": " ", "body": ""}), 400)

    assert {"subject", "body"} <= set(body["errors"])
    assert counts() == (0, 0)


def test_a_body_that_is_not_json_is_refused(api):
    response = api.post(LIST_URL, "{not json")

    error_body(response, 400)
    assert counts() == (0, 0)


# --- GET /api/v1/consultations -----------------------------------------------------------------


def test_the_list_holds_only_the_callers_consultations(api):
    mine = [open_for_member(api.member, subject=f"mine {n}") for n in range(2)]
    open_for_member(MemberFactory(), subject="someone else's")
    visitor = open_for_visitor()
    services.visitor_confirm(visitor.pk)

    response = api.get(LIST_URL)

    assert response.status_code == 200
    listed = response.json()["results"]
    assert {c["id"] for c in listed} == {str(c.pk) for c in mine}
    assert "someone else's" not in response.content.decode()
    assert all("messages" not in c for c in listed)


def test_an_empty_list(api):
    open_for_member(MemberFactory())

    response = api.get(LIST_URL)

    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


# --- GET /api/v1/consultations/{id} ------------------------------------------------------------


def test_the_caller_reads_their_consultation_with_staffs_reply(api):
    consultation = open_for_member(api.member)
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    services.staff_reply(consultation_id=consultation.pk, actor=staff, body="お答えします")

    response = api.get(detail_url(consultation.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "answered"
    assert [(m["author"], m["body"]) for m in body["messages"]] == [
        ("member", "いつ頃仕上がりますか？"),
        ("staff", "お答えします"),
    ]


def test_internal_notes_never_appear(api):
    consultation = open_for_member(api.member)
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    note = f"社内メモ-{uuid.uuid4().hex}"
    services.staff_reply(consultation_id=consultation.pk, actor=staff, body=note, internal=True)
    services.staff_reply(consultation_id=consultation.pk, actor=staff, body="公開の回答")

    detail = api.get(detail_url(consultation.pk))
    listing = api.get(LIST_URL)

    assert detail.status_code == 200
    assert note not in detail.content.decode()
    assert note not in listing.content.decode()
    assert [m["body"] for m in detail.json()["messages"]] == ["いつ頃仕上がりますか？", "公開の回答"]
    internal = Message.objects.get(is_internal=True)
    assert str(internal.pk) not in detail.content.decode()


def test_another_members_consultation_is_404(api):
    theirs = open_for_member(MemberFactory(), subject="秘密の件名")

    response = api.get(detail_url(theirs.pk))

    body = error_body(response, 404)
    assert "秘密の件名" not in response.content.decode()
    assert body["errors"] == {}


def test_a_visitors_consultation_is_404(api):
    visitor = open_for_visitor()
    services.visitor_confirm(visitor.pk)

    error_body(api.get(detail_url(visitor.pk)), 404)
    error_body(api.post(messages_url(visitor.pk), {"body": "hi"}), 404)


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", str(uuid.uuid4()), "%20"])
def test_an_unknown_or_malformed_id_is_404_json(api, bad_id):
    error_body(api.get(detail_url(bad_id)), 404)
    before = counts()
    error_body(api.post(messages_url(bad_id), {"body": "hello"}), 404)
    assert counts() == before


# --- POST /api/v1/consultations/{id}/messages --------------------------------------------------


def test_the_caller_writes_in_their_consultation(api):
    consultation = open_for_member(api.member)
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    services.staff_reply(consultation_id=consultation.pk, actor=staff, body="回答")

    response = api.post(messages_url(consultation.pk), {"body": "  追記です  "})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["author"], body["body"], body["attachments"]) == ("member", "追記です", [])
    message = Message.objects.get(pk=body["id"])
    assert (message.consultation_id, message.author, message.is_internal) == (
        consultation.pk,
        api.member,
        False,
    )
    consultation.refresh_from_db()
    assert consultation.status == Status.OPEN  # back with staff after the member's answer


def test_writing_in_another_members_consultation_is_404_and_stores_nothing(api):
    theirs = open_for_member(MemberFactory())
    before = counts()

    error_body(api.post(messages_url(theirs.pk), {"body": "乗っ取り"}), 404)

    assert counts() == before


@pytest.mark.parametrize(
    "data",
    [
        {"body": ""},
        {"body": "  "},
        {"body": "あ" * 20_000},
        {"body": "あ" * (BODY_MAX + 1)},
        {"body": 42},
        {},
    ],
)
def test_a_bad_message_is_refused_and_nothing_stored(api, data):
    consultation = open_for_member(api.member)
    before = counts()

    body = error_body(api.post(messages_url(consultation.pk), data), 400)

    assert "body" in body["errors"]
    assert counts() == before


def test_a_closed_consultation_refuses_a_message(api):
    consultation = open_for_member(api.member)
    services.consultation_close(consultation_id=consultation.pk, member=api.member)
    before = counts()

    body = error_body(api.post(messages_url(consultation.pk), {"body": "まだあります"}), 400)

    assert body["errors"] == {"non_field_errors": ["This consultation is closed. Reopen it to write again."]}
    assert counts() == before
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED


# --- without a token ----------------------------------------------------------------------------


def test_every_endpoint_needs_a_token(client):
    consultation = open_for_member()
    before = counts()

    error_body(client.get(LIST_URL), 401)
    error_body(client.post(LIST_URL, VALID, content_type="application/json"), 401)
    error_body(client.get(detail_url(consultation.pk)), 401)
    error_body(
        client.post(messages_url(consultation.pk), {"body": "x"}, content_type="application/json"), 401
    )
    assert counts() == before


def test_a_bad_token_is_401(client):
    headers = {"Authorization": "Bearer not-a-real-token"}

    error_body(client.get(LIST_URL, headers=headers), 401)


def test_a_logged_in_browser_session_is_not_enough(client):
    member = MemberFactory()
    open_for_member(member)
    client.force_login(member)

    error_body(client.get(LIST_URL), 401)


# --- the API's description ----------------------------------------------------------------------


def test_the_schema_describes_the_consultations_api_without_warnings(client):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    problems = [
        m for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if "onsultation" in m
    ]
    assert problems == []
    document = json.loads(response.content)
    validate_schema(document)
    paths = document["paths"]
    assert {"get", "post"} <= set(paths[LIST_URL])
    assert {"201", "400", "401"} <= set(paths[LIST_URL]["post"]["responses"])
    assert "401" in paths[LIST_URL]["get"]["responses"]
    detail = paths["/api/v1/consultations/{consultation_id}"]
    assert {"200", "401", "404"} <= set(detail["get"]["responses"])
    messages = paths["/api/v1/consultations/{consultation_id}/messages"]
    assert {"201", "400", "401", "404"} <= set(messages["post"]["responses"])
    for operation in (paths[LIST_URL]["get"], paths[LIST_URL]["post"], detail["get"], messages["post"]):
        assert operation.get("security"), operation
    request = paths[LIST_URL]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = document["components"]["schemas"][request.rsplit("/", 1)[-1]]
    assert {"category", "subject", "body"} <= set(fields["required"])
    assert "order" not in fields["required"]


def test_the_schema_is_also_served_as_yaml(client):
    document = yaml.safe_load(client.get("/api/schema/").content)

    assert "/api/v1/consultations/{consultation_id}/messages" in document["paths"]
