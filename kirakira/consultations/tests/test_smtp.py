"""Consultation emails travel over a real SMTP conversation (issue 5): a local aiosmtpd server
started by the test receives them from Django's SMTP backend. Subjects name only the
consultation's reference; the links in the bodies work."""

import re
import time
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from kirakira.common.roles import Role
from kirakira.common.smtp_testing import smtp_server
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import tokens
from kirakira.consultations.models import Consultation, Status
from kirakira.consultations.testing import open_for_member, open_for_visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    """A real SMTP server, and Django's SMTP backend pointed at it."""
    with smtp_server() as (port, collector):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        yield collector


def received(collector, count: int):
    deadline = time.monotonic() + 5
    while len(collector.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(collector.messages) == count, [m["Subject"] for m in collector.messages]
    return collector.messages


def link_in(message, fragment: str) -> str:
    (url,) = [url for url in re.findall(r"https?://\S+", message.get_content()) if fragment in url]
    return url


def test_a_staff_reply_is_sent_over_smtp_without_personal_data_in_the_subject(
    client, smtp, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(name="鈴木 一郎", email="ichiro.suzuki@example.org")
    subject_text = "退会後のデータ削除について"
    consultation = open_for_member(member, subject=subject_text, body="削除してください")
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:consultations_consultation_change", args=[consultation.pk]),
            {"action": "reply", "body": "承知しました。"},
        )

    assert response.status_code == 302
    assert mailoutbox == []  # it did not go to the in-memory outbox: it went over SMTP
    (message,) = received(smtp, 1)
    (envelope,) = smtp.envelopes
    assert envelope[1] == ["ichiro.suzuki@example.org"]
    assert message["To"] == "ichiro.suzuki@example.org"
    subject = message["Subject"]
    assert consultation.reference in subject
    for private in (subject_text, "鈴木", "一郎", "ichiro", "example.org", member.login_id):
        assert private not in subject
    url = link_in(message, "/consultations/")
    assert url == f"http://testserver{reverse('consultations:detail', args=[consultation.pk])}"

    # The link takes the member to the thread with the reply.
    client.force_login(member)
    page = client.get(urlsplit(url).path)
    assert page.status_code == 200
    assert "承知しました。" in page.content.decode()


def test_an_internal_note_sends_nothing(client, smtp, django_capture_on_commit_callbacks):
    consultation = open_for_member()
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:consultations_consultation_change", args=[consultation.pk]),
            {"action": "reply", "body": "メモ", "internal": "on"},
        )

    assert response.status_code == 302
    time.sleep(0.2)
    assert smtp.messages == []


def test_the_visitor_confirmation_goes_over_smtp_and_its_link_confirms(
    client, smtp, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consultation = open_for_visitor(
            visitor_name="山田 花子", visitor_email="hanako.yamada@example.net", subject="見積もりの依頼"
        )

    assert mailoutbox == []
    (message,) = received(smtp, 1)
    assert smtp.envelopes[0][1] == ["hanako.yamada@example.net"]
    assert message["To"] == "hanako.yamada@example.net"
    subject = message["Subject"]
    assert consultation.reference in subject
    for private in ("見積もりの依頼", "山田", "花子", "hanako", "example.net"):
        assert private not in subject
    url = link_in(message, "/consultations/confirm/")
    path = urlsplit(url).path
    assert path.startswith("/consultations/confirm/")  # in the visitor's language (Japanese)
    assert tokens.read_confirmation_token(path.split("/")[-2]) == str(consultation.pk)

    # Opening the link shows a button (a mail scanner's GET confirms nothing) ...
    assert client.get(path).status_code == 200
    assert Consultation.objects.get().status == Status.AWAITING_CONFIRMATION
    # ... which confirms.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path)
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == Status.OPEN
    assert consultation.confirmed_at is not None

    # The "received" email follows over SMTP too, with a working link to the thread.
    first, second = received(smtp, 2)
    assert second["To"] == "hanako.yamada@example.net"
    assert consultation.reference in second["Subject"]
    assert "山田" not in second["Subject"] and "見積もり" not in second["Subject"]
    thread = client.get(urlsplit(link_in(second, "/consultations/visitor/")).path)
    assert thread.status_code == 200
    assert "見積もりの依頼" in thread.content.decode()

    # The confirmation link works once.
    assert client.post(path).status_code == 400
