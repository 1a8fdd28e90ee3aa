"""The schema tells the truth about the consultations API (issue 11, section 4).

Observed: `subject` at most 1200 characters in the schema and 200 on the server, a
consultation's and a message's `body` 11000 against 10000, empty strings allowed where the
server requires a value, and statuses the server answers that the schema does not name, so a
generated client could not parse them. Here the schema's limits are read back and compared with
the services' constants and with what the server does at each limit, and every status each
consultation operation answers is found documented, with the body the schema gives it.
"""

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from kirakira.api.testing import error_body
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import services
from kirakira.consultations.api import PHONE_PATTERN
from kirakira.consultations.attachments import MAX_BYTES, MAX_FILES
from kirakira.consultations.models import BODY_MAX, SUBJECT_MAX, Category, Consultation, Message, Status
from kirakira.consultations.testing import PDF, PNG, open_for_member, upload
from kirakira.orders.normalization import PHONE_DIGITS_MAX, PHONE_DIGITS_MIN, PHONE_MAX, clean_phone

from .api_client import (
    LIST_URL,
    VALID,
    MemberApi,
    assert_documented,
    attachment_url,
    close_url,
    detail_url,
    messages_url,
    reopen_url,
    served_schema,
)

pytestmark = pytest.mark.django_db

PATHS = {
    "list": "/api/v1/consultations",
    "detail": "/api/v1/consultations/{consultation_id}",
    "messages": "/api/v1/consultations/{consultation_id}/messages",
    "close": "/api/v1/consultations/{consultation_id}/close",
    "reopen": "/api/v1/consultations/{consultation_id}/reopen",
    "attachment": "/api/v1/consultations/{consultation_id}/attachments/{attachment_id}",
}
OPERATIONS = [
    ("list", "get"),
    ("list", "post"),
    ("detail", "get"),
    ("messages", "post"),
    ("close", "post"),
    ("reopen", "post"),
    ("attachment", "get"),
]
# The request bodies of the operations that take text, per media type.
BODIES = {
    ("list", "application/json"),
    ("list", "multipart/form-data"),
    ("messages", "application/json"),
    ("messages", "multipart/form-data"),
}


@pytest.fixture
def api(client):
    return MemberApi(client, MemberFactory())


@pytest.fixture
def schema(client):
    return served_schema(client)


def request_schema(schema, path_key, media_type) -> dict:
    content = schema["paths"][PATHS[path_key]]["post"]["requestBody"]["content"]
    reference = content[media_type]["schema"]["$ref"]
    return schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]


def resolve(schema, fragment) -> dict:
    if "$ref" in fragment:
        return schema["components"]["schemas"][fragment["$ref"].rsplit("/", 1)[-1]]
    return fragment


def not_blank_rule(prop) -> tuple[int, str]:
    return prop["minLength"], prop["pattern"]


# --- limits, patterns, enums and requirements --------------------------------------------------


@pytest.mark.parametrize(("path_key", "media_type"), sorted(BODIES))
def test_the_body_limit_is_the_services(schema, path_key, media_type):
    body = request_schema(schema, path_key, media_type)

    assert body["properties"]["body"]["maxLength"] == BODY_MAX == 10_000
    assert "body" in body["required"]
    assert not_blank_rule(body["properties"]["body"]) == (1, r"\S")


@pytest.mark.parametrize("media_type", ["application/json", "multipart/form-data"])
def test_the_opening_fields_are_stated_as_the_service_checks_them(schema, media_type):
    opening = request_schema(schema, "list", media_type)
    fields = opening["properties"]

    assert fields["subject"]["maxLength"] == SUBJECT_MAX == 200
    assert not_blank_rule(fields["subject"]) == (1, r"\S")
    assert resolve(schema, fields["category"])["enum"] == list(Category.values)
    assert set(opening["required"]) == {"category", "subject", "body"}
    assert fields["order"] == {
        "type": "string",
        "format": "uuid",
        "nullable": True,
        "description": "One of the caller's orders, or null.",
    }
    phone, empty = fields["callback_phone"]["oneOf"]
    assert phone == {"type": "string", "maxLength": PHONE_MAX, "pattern": PHONE_PATTERN}
    assert empty == {"type": "string", "maxLength": 0}
    assert f"{{{PHONE_DIGITS_MIN},{PHONE_DIGITS_MAX}}}" in PHONE_PATTERN


@pytest.mark.parametrize("path_key", ["list", "messages"])
def test_files_are_stated_in_the_multipart_body_only(schema, path_key):
    multipart = request_schema(schema, path_key, "multipart/form-data")["properties"]["attachments"]
    json_body = request_schema(schema, path_key, "application/json")

    assert multipart["type"] == "array"
    assert multipart["maxItems"] == MAX_FILES == 5
    assert multipart["items"] == {"type": "string", "format": "binary"}
    assert f"{MAX_BYTES // (1024 * 1024)} MB" in multipart["description"]
    assert "attachments" not in json_body["properties"]


def test_the_list_parameters_are_the_paginators(schema):
    parameters = {p["name"]: p for p in schema["paths"][PATHS["list"]]["get"]["parameters"]}

    assert sorted(parameters["status"]["schema"]["enum"]) == sorted(Status.values)
    assert parameters["ordering"]["schema"]["enum"] == ["-created_at", "created_at"]
    assert parameters["page_size"]["schema"]["type"] == "integer"
    assert "1 to 100 (default 20)" in parameters["page_size"]["description"]
    assert parameters["cursor"]["schema"]["type"] == "string"


@pytest.mark.parametrize("path_key", ["list", "messages"])
def test_the_longest_body_the_schema_allows_is_accepted_and_one_more_is_refused(api, schema, path_key):
    limit = request_schema(schema, path_key, "application/json")["properties"]["body"]["maxLength"]
    consultation = open_for_member(api.member)
    url = LIST_URL if path_key == "list" else messages_url(consultation.pk)
    data = VALID if path_key == "list" else {}

    accepted = api.post(url, {**data, "body": "あ" * limit})
    before = (Consultation.objects.count(), Message.objects.count())
    refused = api.post(url, {**data, "body": "あ" * (limit + 1)})

    assert accepted.status_code == 201, accepted.content
    assert error_body(refused, 400)["errors"] == {
        "body": [f"A message is at most {BODY_MAX} characters long."]
    }
    assert (Consultation.objects.count(), Message.objects.count()) == before


def test_the_longest_subject_the_schema_allows_is_accepted_and_one_more_is_refused(api, schema):
    limit = request_schema(schema, "list", "application/json")["properties"]["subject"]["maxLength"]

    accepted = api.post(LIST_URL, {**VALID, "subject": "件" * limit})
    refused = api.post(LIST_URL, {**VALID, "subject": "件" * (limit + 1)})

    assert accepted.status_code == 201, accepted.content
    assert error_body(refused, 400)["errors"] == {
        "subject": [f"The subject is at most {SUBJECT_MAX} characters long."]
    }
    assert Consultation.objects.count() == 1


@pytest.mark.parametrize("value", ["", " ", "  \n\t ", "\u3000"])
@pytest.mark.parametrize(
    ("field", "message"), [("subject", "Enter a subject."), ("body", "Write your message.")]
)
def test_what_the_schema_calls_required_the_server_requires(api, schema, value, field, message):
    prop = request_schema(schema, "list", "application/json")["properties"][field]
    schema_allows = len(value) >= prop["minLength"] and re.search(prop["pattern"], value) is not None

    response = api.post(LIST_URL, {**VALID, field: value})

    assert not schema_allows
    assert error_body(response, 400)["errors"] == {field: [message]}
    assert not Consultation.objects.exists()


@pytest.mark.parametrize("media", ["json", "multipart"])
def test_a_message_body_the_schema_calls_blank_is_refused(api, media):
    consultation = open_for_member(api.member)
    url = messages_url(consultation.pk)

    for value in ("", "   "):
        response = api.post(url, {"body": value}) if media == "json" else api.upload(url, {"body": value})
        assert error_body(response, 400)["errors"] == {"body": ["Write your message."]}
    assert Message.objects.count() == 1


@pytest.mark.parametrize("value", ["gossip", "QUESTION", "", 3])
def test_a_category_outside_the_enum_is_refused(api, value):
    response = api.post(LIST_URL, {**VALID, "category": value})

    assert error_body(response, 400)["errors"] == {"category": ["Choose a category."]}
    assert not Consultation.objects.exists()


# --- the callback number: the schema's pattern and the service's rule ---------------------------


def service_accepts(value: str) -> bool:
    try:
        clean_phone(value)
    except ValidationError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.from_regex(PHONE_PATTERN, fullmatch=True))
def test_every_number_the_pattern_allows_the_service_accepts_within_the_max_length(value):
    # The service trims the ends before it counts: a value one space over the schema's length
    # is still accepted, which no client that follows the schema can notice.
    if len(value) <= PHONE_MAX:
        assert service_accepts(value)
    elif len(value.strip()) > PHONE_MAX:
        assert not service_accepts(value)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" ()-+0123456789", min_size=1, max_size=PHONE_MAX))
def test_the_pattern_refuses_what_the_service_refuses(value):
    # The service trims the ends first; what is left matches the pattern exactly when it is
    # accepted.
    if value.strip():
        assert service_accepts(value) == bool(re.search(PHONE_PATTERN, value.strip()))


@pytest.mark.parametrize(
    ("phone", "accepted"),
    [
        ("090-1234-5678", True),
        ("+81 (90) 1234 5678", True),
        ("", True),
        ("03-1234-567", False),  # 9 digits
        ("0" * 16, False),
        ("090-1234-5678 ext. 2", False),
        ("81+9012345678", False),
        ("(" * 21 + "0312345678", False),  # 31 characters
    ],
)
def test_a_callback_number_is_accepted_exactly_as_the_schema_says(api, phone, accepted):
    schema_allows = phone == "" or (len(phone) <= PHONE_MAX and re.search(PHONE_PATTERN, phone) is not None)

    response = api.post(LIST_URL, {**VALID, "callback_phone": phone})

    assert schema_allows is accepted
    if accepted:
        assert response.status_code == 201, response.content
        assert Consultation.objects.get().callback_phone == phone
    else:
        assert error_body(response, 400)["errors"] == {
            "callback_phone": [
                "Enter a phone number of 10 to 15 digits (digits, spaces, hyphens, brackets and a "
                "leading + only)."
            ]
        }


def test_a_full_width_number_is_read_as_its_ascii_form(api):
    """Beyond the pattern, as on the page: what a Japanese keyboard types is understood."""
    response = api.post(LIST_URL, {**VALID, "callback_phone": "０９０ー１２３４ー５６７８"})

    assert response.status_code == 201, response.content
    assert Consultation.objects.get().callback_phone == "090-1234-5678"


# --- every status, documented ------------------------------------------------------------------


def test_every_consultation_operation_is_described(schema):
    for path_key, method in OPERATIONS:
        operation = schema["paths"][PATHS[path_key]][method]
        assert len(operation.get("description", "")) > 40, (path_key, method)
        assert operation.get("security"), (path_key, method)


def test_the_schema_describes_the_consultations_without_warnings(client):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    problems = [
        m for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if "onsultation" in m
    ]
    assert problems == []
    validate_schema(response.json())


def _too_large_png():
    return upload("big.png", PNG + b"\0" * (MAX_BYTES + 1 - len(PNG)))


def test_every_status_of_the_list_is_documented(client, api, schema):
    open_for_member(api.member)
    path = PATHS["list"]

    assert_documented(schema, path, "get", api.get(LIST_URL))
    assert_documented(schema, path, "get", api.get(LIST_URL, {"page_size": "0"}))
    assert_documented(schema, path, "get", client.get(LIST_URL))


def test_every_status_of_opening_is_documented(client, api, schema, settings):
    settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR = 1
    path = PATHS["list"]
    answers = [
        api.post(LIST_URL, {**VALID, "subject": ""}),
        api.upload(LIST_URL, VALID, [_too_large_png()]),
        client.post(LIST_URL, "x", content_type="text/plain", headers=api.headers),
        client.post(LIST_URL, VALID, content_type="application/json"),
        api.upload(LIST_URL, VALID, [upload()]),
        api.post(LIST_URL, VALID),
    ]

    assert [a.status_code for a in answers] == [400, 413, 415, 401, 201, 429]
    for answer in answers:
        assert_documented(schema, path, "post", answer)
    documented_429 = schema["paths"][path]["post"]["responses"]["429"]
    assert "Retry-After" in documented_429["headers"]
    assert int(answers[-1]["Retry-After"]) > 0


def test_every_status_of_a_consultation_is_documented(client, api, schema):
    mine = open_for_member(api.member)
    theirs = open_for_member(MemberFactory())
    path = PATHS["detail"]

    answers = [api.get(detail_url(mine.pk)), api.get(detail_url(theirs.pk)), client.get(detail_url(mine.pk))]

    assert [a.status_code for a in answers] == [200, 404, 401]
    for answer in answers:
        assert_documented(schema, path, "get", answer)


def test_every_status_of_writing_is_documented(client, api, schema):
    mine = open_for_member(api.member)
    closed = open_for_member(api.member)
    services.consultation_close(consultation_id=closed.pk, member=api.member)
    theirs = open_for_member(MemberFactory())
    path = PATHS["messages"]

    answers = [
        api.post(messages_url(mine.pk), {"body": "追記"}),
        api.upload(messages_url(mine.pk), {"body": "写真です"}, [upload()]),
        api.post(messages_url(closed.pk), {"body": "追記"}),
        api.post(messages_url(mine.pk), {"body": ""}),
        api.upload(messages_url(mine.pk), {"body": "大きい"}, [_too_large_png()]),
        client.post(messages_url(mine.pk), "x", content_type="text/plain", headers=api.headers),
        api.post(messages_url(theirs.pk), {"body": "追記"}),
        client.post(messages_url(mine.pk), {"body": "x"}, content_type="application/json"),
    ]

    assert [a.status_code for a in answers] == [201, 201, 400, 400, 413, 415, 404, 401]
    for answer in answers:
        assert_documented(schema, path, "post", answer)


def test_every_status_of_closing_and_reopening_is_documented(client, api, schema):
    mine = open_for_member(api.member)
    theirs = open_for_member(MemberFactory())

    closing = [
        api.post(close_url(mine.pk)),
        api.post(close_url(mine.pk)),
        api.post(close_url(theirs.pk)),
        client.post(close_url(mine.pk), content_type="application/json"),
    ]
    reopening = [
        api.post(reopen_url(mine.pk)),
        api.post(reopen_url(mine.pk)),
        api.post(reopen_url(theirs.pk)),
        client.post(reopen_url(mine.pk), content_type="application/json"),
    ]

    assert [a.status_code for a in closing] == [200, 400, 404, 401]
    assert [a.status_code for a in reopening] == [200, 400, 404, 401]
    for answer in closing:
        assert_documented(schema, PATHS["close"], "post", answer)
    for answer in reopening:
        assert_documented(schema, PATHS["reopen"], "post", answer)


def test_every_status_of_a_download_is_documented(client, api, schema):
    mine = open_for_member(api.member, files=[upload()])
    file = Message.objects.get(consultation=mine).attachments.get()
    staff_file = open_for_member(MemberFactory(), files=[upload()])
    theirs = Message.objects.get(consultation=staff_file).attachments.get()
    path = PATHS["attachment"]

    answers = [
        api.get(attachment_url(mine.pk, file.pk)),
        api.get(attachment_url(mine.pk, theirs.pk)),
        client.get(attachment_url(mine.pk, file.pk)),
    ]

    assert [a.status_code for a in answers] == [200, 404, 401]
    assert answers[0]["Content-Type"] == "image/png"
    for answer in answers:
        assert_documented(schema, path, "get", answer)


def test_a_staff_reply_in_the_thread_matches_the_documented_body(api, schema):
    consultation = open_for_member(api.member, files=[upload()])
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    services.staff_reply(
        consultation_id=consultation.pk,
        actor=staff,
        body="回答です",
        files=[upload("a.pdf", PDF, "application/pdf")],
    )

    response = api.get(detail_url(consultation.pk))

    assert_documented(schema, PATHS["detail"], "get", response)
    assert [m["author"] for m in response.json()["messages"]] == ["member", "staff"]


# --- the messages are the services' --------------------------------------------------------------


def service_message(clean, *args) -> str:
    with pytest.raises(ValidationError) as refused:
        clean(*args)
    return refused.value.messages[0]


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
def test_a_value_refused_before_the_service_reads_as_the_service_would_say_it(client, language):
    """The limits checked on the raw input say what the service (and the page) says."""
    from django.utils import translation

    from kirakira.consultations.attachments import check_files

    api = MemberApi(client, MemberFactory(), language=language)
    consultation = open_for_member(api.member)
    answers = {
        "subject": api.post(LIST_URL, {**VALID, "subject": "件" * (SUBJECT_MAX + 1)}),
        "body": api.post(messages_url(consultation.pk), {"body": "あ" * (BODY_MAX + 1)}),
        "blank": api.post(messages_url(consultation.pk), {"body": ""}),
        "category": api.post(LIST_URL, {**VALID, "category": "gossip"}),
        "callback_phone": api.post(LIST_URL, {**VALID, "callback_phone": "0" * (PHONE_MAX + 1)}),
        "attachments": api.upload(LIST_URL, VALID, [upload(f"{n}.png") for n in range(MAX_FILES + 1)]),
    }
    with translation.override(language):
        expected = {
            "subject": service_message(services.clean_subject, "件" * (SUBJECT_MAX + 1)),
            "body": service_message(services.clean_body, "あ" * (BODY_MAX + 1)),
            "blank": service_message(services.clean_body, ""),
            "category": service_message(services._clean_category, "gossip"),
            "callback_phone": service_message(clean_phone, "0" * (PHONE_MAX + 1)),
            "attachments": service_message(check_files, [upload() for _ in range(MAX_FILES + 1)]),
        }

    for name, answer in answers.items():
        field = "body" if name == "blank" else name
        assert error_body(answer, 400)["errors"] == {field: [expected[name]]}, name
