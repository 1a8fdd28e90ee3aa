"""Consultations that arrive by email or phone (policy C3, promise P3): staff register them in the
back office as received, with the original email kept encrypted like any attachment; they are
routed like any other, a member sees them in their list, a visitor with an address gets the
private link; and the policy states the email channel once this exists."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import services
from kirakira.consultations.models import Attachment, Channel, Consultation, Status
from kirakira.privacy.policy import checks

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)
EML = (
    "From: Hanako <hanako@example.net>\r\n"
    "To: support@studio.example\r\n"
    "Date: Tue, 1 Dec 2026 10:15:00 +0900\r\n"
    "Subject: =?utf-8?b?57SN5ZOB44Gr44Gk44GE44Gm?=\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "いつ頃仕上がりますか？\r\n"
).encode()


def eml(name="question.eml", content=EML):
    return SimpleUploadedFile(name, content, content_type="message/rfc822")


@pytest.fixture
def cs():
    return StaffFactory(roles=[Role.CUSTOMER_SERVICE])


def register(actor, **overrides):
    data = {
        "actor": actor,
        "channel": Channel.EMAIL,
        "category": "question",
        "subject": "納品の時期について",
        "body": "いつ頃仕上がりますか？",
        "received_at": NOON - timedelta(hours=2),
    }
    data.update(overrides)
    return services.consultation_register_from_channel(**data)


def test_a_members_email_is_registered_routed_and_shown_in_their_list(cs, django_capture_on_commit_callbacks):
    member = MemberFactory()
    with clock.frozen_at(NOON), django_capture_on_commit_callbacks(execute=True):
        consultation = register(cs, member=member, original_email=eml())
    consultation.refresh_from_db()
    assert (consultation.channel, consultation.registered_by, consultation.status) == (
        Channel.EMAIL,
        cs,
        Status.OPEN,
    )
    assert consultation.received_at == NOON - timedelta(hours=2)
    assert consultation.data_subject_id == member.pk
    (attachment,) = Attachment.objects.filter(message__consultation=consultation)
    assert attachment.content_type == "message/rfc822"
    assert bytes(attachment.content) == EML  # read back through the member's key
    # Encrypted at rest: the raw column never holds the email's text.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM consultations_attachment WHERE id = %s", [attachment.pk.hex])
        row = cursor.fetchone()
    if row is None:  # PostgreSQL keeps the UUID as a uuid
        with connection.cursor() as cursor:
            cursor.execute("SELECT content FROM consultations_attachment WHERE id = %s", [str(attachment.pk)])
            row = cursor.fetchone()
    assert "いつ頃".encode() not in bytes(row[0])

    client = Client()
    client.force_login(member)
    listing = client.get("/consultations/").content.decode()
    assert consultation.reference in listing
    page = client.get(f"/consultations/{consultation.pk}/").content.decode()
    assert "いつ頃仕上がりますか？" in page
    assert "メールで受け付け（2026年12月1日10:00）、当社スタッフが登録しました" in page
    assert "question.eml" in page


def test_it_is_routed_like_any_other(cs):
    member = MemberFactory()
    with clock.frozen_at(NOON):
        question = register(cs, member=member)
    privacy_staff = StaffFactory(roles=[Role.PRIVACY_STAFF])
    from kirakira.consultations import selectors

    assert question in selectors.for_staff(cs)
    assert question not in selectors.for_staff(privacy_staff)
    # A member of staff registers only what is routed to them.
    with clock.frozen_at(NOON), pytest.raises(ValidationError) as excinfo:
        register(cs, member=member, category="personal_information")
    assert "category" in excinfo.value.message_dict


def test_a_visitor_by_phone_with_an_address_is_mailed_the_private_link(cs, mailoutbox, django_capture_on_commit_callbacks):
    with clock.frozen_at(NOON), django_capture_on_commit_callbacks(execute=True):
        consultation = register(
            cs,
            channel=Channel.PHONE,
            visitor_name="電話 太郎",
            visitor_email="taro@example.net",
            callback_phone="090-1234-5678",
            language="en",
        )
    assert consultation.status == Status.OPEN and consultation.member is None
    (mail,) = mailoutbox
    assert mail.to == ["taro@example.net"]
    assert consultation.reference in mail.subject and "電話" not in mail.subject
    assert "Thank you for your call." in mail.body
    assert re.search(r"/en/consultations/visitor/\S+/", mail.body)


def test_a_visitor_by_phone_without_an_address_is_answered_by_phone(cs, mailoutbox):
    with clock.frozen_at(NOON):
        consultation = register(cs, channel=Channel.PHONE, visitor_name="電話 太郎", callback_phone="090-1234-5678")
    assert consultation.callback_phone == "090-1234-5678"
    assert mailoutbox == []


def test_every_error_is_told_at_once_and_nothing_is_stored(cs):
    with clock.frozen_at(NOON), pytest.raises(ValidationError) as excinfo:
        register(
            cs,
            channel="fax",
            received_at=NOON + timedelta(minutes=5),
            visitor_name=" ",
            subject="",
            body="",
            original_email=eml(),
        )
    errors = excinfo.value.message_dict
    assert {"channel", "received_at", "visitor_name", "subject", "body", "original_email"} <= set(errors)
    assert not Consultation.objects.exists()


@pytest.mark.parametrize(
    ("upload", "expected"),
    [
        (eml(name="question.txt"), "is not an email saved as a .eml file"),
        (eml(content=b"hello, this is not an email"), "is not an email saved as a .eml file"),
    ],
)
def test_an_original_email_must_be_an_email(cs, upload, expected):
    from django.utils import translation

    with clock.frozen_at(NOON), translation.override("en"), pytest.raises(ValidationError) as excinfo:
        register(cs, member=MemberFactory(), original_email=upload)
    assert expected in " ".join(excinfo.value.message_dict["original_email"])


def test_a_visitor_needs_a_way_to_be_answered(cs):
    with clock.frozen_at(NOON), pytest.raises(ValidationError) as excinfo:
        register(cs, channel=Channel.PHONE, visitor_name="電話 太郎")
    assert "visitor_email" in excinfo.value.message_dict


def test_only_staff_who_answer_consultations_register_them():
    with clock.frozen_at(NOON), pytest.raises(PermissionDenied):
        register(StaffFactory(roles=[Role.ACCOUNTING]), member=MemberFactory())
    with clock.frozen_at(NOON), pytest.raises(PermissionDenied):
        register(MemberFactory(), member=MemberFactory())


def test_the_back_office_page_registers_one_and_refuses_bad_input(cs):
    member = MemberFactory(login_id="hanako01")
    client = Client()
    client.force_login(cs)
    url = "/en/backoffice/consultations/consultation/register/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Register a consultation received by email or phone" in page.content.decode()
    assert url in client.get("/en/backoffice/consultations/consultation/").content.decode()

    refused = client.post(
        url,
        {"channel": "email", "member_login_id": "nobody99", "language": "ja", "category": "question", "subject": "x", "body": "y"},
    )
    assert refused.status_code == 400
    assert "No active member has this login ID." in refused.content.decode()

    with clock.frozen_at(NOON):
        response = client.post(
            url,
            {
                "channel": "email",
                "received_at": "2026/12/01 10:15",
                "member_login_id": "ＨＡＮＡＫＯ01",
                "language": "ja",
                "category": "question",
                "subject": "納品の時期について",
                "body": "いつ頃仕上がりますか？",
                "original_email": eml(),
            },
        )
    assert response.status_code == 302, re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode())
    consultation = Consultation.objects.get()
    assert response["Location"].endswith(f"/consultations/consultation/{consultation.pk}/change/")
    assert consultation.member == member
    assert consultation.received_at == datetime(2026, 12, 1, 10, 15, tzinfo=TOKYO)


def test_accounting_cannot_open_the_register_page():
    client = Client()
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))
    assert client.get("/en/backoffice/consultations/consultation/register/").status_code == 403


def test_the_policy_states_the_email_channel_and_the_promise_is_kept(client):
    html = client.get("/en/privacy/policy/").content.decode()
    assert "through the website, email and online consultation" in html
    warnings = {message.id for message in checks.check_promises()}
    assert "kirakira.policy.W003" not in warnings
