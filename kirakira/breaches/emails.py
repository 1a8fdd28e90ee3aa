"""Emails of the breach register, in the reader's language. The subject names no member and
no data; the notice itself is in the body and on the member's page."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from . import selectors


def send_notice(notice) -> None:
    member = notice.member
    with translation.override(member.language):
        body = render_to_string(
            "breaches/email/notice.txt",
            {
                **selectors.notice_content(notice.incident),
                "member": member,
                "url": f"{settings.SITE_URL}{reverse('breaches:notices')}",
            },
        )
        subject = _("Kirakira SNS: an important notice about your personal information")
    EmailMessage(subject=subject, body=body, to=[member.email]).send()


def send_clock_reminder(staff, incident, clock, stage) -> None:
    with translation.override(staff.language):
        body = render_to_string(
            "breaches/email/clock_reminder.txt",
            {
                "staff": staff,
                "incident": incident,
                "clock": clock,
                "stage": stage,
                "url": f"{settings.SITE_URL}{reverse('admin:breaches_breachincident_change', args=[incident.pk])}",
            },
        )
        if stage == "overdue":
            subject = _("Kirakira SNS: incident %(reference)s: a legal deadline has passed") % {
                "reference": incident.reference
            }
        else:
            subject = _("Kirakira SNS: incident %(reference)s: a legal deadline ends within a day") % {
                "reference": incident.reference
            }
    EmailMessage(subject=subject, body=body, to=[staff.email]).send()
