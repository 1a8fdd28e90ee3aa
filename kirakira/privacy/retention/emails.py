"""The one email a withdrawal sends: to the address the member had, read from their membership
record in separate storage by the task that sends it (the task carries only the record's ID)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _


def send_withdrawal_notice(record, *, refunds_due_yen: int) -> None:
    data = record.data
    with translation.override(data.get("language") or settings.LANGUAGE_CODE):
        body = render_to_string(
            "privacy/email/withdrawal_done.txt",
            {
                "name": data.get("name", ""),
                "withdrawn_at": record.clock_started_at,
                "dispose_after": record.dispose_after,
                "refund": f"{refunds_due_yen:,}" if refunds_due_yen else "",
                "site_url": settings.SITE_URL,
            },
        )
        EmailMessage(subject=_("Kirakira SNS: your withdrawal is complete"), body=body, to=[data["email"]]).send()
