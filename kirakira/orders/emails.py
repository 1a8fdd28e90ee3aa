"""Emails about orders, in the member's language; subjects carry no personal data. A field under
correction (``frozen``) is printed as "under correction", never its value (policy C7)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kirakira.privacy.rights import freeze

from . import bank


def send_order_placed(order) -> None:
    member = order.member
    with translation.override(member.language):
        body = render_to_string(
            "orders/email/order_placed.txt",
            {
                "order": order,
                "frozen": freeze.frozen_fields(order),
                "member": member,
                "bank": bank.studio_account(),
                "url": settings.SITE_URL + reverse("orders:detail", args=[order.pk]),
                "site_url": settings.SITE_URL,
            },
        )
        EmailMessage(
            subject=_("Kirakira SNS: we have received your order"), body=body, to=[member.email]
        ).send()


# Steps worth an email; the others (a recorded or corrected payment) show on the order page.
EMAILED_EVENTS = {
    "paid",
    "overpaid",
    "started",
    "completed",
    "cancelled",
    "refund_paid",
    "payment_due_soon",
    "cancelled_unpaid",
    "paid_after_cancellation",
}


def send_order_event(order, event) -> None:
    member = order.member
    with translation.override(member.language):
        body = render_to_string(
            "orders/email/order_event.txt",
            {
                "order": order,
                "member": member,
                "event": event,
                # The completion carries what was delivered, unless it is under correction.
                "frozen": freeze.frozen_fields(order) if event.kind == "completed" else (),
                # A reminder of the deadline carries what to pay and where, as the first email did.
                "bank": bank.studio_account() if event.kind == "payment_due_soon" else None,
                "url": settings.SITE_URL + reverse("orders:detail", args=[order.pk]),
                "site_url": settings.SITE_URL,
            },
        )
        EmailMessage(subject=_("Kirakira SNS: news about your order"), body=body, to=[member.email]).send()
