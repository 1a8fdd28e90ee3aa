from django.db.models import Count, Prefetch, Q
from django.db.models.functions import Coalesce
from django.http import Http404

from .models import Attachment, Consultation, Status
from .routing import OFFICER_DESK_CATEGORIES, categories_for

_ATTACHMENTS = Prefetch("attachments", queryset=Attachment.objects.defer("content"))


def consultations_of(member):
    """The member's own consultations, most recently active first."""
    return Consultation.objects.filter(member=member).select_related("order")


def consultation_of(member, consultation_id) -> Consultation:
    """One of the member's consultations; 404 for anyone else's (never 403, which would
    confirm that it exists)."""
    consultation = consultations_of(member).filter(pk=consultation_id).first()
    if consultation is None:
        raise Http404
    return consultation


def answered_for(member):
    """Consultations with a staff reply the member has not answered (shown on my page)."""
    return consultations_of(member).filter(status=Status.ANSWERED)


def thread(consultation, *, internal: bool = False):
    """The messages of a consultation, oldest first, with their attachments (content not
    loaded). Internal notes only for staff."""
    messages = consultation.messages.select_related("author").prefetch_related(_ATTACHMENTS)
    return messages if internal else messages.filter(is_internal=False)


def for_staff(user):
    """The consultations this staff user's roles route to them (a visitor's only once their
    email address is confirmed)."""
    return Consultation.objects.filter(category__in=categories_for(user)).exclude(
        status=Status.AWAITING_CONFIRMATION
    )


def officer_desk(user):
    """Personal-information matters and complaints not yet closed, oldest first."""
    return (
        for_staff(user)
        .filter(category__in=OFFICER_DESK_CATEGORIES)
        .exclude(status=Status.CLOSED)
        .annotate(
            message_count=Count("messages", filter=Q(messages__is_internal=False)),
            seen_since=Coalesce("confirmed_at", "created_at"),
        )
        .order_by("seen_since")
    )


def attachment_for_staff(user, consultation_id, attachment_id) -> Attachment:
    consultation = for_staff(user).filter(pk=consultation_id).first()
    if consultation is None:
        raise Http404
    return _attachment(consultation, attachment_id, internal=True)


def attachment_in(consultation, attachment_id, *, internal: bool = False) -> Attachment:
    return _attachment(consultation, attachment_id, internal=internal)


def _attachment(consultation, attachment_id, *, internal: bool = False) -> Attachment:
    attachments = Attachment.objects.filter(pk=attachment_id, message__consultation=consultation)
    if not internal:
        attachments = attachments.filter(message__is_internal=False)
    attachment = attachments.first()
    if attachment is None:
        raise Http404
    return attachment
