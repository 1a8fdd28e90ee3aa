"""What must not break: writing after the subject's key was destroyed, a rolling hour of rate
limit, no virus scan for a request already refused, a reference drawn twice, and the age of a
visitor's consultation counted from when staff could see it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import attachments, services
from kirakira.consultations.models import Consultation, Message
from kirakira.consultations.testing import open_for_member, open_for_visitor, upload
from kirakira.privacy.crypto import datakeys

pytestmark = pytest.mark.django_db

START = datetime(2026, 7, 1, 0, 50, tzinfo=UTC)
CHANGE = "/en/backoffice/consultations/consultation/{}/change/"


def test_after_final_disposal_staff_get_a_message_not_an_error(client):
    member = MemberFactory()
    consultation = open_for_member(member, category="complaint")
    datakeys.shred(member.pk)
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER], language="en")

    with pytest.raises(ValidationError) as refused:
        services.staff_reply(consultation_id=consultation.pk, actor=officer, body="メモ", internal=True)
    assert refused.value.code == "disposed"

    client.force_login(officer)
    page = client.get(CHANGE.format(consultation.pk))
    assert page.status_code == 200
    assert 'id="reply-form"' not in page.content.decode()  # nothing can be written any more
    response = client.post(
        CHANGE.format(consultation.pk), {"action": "reply", "body": "x", "internal": "on"}, follow=True
    )
    assert response.status_code == 200
    assert "has been disposed of" in response.content.decode()
    assert Message.objects.filter(consultation=consultation).count() == 1


def test_the_visitor_limit_is_a_rolling_hour_not_a_clock_hour(settings):
    settings.CONSULTATION_VISITOR_LIMIT_PER_IP = 2
    with clock.frozen_at(START):  # 00:50
        open_for_visitor(visitor_email="a@example.net")
        open_for_visitor(visitor_email="b@example.net")
        clock.advance(timedelta(minutes=20))  # 01:10: a new clock hour, but not a new hour
        with pytest.raises(ValidationError) as limited:
            open_for_visitor(visitor_email="c@example.net")
        assert limited.value.code == "rate_limited"
        clock.advance(timedelta(minutes=41))  # 01:51: the first two are over an hour old
        open_for_visitor(visitor_email="d@example.net")
    assert Consultation.objects.count() == 3


def test_a_visitor_over_the_limit_costs_no_virus_scan(settings, monkeypatch):
    settings.CONSULTATION_VISITOR_LIMIT_PER_IP = 1
    settings.CLAMAV_SOCKET = "/nonexistent/clamd.ctl"
    scanned = []
    monkeypatch.setattr(
        attachments.scanner,
        "scan",
        lambda data: scanned.append(data) or attachments.scanner.Verdict(clean=True),
    )
    open_for_visitor(visitor_email="a@example.net", files=[upload()])
    with pytest.raises(ValidationError) as limited:
        open_for_visitor(visitor_email="b@example.net", files=[upload()])
    assert limited.value.code == "rate_limited"
    assert len(scanned) == 1


def test_a_reference_drawn_twice_is_drawn_again(monkeypatch):
    first = open_for_member()
    monkeypatch.setattr(Consultation._meta.get_field("reference"), "default", lambda: first.reference)
    monkeypatch.setattr(services, "new_reference", lambda: "QFRESH2345")
    second = open_for_member()
    assert second.reference != first.reference
    assert Consultation.objects.count() == 2


def test_a_visitors_age_counts_from_the_confirmation():
    with clock.frozen_at(START):
        consultation = open_for_visitor()
        clock.advance(timedelta(days=3))
        services.visitor_confirm(consultation.pk)
        clock.advance(timedelta(days=2))
        consultation.refresh_from_db()
        assert consultation.age_days() == 2
