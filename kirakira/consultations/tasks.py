"""Background work of the consultations app. Arguments carry only IDs."""

from django_tasks import task

from kirakira.privacy.crypto.fields import is_destroyed

from . import emails
from .models import Consultation, Message, Status

_SENDERS = {"confirm_visitor": emails.send_confirm_visitor, "visitor_received": emails.send_visitor_received}


@task()
def send_consultation_email(*, consultation_id: str, kind: str) -> None:
    """``kind`` is "confirm_visitor", "visitor_received" or "reply:<Message id>"."""
    consultation = Consultation.objects.select_related("member").filter(pk=consultation_id).first()
    if consultation is None:
        return
    if consultation.member_id:
        if not consultation.member.is_active or is_destroyed(consultation.member.email):
            return
    elif not consultation.visitor_email or is_destroyed(consultation.visitor_email):
        return
    if kind.startswith("reply:"):
        message = Message.objects.filter(
            pk=kind.removeprefix("reply:"), consultation=consultation, is_internal=False
        ).first()
        if message is not None and consultation.status != Status.AWAITING_CONFIRMATION:
            emails.send_reply(consultation, message)
        return
    _SENDERS[kind](consultation)


def enqueue_email(consultation, kind: str) -> None:
    if kind not in _SENDERS and not kind.startswith("reply:"):
        raise ValueError(f"unknown consultation email {kind!r}")
    send_consultation_email.enqueue(consultation_id=str(consultation.pk), kind=kind)
