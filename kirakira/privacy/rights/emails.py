"""Emails of rights requests, in the member's language. Subjects never carry personal data
(the request's reference and kind at most); the one-time code is in the body only."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

SUBJECTS = {
    "received": lambda r: (
        _("Kirakira SNS: we received your request %(reference)s") % {"reference": r.reference}
    ),
    "refused": lambda r: (
        _("Kirakira SNS: our answer to your request %(reference)s") % {"reference": r.reference}
    ),
    "extended": lambda r: (
        _("Kirakira SNS: we need more time for your request %(reference)s") % {"reference": r.reference}
    ),
    "done": lambda r: _("Kirakira SNS: your request %(reference)s is done") % {"reference": r.reference},
    "export_ready": lambda r: _("Kirakira SNS: your data is ready to download"),
    "export_failed": lambda r: _("Kirakira SNS: we could not prepare your data"),
}


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    body = render_to_string(template, {"site_url": settings.SITE_URL, **context})
    EmailMessage(subject=subject, body=body, to=[to]).send()


def send_identity_code(row, code: str) -> None:
    member = row.member
    with translation.override(member.language):
        _send(
            to=member.email,
            subject=_("Kirakira SNS: your confirmation code"),
            template="privacy/email/identity_code.txt",
            context={"member": member, "code": code, "minutes": settings.IDENTITY_CODE_MINUTES},
        )


def send_request_email(request, event: str) -> None:
    member = request.member
    with translation.override(member.language):
        _send(
            to=member.email,
            subject=SUBJECTS[event](request),
            template="privacy/email/rights_request.txt",
            context={
                "member": member,
                "request": request,
                "event": event,
                "url": f"{settings.SITE_URL}{reverse('privacy:request_detail', args=[request.pk])}",
            },
        )


def send_staff_reminder(staff, requests) -> None:
    with translation.override(staff.language):
        _send(
            to=staff.email,
            subject=_("Kirakira SNS: rights requests due within 3 days"),
            template="privacy/email/rights_reminder.txt",
            context={
                "staff": staff,
                "requests": requests,
                "url": f"{settings.SITE_URL}{reverse('admin:privacy_rightsrequest_changelist')}",
            },
        )
