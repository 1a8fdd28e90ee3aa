import pytest
from django.core import mail
from django.urls import reverse

from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.consultations import services, tokens
from kirakira.consultations.models import Attachment, Consultation, Status
from kirakira.consultations.testing import PNG, open_for_member, open_for_visitor, upload

pytestmark = pytest.mark.django_db


def test_member_opens_staff_replies_member_sees_it(client, django_capture_on_commit_callbacks):
    member = MemberFactory()
    client.force_login(member)
    response = client.post(
        reverse("consultations:new"),
        {"category": "question", "subject": "件名", "body": "本文", "attachments": [upload()]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    consultation = Consultation.objects.get()
    assert consultation.status == Status.OPEN
    assert Attachment.objects.get().content == PNG
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    client.force_login(staff)
    url = reverse("admin:consultations_consultation_change", args=[consultation.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "本文" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "reply", "body": "回答です"})
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == Status.ANSWERED
    assert len(mail.outbox) == 1
    assert consultation.reference in mail.outbox[0].subject
    client.force_login(member)
    page = client.get(reverse("consultations:detail", args=[consultation.pk]))
    assert "回答です" in page.content.decode()
    file = Attachment.objects.get()
    response = client.get(reverse("consultations:attachment", args=[consultation.pk, file.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response) == PNG


def test_visitor_confirms_then_staff_see_it(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        consultation = open_for_visitor()
    assert consultation.status == Status.AWAITING_CONFIRMATION
    assert len(mail.outbox) == 1
    token = tokens.confirmation_token(consultation)
    assert token in mail.outbox[0].body
    response = client.post(reverse("consultations:visitor_confirm", args=[token]))
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == Status.OPEN
    again = client.post(reverse("consultations:visitor_confirm", args=[token]))
    assert again.status_code == 400


def test_api_open_and_list(client):
    member = MemberFactory()
    token = client.post(
        "/api/v1/auth/token", {"login_id": member.login_id, "password": PASSWORD}, content_type="application/json"
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(
        "/api/v1/consultations",
        {"category": "proposal", "subject": "提案", "body": "こうしては"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201, response.content
    cid = response.json()["id"]
    assert client.get("/api/v1/consultations", headers=headers).json()[0]["id"] == cid
    response = client.post(
        f"/api/v1/consultations/{cid}/messages", {"body": "追記"}, content_type="application/json", headers=headers
    )
    assert response.status_code == 201, response.content
    assert len(client.get(f"/api/v1/consultations/{cid}", headers=headers).json()["messages"]) == 2


def test_routing():
    member = MemberFactory()
    q = open_for_member(member)
    p = open_for_member(member, category="personal_information")
    cs = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    po = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    from kirakira.consultations import selectors

    assert set(selectors.for_staff(cs)) == {q}
    assert set(selectors.for_staff(po)) == {p}
    services.staff_reply(consultation_id=p.pk, actor=po, body="x", internal=True)
