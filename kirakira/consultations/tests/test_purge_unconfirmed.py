"""A visitor who never confirms leaves nothing behind: once the link has expired, the
consultation is deleted and its data key destroyed (what the confirmation email promises)."""

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

        call_command("purge_unconfirmed_consultations")

    assert "1 unconfirmed consultation(s) deleted." in capsys.readouterr().out
    assert set(Consultation.objects.values_list("pk", flat=True)) == {confirmed.pk, member_owned.pk, fresh.pk}
    assert not Message.objects.filter(consultation_id=stale.pk).exists()
    assert not Attachment.objects.filter(message__consultation_id=stale.pk).exists()
    assert DataKey.objects.get(owner_id=stale.data_subject_id).destroyed_at is not None
    for kept in (confirmed, fresh):
        assert DataKey.objects.get(owner_id=kept.data_subject_id).destroyed_at is None


def test_nothing_to_purge_says_so(capsys):
    call_command("purge_unconfirmed_consultations")
    assert "0 unconfirmed consultation(s) deleted." in capsys.readouterr().out
