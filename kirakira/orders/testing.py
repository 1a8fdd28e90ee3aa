"""Builders for tests of the orders app: a service, an order placed through the real service
function, and a payment recorded through the real lifecycle."""

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
