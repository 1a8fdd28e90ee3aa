"""Builders for tests of the orders app: a service, an order placed through the real service
function, a payment recorded through the real lifecycle, a refund account, and a member's open
correction of one field."""

from datetime import timedelta

from django.utils import timezone

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory

from . import lifecycle, services
from .models import Service, SnsPlatform


def make_service(*, platforms=("instagram",), **overrides) -> Service:
    data = {
        "name_ja": "写真レタッチ",
        "name_en": "Photo retouch",
        "name_ko": "사진 보정",
        "description_ja": "説明",
        "description_en": "d",
        "description_ko": "d",
        "price_yen": 3000,
        "photo_link_count": 1,
    }
    data.update(overrides)
    service = Service.objects.create(**data)
    service.platforms.set(SnsPlatform.objects.filter(code__in=platforms))
    return service


def place_order(*, member=None, service=None, **overrides):
    service = service or make_service()
    data = {
        "platform": service.platforms.first().code,
        "sns_account_id": "kira.kira",
        "photo_links": ["https://photos.example.com/1.jpg"][: service.photo_link_count],
        "note": "",
        "phone": "090-1234-5678",
    }
    data.update(overrides)
    return services.order_place(member=member or MemberFactory(), service=service, **data)


def record_payment(order, *, amount=None, accountant=None):
    return lifecycle.payment_record(
        order_id=order.pk,
        amount_yen=order.price_yen if amount is None else amount,
        received_on=timezone.localdate(clock.now()),
        payer_name="ヤマダ ハナコ",
        actor=accountant or StaffFactory(roles=[Role.ACCOUNTING]),
    )


# A refund account as a member types it (the service folds the half-width katakana and the dash).
REFUND_ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "123-4567",
    "account_holder": "ﾔﾏﾀﾞ ﾊﾅｺ",
}


def open_correction(row, field, *, member_id=None):
    """The row's owner asks for ``field`` of ``row`` to be corrected (policy C7): open, so frozen."""
    from kirakira.privacy.rights.models import RightsRequest

    return RightsRequest.objects.create(
        member_id=member_id or row.member_id,
        kind="correction",
        due_at=clock.now() + timedelta(days=10),
        target=row._meta.label,
        target_id=str(row.pk),
        target_field=field,
        wrong_value="wrong",
        right_value="right",
    )
