"""Attachments through the API (issue 11, section 5): a consultation or a message sent as
multipart/form-data carries files under the page's rules (how many, how large, the type told by
the content, the virus scanner), and the member downloads a file of their thread by the URL in
the message. JSON bodies keep their 1 MiB limit; a multipart upload to these two endpoints gets
room for its files, and must say how large it is."""

import json

import pytest
from django.test import Client

from kirakira.api.testing import asgi_post, error_body
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import scanner, services
from kirakira.consultations.api import TakesFiles
from kirakira.consultations.attachments import MAX_BYTES, MAX_FILES
from kirakira.consultations.models import Attachment, Consultation, Message, ScanResult, Status
from kirakira.consultations.testing import JPEG, PDF, PNG, open_for_member, upload
from kirakira.orders.testing import place_order

from .api_client import LIST_URL, VALID, MemberApi, attachment_url, messages_url, served_schema

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def api(client):
    return MemberApi(client, MemberFactory())


def stored() -> tuple[int, int, int]:
    return Consultation.objects.count(), Message.objects.count(), Attachment.objects.count()


def png(name="photo.png", size=None):
    content = PNG if size is None else PNG + b"\0" * (size - len(PNG))
    return upload(name, content, "image/png")


def pdf(name="invoice.pdf"):
    return upload(name, PDF, "application/pdf")


# --- opening a consultation with files ---------------------------------------------------------


def test_a_member_opens_a_consultation_with_files(api):
    response = api.upload(LIST_URL, VALID, [png(), pdf(), upload("scan.jpg", JPEG, "image/jpeg")])

    assert response.status_code == 201, response.content
    body = response.json()
    files = body["messages"][0]["attachments"]
    assert [(f["filename"], f["content_type"], f["size"]) for f in files] == [
        ("photo.png", "image/png", len(PNG)),
        ("invoice.pdf", "application/pdf", len(PDF)),
        ("scan.jpg", "image/jpeg", len(JPEG)),
    ]
    consultation = Consultation.objects.get()
    assert (consultation.subject, consultation.member) == (VALID["subject"], api.member)
    stored_files = Attachment.objects.filter(message__consultation=consultation).order_by("created_at")
    assert sorted(bytes(a.content) for a in stored_files) == sorted([PNG, PDF, JPEG])
    assert {a.scan for a in stored_files} == {ScanResult.NOT_SCANNED}


def test_the_text_fields_of_a_multipart_opening_are_read_as_in_json(api):
    order = place_order(member=api.member)

    response = api.upload(
        LIST_URL, {**VALID, "order": str(order.pk), "callback_phone": "090-1111-2222"}, [png()]
    )

    assert response.status_code == 201, response.content
    consultation = Consultation.objects.get()
    assert (consultation.order, consultation.callback_phone) == (order, "090-1111-2222")


def test_an_empty_order_in_a_form_means_none(api):
    response = api.upload(LIST_URL, {**VALID, "order": "", "callback_phone": ""})

    assert response.status_code == 201, response.content
    assert Consultation.objects.get().order is None


def test_files_are_not_needed_in_a_multipart_body(api):
    response = api.upload(LIST_URL, VALID)

    assert response.status_code == 201, response.content
    assert response.json()["messages"][0]["attachments"] == []


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            [png(f"p{n}.png") for n in range(MAX_FILES + 1)],
            f"You can attach at most {MAX_FILES} files.",
        ),
        (
            [upload("notes.png", b"just some text", "image/png")],
            "“notes.png” is not an image (JPEG, PNG, GIF, WebP, HEIC) or a PDF file.",
        ),
        (
            [upload("photo.pdf", PNG, "application/pdf")],
            "The content of “photo.pdf” does not match its name: it is a PNG file.",
        ),
        (
            [upload("run.exe", b"MZ\x90\x00" + b"\0" * 60, "image/png")],
            "“run.exe” is not an image (JPEG, PNG, GIF, WebP, HEIC) or a PDF file.",
        ),
    ],
    ids=["too many", "not an image", "name does not match", "a program"],
)
def test_a_file_the_page_refuses_is_refused_by_field_and_nothing_is_stored(api, files, message):
    response = api.upload(LIST_URL, VALID, files)

    assert error_body(response, 400)["errors"] == {"attachments": [message]}
    assert stored() == (0, 0, 0)


def test_every_problem_is_named_at_once(api):
    response = api.upload(
        LIST_URL, {**VALID, "subject": " ", "category": "gossip"}, [upload("a.png", b"text", "image/png")]
    )

    body = error_body(response, 400)
    assert set(body["errors"]) >= {"subject", "category"}
    assert stored() == (0, 0, 0)


def test_a_file_over_its_size_is_a_413_naming_it_and_nothing_is_stored(api):
    response = api.upload(LIST_URL, VALID, [png(), png("big.png", size=MAX_BYTES + 1)])

    body = error_body(response, 413)
    assert body["errors"] == {"attachments": [f"“big.png” is larger than {MAX_BYTES // MB} MB."]}
    assert stored() == (0, 0, 0)


def test_a_file_of_exactly_the_largest_size_is_taken(api):
    response = api.upload(LIST_URL, VALID, [png("full.png", size=MAX_BYTES)])

    assert response.status_code == 201, response.content
    assert Attachment.objects.get().size == MAX_BYTES


def test_a_file_over_its_size_with_other_mistakes_is_a_400_naming_them_all(api):
    response = api.upload(LIST_URL, {**VALID, "body": "追記\u200b"}, [png("big.png", size=MAX_BYTES + 1)])

    body = error_body(response, 400)
    assert set(body["errors"]) == {"body", "attachments"}


def test_a_file_field_that_is_not_a_file_is_refused(api):
    response = api.client.post(LIST_URL, {**VALID, "attachments": "photo.png"}, headers=api.headers)

    assert "attachments" in error_body(response, 400)["errors"]
    assert stored() == (0, 0, 0)


def test_files_in_a_json_body_are_not_files(api):
    response = api.post(LIST_URL, {**VALID, "attachments": ["iVBORw0KGgo="]})

    assert response.status_code == 201  # JSON carries no files: the key is not read
    assert Attachment.objects.count() == 0


# --- the virus scanner -------------------------------------------------------------------------


@pytest.fixture
def scanner_says(monkeypatch):
    """A configured scanner whose verdict the test chooses; the protocol itself is tested in
    test_scanner.py."""
    scanned = []

    def configure(verdict):
        monkeypatch.setattr(scanner, "is_configured", lambda: True)

        def scan(data):
            scanned.append(data)
            if verdict == "unavailable":
                raise scanner.ScannerUnavailable
            return scanner.Verdict(
                clean=verdict == "clean", signature="" if verdict == "clean" else "Eicar-Test"
            )

        monkeypatch.setattr(scanner, "scan", scan)
        return scanned

    return configure


def test_scanned_files_are_stored_as_scanned(api, scanner_says):
    scanned = scanner_says("clean")

    response = api.upload(LIST_URL, VALID, [png(), pdf()])

    assert response.status_code == 201, response.content
    assert sorted(scanned) == sorted([PNG, PDF])
    assert {a.scan for a in Attachment.objects.all()} == {ScanResult.CLEAN}


@pytest.mark.parametrize(
    ("verdict", "message"),
    [
        ("infected", "“invoice.pdf” contains a virus and was refused."),
        (
            "unavailable",
            "Files cannot be checked for viruses right now. Please try again later, or send your "
            "message without them.",
        ),
    ],
)
def test_a_file_the_scanner_refuses_stores_nothing(api, scanner_says, verdict, message):
    scanner_says(verdict)
    consultation = open_for_member(api.member)
    before = stored()

    opening = api.upload(LIST_URL, VALID, [pdf()])
    writing = api.upload(messages_url(consultation.pk), {"body": "請求書です"}, [pdf()])

    assert error_body(opening, 400)["errors"] == {"attachments": [message]}
    assert error_body(writing, 400)["errors"] == {"attachments": [message]}
    assert stored() == before


# --- writing with files ------------------------------------------------------------------------


def test_a_member_writes_with_files(api):
    consultation = open_for_member(api.member)
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    services.staff_reply(consultation_id=consultation.pk, actor=staff, body="写真を送ってください")

    response = api.upload(messages_url(consultation.pk), {"body": "こちらです"}, [png(), png("2.png")])

    assert response.status_code == 201, response.content
    body = response.json()
    assert [f["filename"] for f in body["attachments"]] == ["photo.png", "2.png"]
    message = Message.objects.get(pk=body["id"])
    assert message.attachments.count() == 2
    consultation.refresh_from_db()
    assert consultation.status == Status.OPEN


def test_a_closed_consultation_refuses_files_and_stores_nothing(api):
    consultation = open_for_member(api.member)
    services.consultation_close(consultation_id=consultation.pk, member=api.member)
    before = stored()

    response = api.upload(messages_url(consultation.pk), {"body": "まだあります"}, [png()])

    assert error_body(response, 400)["errors"] == {
        "non_field_errors": ["This consultation is closed. Reopen it to write again."]
    }
    assert stored() == before


def test_files_for_another_members_consultation_are_404_and_stored_nowhere(api):
    theirs = open_for_member(MemberFactory())
    before = stored()

    error_body(api.upload(messages_url(theirs.pk), {"body": "横から"}, [png()]), 404)

    assert stored() == before


def test_a_message_of_too_many_files_is_refused(api):
    consultation = open_for_member(api.member)

    response = api.upload(
        messages_url(consultation.pk), {"body": "写真"}, [png(f"{n}.png") for n in range(MAX_FILES + 1)]
    )

    assert error_body(response, 400)["errors"] == {
        "attachments": [f"You can attach at most {MAX_FILES} files."]
    }
    assert Message.objects.count() == 1


# --- the body limits ---------------------------------------------------------------------------


def test_a_multipart_upload_larger_than_the_json_limit_is_taken(api, settings):
    """The API refused any body over API_MAX_BODY_BYTES (1 MiB), so no photo of a phone's
    camera could be sent; files now have their own room."""
    files = [png(f"{n}.png", size=3 * MB) for n in range(3)]

    response = api.upload(LIST_URL, VALID, files)

    assert response.status_code == 201, response.content
    assert Attachment.objects.count() == 3
    assert 9 * MB > settings.API_MAX_BODY_BYTES


def test_the_upload_limit_is_the_most_files_of_the_largest_size_with_room_for_the_text(settings):
    assert TakesFiles.upload_max_bytes() == MAX_FILES * MAX_BYTES + settings.API_MAX_BODY_BYTES
    settings.API_MAX_BODY_BYTES = 1000
    assert TakesFiles.upload_max_bytes() == MAX_FILES * MAX_BYTES + 1000


@pytest.mark.parametrize("url", [LIST_URL, "messages"])
def test_a_multipart_body_declared_over_the_upload_limit_is_refused_unread(api, url):
    consultation = open_for_member(api.member)
    url = messages_url(consultation.pk) if url == "messages" else url
    limit = TakesFiles.upload_max_bytes()
    before = stored()

    # The payload is a few bytes: reading past them would fail the request.
    response = api.client.post(
        url,
        b"--x--\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(limit + 1),
        headers=api.headers,
    )

    body = error_body(response, 413)
    assert body["message"] == f"The request body is too large: the limit is {limit} bytes."
    assert stored() == before


def test_a_json_body_to_the_same_endpoint_keeps_the_json_limit(api, settings):
    limit = settings.API_MAX_BODY_BYTES
    body = json.dumps({**VALID, "body": "a" * (limit + 1)})

    response = api.post(LIST_URL, body)

    assert (
        error_body(response, 413)["message"] == f"The request body is too large: the limit is {limit} bytes."
    )


def test_a_multipart_body_to_an_endpoint_without_files_keeps_the_json_limit(api, settings):
    limit = settings.API_MAX_BODY_BYTES

    response = api.client.post(
        "/api/v1/orders",
        b"--x--\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(limit + 1),
        headers=api.headers,
    )

    assert (
        error_body(response, 413)["message"] == f"The request body is too large: the limit is {limit} bytes."
    )


@pytest.mark.django_db(transaction=True)
def test_a_multipart_upload_of_undeclared_length_is_a_411_unread(client):
    member = MemberFactory()
    api = MemberApi(Client(), member)
    headers = [
        (b"content-type", b"multipart/form-data; boundary=x"),
        (b"transfer-encoding", b"chunked"),
        (b"authorization", api.headers["Authorization"].encode()),
    ]

    status, body = asgi_post(LIST_URL, [b"--x\r\n", b"--x--\r\n"], headers)

    assert status == 411
    assert body == {
        "message": "A file upload must state its size: send a Content-Length header.",
        "errors": {},
    }
    assert not Consultation.objects.exists()
    assert "411" in served_schema(client)["paths"][LIST_URL]["post"]["responses"]


@pytest.mark.django_db(transaction=True)
def test_a_json_body_of_undeclared_length_is_still_read(client):
    api = MemberApi(Client(), MemberFactory())
    headers = [
        (b"content-type", b"application/json"),
        (b"transfer-encoding", b"chunked"),
        (b"authorization", api.headers["Authorization"].encode()),
    ]
    data = json.dumps(VALID).encode()

    status, body = asgi_post(LIST_URL, [data[:10], data[10:]], headers)

    assert status == 201, body
    assert Consultation.objects.get().subject == VALID["subject"]


# --- downloading -------------------------------------------------------------------------------


def test_the_member_downloads_a_file_by_the_url_in_the_message(api):
    opened = api.upload(LIST_URL, VALID, [pdf("請求書 2026.pdf")]).json()
    file = opened["messages"][0]["attachments"][0]

    response = api.get(file["url"])

    assert file["url"].startswith("http://testserver/api/v1/consultations/")
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["ETag"] == f'"{file["id"]}"'
    # The file's name is personal data: it is in the header, never in the URL.
    assert "請求書" not in file["url"] and "%E8%AB%8B" not in file["url"]


def test_a_file_the_client_holds_is_not_sent_again(api):
    consultation = open_for_member(api.member, files=[png()])
    file = Attachment.objects.get()
    url = attachment_url(consultation.pk, file.pk)

    etag = api.get(url)["ETag"]
    again = api.get(url, **{"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""


def test_a_download_answers_whatever_type_the_client_accepts(api):
    consultation = open_for_member(api.member, files=[png()])
    file = Attachment.objects.get()

    response = api.get(attachment_url(consultation.pk, file.pk), Accept="image/jpeg")

    assert response.status_code == 200
    assert response.content == PNG


def test_the_threads_urls_lead_to_each_file_including_staffs(api):
    consultation = open_for_member(api.member, files=[png()])
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    services.staff_reply(consultation_id=consultation.pk, actor=staff, body="見積書です", files=[pdf()])

    thread = api.get(f"{LIST_URL}/{consultation.pk}").json()["messages"]
    contents = [api.get(f["url"]).content for m in thread for f in m["attachments"]]

    assert contents == [PNG, PDF]


def test_files_of_internal_notes_and_of_other_members_are_404(api):
    mine = open_for_member(api.member)
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    services.staff_reply(consultation_id=mine.pk, actor=staff, body="社内メモ", files=[pdf()], internal=True)
    note_file = Attachment.objects.get()
    theirs = open_for_member(MemberFactory(), files=[png()])
    their_file = Attachment.objects.exclude(pk=note_file.pk).get()

    error_body(api.get(attachment_url(mine.pk, note_file.pk)), 404)
    error_body(api.get(attachment_url(theirs.pk, their_file.pk)), 404)
    error_body(api.get(attachment_url(mine.pk, their_file.pk)), 404)
    assert str(note_file.pk) not in api.get(f"{LIST_URL}/{mine.pk}").content.decode()


@pytest.mark.parametrize("bad", ["not-a-uuid", "123", "%20"])
def test_a_malformed_file_id_is_404_json(api, bad):
    consultation = open_for_member(api.member)

    error_body(api.get(attachment_url(consultation.pk, bad)), 404)


def test_a_download_needs_a_token(client):
    consultation = open_for_member(files=[png()])
    file = Attachment.objects.get()

    error_body(client.get(attachment_url(consultation.pk, file.pk)), 401)
    client.force_login(consultation.member)
    error_body(client.get(attachment_url(consultation.pk, file.pk)), 401)
