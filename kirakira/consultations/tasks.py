"""Background work of the consultations app. Arguments carry only IDs and codes
(:mod:`kirakira.common.tasks` enforces it). Each email is sent at most once, however often its
task runs (``email_send_once``): one of each kind per consultation, one per staff reply."""

from typing import Literal

from kirakira.common.tasks import email_send_once, enqueue_in_transaction, task
from kirakira.privacy.crypto.fields import is_destroyed
from kirakira.privacy.rights.notices import may_send

from . import emails
from .models import Consultation, Message, Status

ConsultationEmail = Literal["confirm_visitor", "visitor_received", "visitor_registered"]

_SENDERS = {
    "confirm_visitor": emails.send_confirm_visitor,
    "visitor_received": emails.send_visitor_received,
    "visitor_registered": emails.send_visitor_registered,
}


def _reachable(consultation_id: str) -> Consultation | None:
    """The consultation, if the member or visitor who opened it can still be written to."""
    consultation = Consultation.objects.select_related("member").filter(pk=consultation_id).first()
    if consultation is None:
        return None
    if consultation.member_id:
        if not consultation.member.is_active or is_destroyed(consultation.member.email):
            return None
    elif not consultation.visitor_email or is_destroyed(consultation.visitor_email):
        return None
    return consultation


@task()
def send_consultation_email(*, consultation_id: str, kind: ConsultationEmail) -> None:
    consultation = _reachable(consultation_id)
    if consultation is not None and may_send(consultation.member_id, f"consultations.{kind}"):
        email_send_once(
            kind=f"consultations.{kind}", ids=(consultation.pk,), send=lambda: _SENDERS[kind](consultation)
        )


@task()
def send_consultation_reply(*, consultation_id: str, message_id: str) -> None:
    """Tell the member or visitor that staff replied (the reply itself, if not internal)."""
    consultation = _reachable(consultation_id)
    if consultation is None:
        return
    message = Message.objects.filter(pk=message_id, consultation=consultation, is_internal=False).first()
    if (
        message is not None
        and consultation.status != Status.AWAITING_CONFIRMATION
        and may_send(consultation.member_id, "consultations.reply")
    ):
        email_send_once(
            kind="consultations.reply",
            ids=(consultation.pk, message.pk),
            send=lambda: emails.send_reply(consultation, message),
        )


def enqueue_email(consultation, kind: str) -> None:
    """``kind`` is "confirm_visitor", "visitor_received", "visitor_registered" or "reply:<Message id>".
    The task is queued in the caller's transaction (``enqueue_in_transaction``)."""
    if kind.startswith("reply:"):
        enqueue_in_transaction(
            send_consultation_reply, consultation_id=str(consultation.pk), message_id=kind.removeprefix("reply:")
        )
    elif kind in _SENDERS:
        enqueue_in_transaction(send_consultation_email, consultation_id=str(consultation.pk), kind=kind)
    else:
        raise ValueError(f"unknown consultation email {kind!r}")
