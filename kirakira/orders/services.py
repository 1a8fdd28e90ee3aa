"""Writes on orders. Pages and API views call these; nothing else creates or changes an Order."""

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kirakira.accounts.models import User
from kirakira.common.validation import collect

from . import normalization
from .models import Order, OrderEvent, Service
from .tasks import enqueue_order_email

# Crockford's base32 without the letters people confuse (I, L, O, U): read over the phone and
# typed into a bank transfer's name field without mistakes.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 8


def new_reference() -> str:
    return "K" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH - 1))


def order_place(
    *,
    member: User,
    service: Service,
    platform: str,
    sns_account_id: str,
    photo_links,
    note: str = "",
    phone: str,
) -> Order:
    """Place an order for a confirmed member; its confirmation email is queued with it.

    Raises ``ValidationError`` with field errors; on any error nothing is stored.
    """
    if not member.can_order:
        raise ValidationError(
            _("Please confirm your email address before ordering: open the link we sent you."),
            code="unconfirmed",
        )
    if not service.is_active:
        raise ValidationError({"service": [_("This service is not on sale.")]})
    errors: dict[str, list[str]] = {}
    chosen = (
        service.platforms.filter(code=platform, is_active=True).first() if isinstance(platform, str) else None
    )
    if chosen is None:
        errors["platform"] = [_("Choose one of the SNS platforms this service is for.")]
    else:
        sns_account_id = collect(
            errors, "sns_account_id", normalization.clean_account_id, sns_account_id, chosen
        )
    photo_links = collect(
        errors, "photo_links", normalization.clean_photo_links, photo_links, service.photo_link_count
    )
    phone = collect(errors, "phone", normalization.clean_phone, phone)
    note = collect(errors, "note", normalization.clean_note, note)
    if errors:
        raise ValidationError(errors)

    for _attempt in range(5):
        reference = new_reference()
        if Order.objects.filter(reference=reference).exists():
            continue  # drawn before (one in 34 billion); draw another
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    reference=reference,
                    member=member,
                    service=service,
                    price_yen=service.price_yen,
                    platform=chosen,
                    sns_account_id=sns_account_id,
                    photo_links=photo_links,
                    note=note,
                    phone=phone,
                )
                # The order, its first event and its email task: all committed, or none.
                OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.PLACED, status=order.status)
                enqueue_order_email(order, "order_placed")
            break
        except IntegrityError:
            if Order.objects.filter(reference=reference).exists():
                continue  # taken by a concurrent order meanwhile
            raise
    else:
        raise ValidationError(_("The order could not be placed. Please try again."))
    return order
