"""The commerce disclosure (特定商取引法に基づく表記): what the Act on Specified Commercial
Transactions asks an online seller to show, drawn from the settings and from the rules the code
applies, so that the page says what the software does.

- The seller, representative, address, phone and email: settings (names and address in the
  page's language where one is set; the phone in international form on English and Korean pages).
- Prices: the services on sale, from the catalog, tax included.
- Payment: bank transfer in advance, the only way the code takes money; the fee as set.
- When the service is provided: the number of business days set, counted from the confirmed
  transfer, which is when the code lets work start.
- Cancellation and refunds: the statuses in which ``orders.lifecycle`` lets a member cancel, and
  what it refunds (everything paid, and any overpayment).
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kirakira.common.contact import in_language, phone_for_language
from kirakira.orders.lifecycle import CANCELLABLE
from kirakira.orders.models import OrderStatus
from kirakira.orders.selectors import services_on_sale


@dataclass(frozen=True)
class Row:
    label: str
    text: str = ""
    prices: tuple = ()  # (service name, price in yen) pairs


def cancellable_statuses() -> list[str]:
    return [str(OrderStatus(status).label) for status in CANCELLABLE]


def rows() -> list[Row]:
    start_days = settings.SERVICE_START_BUSINESS_DAYS
    fee = (
        _("The bank's transfer fee is paid by the customer. There are no other charges.")
        if settings.TRANSFER_FEE_PAID_BY_CUSTOMER
        else _("None: the studio pays the bank's transfer fee.")
    )
    statuses = pgettext("list separator", ", ").join(cancellable_statuses())
    return [
        Row(pgettext("commerce disclosure", "Seller"), settings.STUDIO_NAME),
        Row(pgettext("commerce disclosure", "Representative"), in_language("STUDIO_REPRESENTATIVE")),
        Row(pgettext("commerce disclosure", "Address"), in_language("STUDIO_ADDRESS")),
        Row(pgettext("commerce disclosure", "Phone number"), phone_for_language(settings.STUDIO_PHONE)),
        Row(pgettext("commerce disclosure", "Email address"), settings.STUDIO_EMAIL),
        Row(
            pgettext("commerce disclosure", "Prices"),
            _("As shown for each service (consumption tax included):"),
            prices=tuple((service.name, service.price_yen) for service in services_on_sale()),
        ),
        Row(pgettext("commerce disclosure", "Charges other than the price"), fee),
        Row(
            pgettext("commerce disclosure", "Payment method"),
            _("Bank transfer, in advance. The order page shows the account and the payment reference."),
        ),
        Row(
            pgettext("commerce disclosure", "When to pay"),
            _(
                "Within %(days)d days of the day you order (by 23:59 Japan time on the last day; the order "
                "page and the confirmation email give the exact time). An order not paid by then is "
                "cancelled automatically. Work on the order starts once we have confirmed the transfer."
            )
            % {"days": settings.ORDER_PAYMENT_DAYS},
        ),
        Row(
            pgettext("commerce disclosure", "When the service is provided"),
            _("Work starts within %(days)d business days of our confirming your transfer.")
            % {"days": start_days},
        ),
        Row(
            pgettext("commerce disclosure", "Cancellation and refunds"),
            _(
                "You can cancel an order on its page while it is in one of these states: %(statuses)s. "
                "Once the work is completed it can no longer be cancelled. Everything you have paid for a "
                "cancelled order is refunded by bank transfer to the account you give when cancelling, and "
                "anything paid beyond the price is refunded in the same way. The service is provided "
                "online, so there is nothing to return."
            )
            % {"statuses": statuses},
        ),
    ]
