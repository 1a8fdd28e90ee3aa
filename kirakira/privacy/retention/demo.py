"""A withdrawn demo member, so that `make run` shows separate storage and the disposal ledger."""

from django.db import transaction

DEMO_FORMER_EMAIL = "sayonara@example.com"


@transaction.atomic
def load_demo_withdrawal(*, password: str) -> bool:
    """Register, order and withdraw "sayonara" (once: skipped when their record is kept)."""
    from django.contrib.auth import get_user_model

    from kirakira.common import clock
    from kirakira.legal.models import TermsAgreement
    from kirakira.legal.services import terms_agree
    from kirakira.orders import lifecycle, services
    from kirakira.orders.models import Service

    from .models import RetainedRecord
    from .storage import fraud_index_of
    from .withdrawal import member_withdraw

    if RetainedRecord.objects.filter(fraud_index=fraud_index_of(DEMO_FORMER_EMAIL)).exists():
        return False
    service = Service.objects.active().first()
    if service is None:
        return False
    User = get_user_model()
    member = User.objects.create_user(
        "sayonara", "退会 太郎", DEMO_FORMER_EMAIL, password, email_confirmed_at=clock.now(), language="ja"
    )
    terms_agree(member=member, channel=TermsAgreement.Channel.REGISTRATION)
    order = services.order_place(
        member=member,
        service=service,
        platform=service.platforms.first().code,
        sns_account_id="sayonara.taro",
        photo_links=[f"https://photos.example.com/sayonara/{n}.jpg" for n in range(service.photo_link_count)],
        note="",
        phone="090-0000-1111",
    )
    lifecycle.order_cancel(order_id=order.pk, member=member, reason="退会のため", refund_account=None)
    member_withdraw(user=member, checked_hash=member.password)
    return True
