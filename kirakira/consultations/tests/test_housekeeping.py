"""Housekeeping by the retention sweep (``enforce_retention``, daily on the schedule): a visitor who never confirms leaves nothing behind (once the link
has expired the consultation is deleted and its key destroyed, as the confirmation email
promises), and an answered consultation left idle is closed, so its retention period starts."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from kirakira.common import clock
from kirakira.consultations.models import Attachment, Consultation, Message
from kirakira.consultations.services import visitor_confirm
from kirakira.consultations.testing import open_for_member, open_for_visitor, upload
from kirakira.privacy.models import DataKey

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


def test_an_expired_unconfirmed_consultation_is_deleted_with_its_key(settings, capsys):
    with clock.frozen_at(START):
        stale = open_for_visitor(files=[upload()])
        confirmed = open_for_visitor(visitor_email="confirmed@example.net")
        visitor_confirm(confirmed.pk)
        member_owned = open_for_member()
        clock.advance(timedelta(seconds=settings.CONSULTATION_CONFIRMATION_TIMEOUT - 60))
        fresh = open_for_visitor(visitor_email="fresh@example.net")
        clock.advance(timedelta(seconds=120))

        call_command("enforce_retention")

    out = capsys.readouterr().out
    assert "until_purpose_met  consultations.Consultation  deleted" in out
    assert "privacy.DataKey             key_destroyed" in out
    assert set(Consultation.objects.values_list("pk", flat=True)) == {confirmed.pk, member_owned.pk, fresh.pk}
    assert not Message.objects.filter(consultation_id=stale.pk).exists()
    assert not Attachment.objects.filter(message__consultation_id=stale.pk).exists()
    assert DataKey.objects.get(owner_id=stale.data_subject_id).destroyed_at is not None
    for kept in (confirmed, fresh):
        assert DataKey.objects.get(owner_id=kept.data_subject_id).destroyed_at is None


def test_nothing_to_dispose_of_says_so(capsys):
    call_command("enforce_retention")
    assert "Disposed of\n  nothing" in capsys.readouterr().out


def test_an_answered_consultation_left_idle_is_closed_and_can_still_be_reopened(settings, capsys):
    from kirakira.common.roles import Role
    from kirakira.common.testing import StaffFactory
    from kirakira.consultations import services
    from kirakira.consultations.models import Status

    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    with clock.frozen_at(START):
        idle = open_for_member()
        services.staff_reply(consultation_id=idle.pk, actor=staff, body="回答")
        waiting = open_for_member()  # open: staff have not answered, so it stays open
        clock.advance(timedelta(days=settings.CONSULTATION_IDLE_CLOSE_DAYS - 1))
        recent = open_for_member()
        services.staff_reply(consultation_id=recent.pk, actor=staff, body="回答")
        clock.advance(timedelta(days=2))
        call_command("enforce_retention")
        closed_at = clock.now()
        idle.refresh_from_db()
        services.consultation_reopen(consultation_id=idle.pk, member=idle.member)

    assert idle.closed_at == closed_at
    assert Consultation.objects.get(pk=waiting.pk).status == Status.OPEN
    assert Consultation.objects.get(pk=recent.pk).status == Status.ANSWERED
    assert Consultation.objects.get(pk=idle.pk).status == Status.OPEN  # reopened
