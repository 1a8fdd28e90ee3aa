"""Attachments (issue 5): up to 5 images or PDFs of 10 MB each, typed by their content, stored
encrypted under the data subject's key, and served only to the owner and the staff the
consultation is routed to, always as a download."""

import uuid

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import translation

from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import services
from kirakira.consultations.attachments import MAX_BYTES
from kirakira.consultations.models import Attachment, Consultation, Message, ScanResult
from kirakira.consultations.testing import JPEG, PDF, PNG, open_for_member, open_for_visitor, upload
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.fields import is_destroyed

pytestmark = pytest.mark.django_db

# The pages follow the account language of whoever is logged in, else the browser's.
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 240
    + b"This program cannot be run"
)


@pytest.fixture(autouse=True)
def _no_scanner(settings):
    settings.CLAMAV_SOCKET = ""


def pdf_with(marker: bytes) -> bytes:
    return b"%PDF-1.4\n% " + marker + b"\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_of_size(size: int) -> bytes:
    """A file that starts as a real PNG (signature and IHDR chunk), padded to ``size`` bytes."""
    return PNG[:33] + b"\x00" * (size - 33)


def nothing_stored():
    return (Consultation.objects.count(), Message.objects.count(), Attachment.objects.count()) == (0, 0, 0)


def post_new(client, files, **overrides):
    data = {"category": "question", "subject": "件名", "body": "本文です", "attachments": files}
    data.update(overrides)
    return client.post(reverse("consultations:new"), data, **EN)


@pytest.fixture
def member(client):
    member = MemberFactory(language="en")
    client.force_login(member)
    return member


# --- accepted types -------------------------------------------------------------------------------


def test_png_jpeg_and_pdf_are_accepted_and_stored_as_sent(client, member):
    response = post_new(
        client,
        [
            upload("photo.png", PNG, "image/png"),
            upload("Photo.JPEG", JPEG, "image/jpeg"),
            upload("receipt.pdf", PDF, "application/pdf"),
        ],
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    consultation = Consultation.objects.get()
    assert consultation.member == member
    stored = {a.filename: a for a in Attachment.objects.filter(message__consultation=consultation)}
    assert set(stored) == {"photo.png", "Photo.JPEG", "receipt.pdf"}
    assert (stored["photo.png"].content_type, stored["photo.png"].content) == ("image/png", PNG)
    assert (stored["Photo.JPEG"].content_type, stored["Photo.JPEG"].content) == ("image/jpeg", JPEG)
    assert (stored["receipt.pdf"].content_type, stored["receipt.pdf"].content) == ("application/pdf", PDF)
    assert stored["receipt.pdf"].size == len(PDF)
    assert {a.scan for a in stored.values()} == {ScanResult.NOT_SCANNED}
    assert {a.data_subject_id for a in stored.values()} == {member.pk}


def test_the_type_comes_from_the_content_not_from_the_browser(client, member):
    # The browser's Content-Type is wrong; the bytes are a PNG named .png: accepted as a PNG.
    response = post_new(client, [upload("photo.png", PNG, "application/octet-stream")])

    assert response.status_code == 302
    assert Attachment.objects.get().content_type == "image/png"


def test_a_path_in_the_file_name_is_dropped(client, member):
    response = post_new(client, [upload("..\\..\\windows/system32/photo.png", PNG, "image/png")])

    assert response.status_code == 302
    assert Attachment.objects.get().filename == "photo.png"


# --- refused types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "browser_type", "message"),
    [
        (
            "report.pdf",
            PNG,
            "application/pdf",
            "The content of “report.pdf” does not match its name: it is a PNG file.",
        ),
        (
            "notes.png",
            b"Just some text, not a picture at all.\n" * 4,
            "image/png",
            "“notes.png” is not an image (JPEG, PNG, GIF, WebP, HEIC) or a PDF file.",
        ),
        (
            "holiday.jpg",
            EXE,
            "image/jpeg",
            "“holiday.jpg” is not an image (JPEG, PNG, GIF, WebP, HEIC) or a PDF file.",
        ),
        (
            "empty.png",
            b"",
            "image/png",
            "“empty.png” is not an image (JPEG, PNG, GIF, WebP, HEIC) or a PDF file.",
        ),
    ],
)
def test_a_file_whose_content_is_not_what_its_name_says_is_refused(
    client, member, name, content, browser_type, message
):
    response = post_new(client, [upload(name, content, browser_type)])

    assert response.status_code == 400
    assert message in response.content.decode()
    assert nothing_stored()


def test_the_service_puts_the_problem_on_the_attachments_field():
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        open_for_member(files=[upload("holiday.jpg", EXE, "image/jpeg")])

    assert excinfo.value.message_dict == {
        "attachments": ["“holiday.jpg” is not an image (JPEG, PNG, GIF, WebP, HEIC) or a PDF file."]
    }
    assert nothing_stored()


# --- size and count -------------------------------------------------------------------------------


def test_a_file_of_exactly_10_mb_is_accepted(client, member):
    data = png_of_size(MAX_BYTES)
    assert len(data) == 10 * 1024 * 1024

    response = post_new(client, [upload("big.png", data, "image/png")])

    assert response.status_code == 302, response.content.decode()[:3000]
    attachment = Attachment.objects.get()
    assert attachment.size == MAX_BYTES
    assert attachment.content == data


def test_a_file_of_10_mb_and_one_byte_is_refused(client, member):
    response = post_new(client, [upload("big.png", png_of_size(MAX_BYTES + 1), "image/png")])

    assert response.status_code == 400
    assert "“big.png” is larger than 10 MB." in response.content.decode()
    assert nothing_stored()


def test_a_file_whose_reported_size_lies_is_still_refused_when_too_large():
    file = SimpleUploadedFile("big.png", png_of_size(MAX_BYTES + 1), content_type="image/png")
    file.size = 100  # what a client (or a broken proxy) claimed

    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        open_for_member(files=[file])

    assert excinfo.value.message_dict == {"attachments": ["“big.png” is larger than 10 MB."]}
    assert Attachment.objects.count() == 0
    assert Consultation.objects.count() == 0


def test_five_files_are_accepted(client, member):
    response = post_new(client, [upload(f"photo{n}.png") for n in range(5)])

    assert response.status_code == 302
    assert Attachment.objects.count() == 5


def test_six_files_are_refused(client, member):
    response = post_new(client, [upload(f"photo{n}.png") for n in range(6)])

    assert response.status_code == 400
    assert "You can attach at most 5 files." in response.content.decode()
    assert nothing_stored()


def test_a_valid_file_with_an_invalid_one_stores_nothing(client, member):
    response = post_new(
        client,
        [
            upload("ok.png"),
            upload("receipt.pdf", PDF, "application/pdf"),
            upload("fake.jpg", EXE, "image/jpeg"),
        ],
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "“fake.jpg” is not an image" in page
    assert nothing_stored()


def test_every_bad_file_is_named_at_once(client, member):
    response = post_new(
        client,
        [upload("a.pdf", PNG, "application/pdf"), upload("b.png", b"text"), upload("ok.png")],
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "“a.pdf” does not match its name" in page
    assert "“b.png” is not an image" in page
    assert nothing_stored()


def test_a_reply_with_a_bad_file_stores_neither_the_message_nor_the_good_file(client, member):
    consultation = open_for_member(member)
    before = (Message.objects.count(), Attachment.objects.count())

    response = client.post(
        reverse("consultations:detail", args=[consultation.pk]),
        {
            "action": "reply",
            "body": "追加の写真です",
            "attachments": [upload("ok.png"), upload("x.png", b"nope")],
        },
        **EN,
    )

    assert response.status_code == 400
    assert "“x.png” is not an image" in response.content.decode()
    assert (Message.objects.count(), Attachment.objects.count()) == before


def test_a_reply_with_too_many_files_through_the_service_stores_nothing():
    consultation = open_for_member()
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        services.requester_reply(
            consultation_id=consultation.pk,
            body="six",
            files=[upload(f"p{n}.png") for n in range(6)],
            member=consultation.member,
        )
    assert excinfo.value.message_dict == {"attachments": ["You can attach at most 5 files."]}
    assert Message.objects.filter(consultation=consultation).count() == 1
    assert Attachment.objects.count() == 0


# --- encrypted at rest ----------------------------------------------------------------------------


def raw_column(model, column: str, pk) -> bytes:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(model._meta.db_table)} WHERE {quote('id')} = %s",  # noqa: S608
            [model._meta.pk.get_db_prep_value(pk, connection)],
        )
        (value,) = cursor.fetchone()
    return bytes(value)


def test_content_and_file_name_are_encrypted_at_rest():
    tag = uuid.uuid4().hex
    marker = f"KIRAKIRA-PLAINTEXT-MARKER-{tag}".encode()
    name = f"診断書-{tag[:8]}.pdf"
    data = pdf_with(marker)
    consultation = open_for_member(files=[upload(name, data, "application/pdf")])
    attachment = Attachment.objects.get(message__consultation=consultation)

    content = raw_column(Attachment, "content", attachment.pk)
    filename = raw_column(Attachment, "filename", attachment.pk)

    # Positive controls: the columns were read, and they are this project's ciphertext.
    assert content[0] == 0x01 and len(content) >= len(data) + 16
    assert filename[0] == 0x01
    for raw in (content, filename):
        for secret in (marker, tag.encode(), name.encode(), b"%PDF-1.4"):
            assert secret not in raw
            assert secret.hex().encode() not in raw
    # ... and yet the application reads the file back exactly.
    assert Attachment.objects.get(pk=attachment.pk).content == data
    assert Attachment.objects.get(pk=attachment.pk).filename == name


def test_the_ciphertext_is_bound_to_its_row():
    """Two identical uploads are stored as different ciphertexts (a fresh nonce, the row bound in)."""
    consultation = open_for_member(files=[upload("a.png"), upload("a.png")])
    first, second = Attachment.objects.filter(message__consultation=consultation)

    assert raw_column(Attachment, "content", first.pk) != raw_column(Attachment, "content", second.pk)


@pytest.mark.django_db(transaction=True)
def test_no_attachment_plaintext_in_the_database_file_or_dump():
    from kirakira.privacy.tests.test_no_plaintext_at_rest import binary_spellings, database_bytes, found

    tag = uuid.uuid4().hex
    marker = f"KIRAKIRA-AT-REST-{tag}"
    name = f"家の鍵の写真-{tag[:10]}.pdf"
    member = MemberFactory(language="en")
    consultation = open_for_member(member, files=[upload(name, pdf_with(marker.encode()), "application/pdf")])
    attachment = Attachment.objects.get(message__consultation=consultation)
    datakeys.clear_cache()

    data = database_bytes()

    # Positive controls: committed rows are visible to the scan, ciphertext in its own spelling.
    assert found(data, member.login_id)
    ciphertext = raw_column(Attachment, "content", attachment.pk)
    assert any(spelling in data for spelling in binary_spellings(ciphertext))
    for plaintext in (marker, name, tag):
        assert not found(data, plaintext), plaintext


# --- who may download -----------------------------------------------------------------------------


def _file(consultation, name=None) -> Attachment:
    files = Attachment.objects.filter(message__consultation=consultation)
    if name is None:
        return files.get()
    (found,) = [f for f in files if f.filename == name]  # encrypted: compared after decryption
    return found


def member_url(attachment) -> str:
    return reverse("consultations:attachment", args=[attachment.message.consultation_id, attachment.pk])


def admin_url(attachment) -> str:
    return reverse(
        "admin:consultations_consultation_attachment",
        args=[attachment.message.consultation_id, attachment.pk],
    )


def test_the_owner_downloads_the_file_as_an_attachment(client):
    member = MemberFactory(language="en")
    consultation = open_for_member(member, files=[upload("receipt.pdf", PDF, "application/pdf")])
    client.force_login(member)

    response = client.get(member_url(_file(consultation)))

    assert response.status_code == 200
    assert b"".join(response) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="receipt.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_a_non_ascii_file_name_is_sent_encoded(client):
    member = MemberFactory(language="en")
    consultation = open_for_member(member, files=[upload("領収書.pdf", PDF, "application/pdf")])
    client.force_login(member)

    response = client.get(member_url(_file(consultation)))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename*=")
    assert "%E9%A0%98%E5%8F%8E%E6%9B%B8.pdf" in response["Content-Disposition"]


def test_another_member_gets_404(client):
    consultation = open_for_member(files=[upload()])
    client.force_login(MemberFactory(language="en"))

    response = client.get(member_url(_file(consultation)))

    assert response.status_code == 404
    assert PNG not in response.content


def test_an_attachment_of_another_consultation_is_not_reachable_through_ones_own(client):
    member = MemberFactory(language="en")
    own = open_for_member(member)
    other = open_for_member(files=[upload()])
    client.force_login(member)

    response = client.get(reverse("consultations:attachment", args=[own.pk, _file(other).pk]))

    assert response.status_code == 404


def test_anonymous_is_sent_to_log_in(client):
    consultation = open_for_member(files=[upload()])
    url = member_url(_file(consultation))

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse(django_settings.LOGIN_URL))
    assert PNG not in response.content


def test_customer_service_downloads_a_questions_file_from_the_back_office(client):
    consultation = open_for_member(category="question", files=[upload("receipt.pdf", PDF, "application/pdf")])
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en"))

    response = client.get(admin_url(_file(consultation)))

    assert response.status_code == 200
    assert b"".join(response) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="receipt.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_back_office_page_links_to_the_file(client):
    consultation = open_for_member(category="question", files=[upload("receipt.pdf", PDF, "application/pdf")])
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en"))

    page = client.get(reverse("admin:consultations_consultation_change", args=[consultation.pk]))

    assert page.status_code == 200
    assert admin_url(_file(consultation)) in page.content.decode()


def test_customer_service_gets_404_for_a_personal_information_matters_file(client):
    consultation = open_for_member(category="personal_information", files=[upload()])
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en"))

    response = client.get(admin_url(_file(consultation)))

    assert response.status_code == 404
    assert PNG not in response.content


def test_the_privacy_officer_downloads_a_personal_information_matters_file(client):
    consultation = open_for_member(category="personal_information", files=[upload()])
    client.force_login(StaffFactory(roles=[Role.PRIVACY_OFFICER], language="en"))

    response = client.get(admin_url(_file(consultation)))

    assert response.status_code == 200
    assert b"".join(response) == PNG


def test_staff_whose_role_handles_no_consultation_cannot_download(client):
    consultation = open_for_member(category="question", files=[upload()])
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))

    response = client.get(admin_url(_file(consultation)))

    assert response.status_code in (403, 404)
    assert PNG not in response.content


def test_a_member_cannot_use_the_back_office_url(client):
    member = MemberFactory(language="en")
    consultation = open_for_member(member, files=[upload()])
    client.force_login(member)

    response = client.get(admin_url(_file(consultation)))

    assert response.status_code == 302  # to the back office's login
    assert PNG not in response.content


def test_an_internal_notes_file_is_for_staff_only(client):
    member = MemberFactory(language="en")
    consultation = open_for_member(member)
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en")
    services.staff_reply(
        consultation_id=consultation.pk,
        actor=staff,
        body="社内メモ",
        files=[upload("internal-note.png")],
        internal=True,
    )
    note_file = _file(consultation, "internal-note.png")
    client.force_login(member)

    assert client.get(member_url(note_file)).status_code == 404
    page = client.get(reverse("consultations:detail", args=[consultation.pk]))
    assert page.status_code == 200
    assert "internal-note.png" not in page.content.decode()
    assert str(note_file.pk) not in page.content.decode()

    client.force_login(staff)
    response = client.get(admin_url(note_file))
    assert response.status_code == 200
    assert b"".join(response) == PNG


def test_an_internal_notes_file_is_not_reachable_by_a_visitor(client):
    from kirakira.consultations import tokens

    consultation = open_for_visitor()
    services.visitor_confirm(consultation.pk)
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en")
    services.staff_reply(
        consultation_id=consultation.pk, actor=staff, body="memo", files=[upload("note.png")], internal=True
    )
    services.staff_reply(
        consultation_id=consultation.pk, actor=staff, body="reply", files=[upload("reply.png")]
    )
    token = tokens.thread_token(consultation)

    hidden = client.get(
        reverse("consultations:visitor_attachment", args=[token, _file(consultation, "note.png").pk])
    )
    shown = client.get(
        reverse("consultations:visitor_attachment", args=[token, _file(consultation, "reply.png").pk])
    )

    assert hidden.status_code == 404
    assert shown.status_code == 200
    assert shown["Content-Disposition"] == 'attachment; filename="reply.png"'


# --- crypto-shredding -----------------------------------------------------------------------------


def test_after_shredding_the_file_reads_as_destroyed_and_is_not_served(client):
    member = MemberFactory(language="en")
    consultation = open_for_member(member, files=[upload("receipt.pdf", PDF, "application/pdf")])
    attachment = _file(consultation)
    url, staff_url = member_url(attachment), admin_url(attachment)
    sealed_before = raw_column(Attachment, "content", attachment.pk)

    assert datakeys.shred(member.pk) is True
    datakeys.clear_cache()

    again = Attachment.objects.get(pk=attachment.pk)
    assert is_destroyed(again.content)
    assert is_destroyed(again.filename)
    assert again.content != PDF
    # The ciphertext is left as it was (nothing to re-encrypt, nothing readable).
    assert raw_column(Attachment, "content", attachment.pk) == sealed_before

    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 404
    assert PDF not in response.content
    assert client.get(reverse("consultations:detail", args=[consultation.pk])).status_code == 200

    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en"))
    response = client.get(staff_url)
    assert response.status_code == 404
    assert PDF not in response.content
    page = client.get(reverse("admin:consultations_consultation_change", args=[consultation.pk]))
    assert page.status_code == 200


def test_shredding_one_member_leaves_anothers_file_readable(client):
    shredded, kept = MemberFactory(language="en"), MemberFactory(language="en")
    open_for_member(shredded, files=[upload()])
    theirs = open_for_member(kept, files=[upload("receipt.pdf", PDF, "application/pdf")])

    datakeys.shred(shredded.pk)
    datakeys.clear_cache()

    client.force_login(kept)
    response = client.get(member_url(_file(theirs)))
    assert response.status_code == 200
    assert b"".join(response) == PDF
