"""Emails about consultations, in the consultation's language (the member's for a member).
Subjects carry only the consultation's reference: never its subject, a name or an address. A
field under correction (``frozen``) is printed as "under correction", never its value (policy C7)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kirakira.privacy.rights import freeze

from . import tokens


def _recipient_and_language(consultation) -> tuple[str, str]:
    if consultation.member_id:
        return consultation.member.email, consultation.member.language
    return consultation.visitor_email, consultation.language


def _thread_url(consultation) -> str:
    # In the recipient's language, not in that of whoever's request sent the email (a member
    # of staff replying under /en/ must not send a Japanese member an /en/ link).
    _to, language = _recipient_and_language(consultation)
    with translation.override(language):
        if consultation.member_id:
            return settings.SITE_URL + reverse("consultations:detail", args=[consultation.pk])
        return settings.SITE_URL + reverse(
            "consultations:visitor_thread", args=[tokens.thread_token(consultation)]
        )


def _send(consultation, template: str, subject: str, **context) -> None:
    to, language = _recipient_and_language(consultation)
    with translation.override(language):
        body = render_to_string(
            f"consultations/email/{template}.txt",
            {
                "consultation": consultation,
                "frozen": freeze.frozen_fields(consultation),
                "site_url": settings.SITE_URL,
                **context,
            },
        )
        EmailMessage(subject=str(subject) % {"reference": consultation.reference}, body=body, to=[to]).send()


def send_confirm_visitor(consultation) -> None:
    hours = settings.CONSULTATION_CONFIRMATION_TIMEOUT // 3600
    with translation.override(consultation.language):
        url = settings.SITE_URL + reverse(
            "consultations:visitor_confirm", args=[tokens.confirmation_token(consultation)]
        )
        subject = _("Kirakira SNS: please confirm your email address (%(reference)s)")
    _send(consultation, "confirm_visitor", subject, url=url, hours=hours)


def send_visitor_received(consultation) -> None:
    with translation.override(consultation.language):
        subject = _("Kirakira SNS: we have received your consultation %(reference)s")
    _send(consultation, "visitor_received", subject, url=_thread_url(consultation))


def send_visitor_registered(consultation) -> None:
    """To a visitor whose consultation by email or phone staff registered: its private link."""
    with translation.override(consultation.language):
        subject = _("Kirakira SNS: we have received your consultation %(reference)s")
    _send(consultation, "visitor_registered", subject, url=_thread_url(consultation))


def send_reply(consultation, message) -> None:
    _to, language = _recipient_and_language(consultation)
    with translation.override(language):
        subject = _("Kirakira SNS: a reply to your consultation %(reference)s")
    _send(consultation, "reply", subject, url=_thread_url(consultation), message=message)
