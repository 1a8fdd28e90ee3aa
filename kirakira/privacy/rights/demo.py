"""Demo rights requests, so that `make run` shows the privacy staff's list with its due dates:
a demo member's open correction of a completed order's SNS account ID (the field frozen), and
an answered stop of notices."""

from datetime import timedelta

from django.db import transaction

DEMO_MEMBER = "alice"


@transaction.atomic
def load_demo_rights_requests() -> int:
    """Create them once (skipped when the member already has requests); returns how many."""
    from django.contrib.auth import get_user_model

    from kirakira.common import clock
    from kirakira.orders.models import Order, OrderStatus

    from .models import ANSWER_DAYS, Kind, RightsRequest, Scope, Status

    member = get_user_model().objects.filter(login_id=DEMO_MEMBER).first()
    if member is None or RightsRequest.objects.filter(member=member).exists():
        return 0
    now = clock.now()
    created = 0
    order = Order.objects.filter(member=member, status=OrderStatus.COMPLETED).first()
    if order is not None:
        received = now - timedelta(days=8)
        RightsRequest.objects.create(
            member=member,
            kind=Kind.CORRECTION,
            received_at=received,
            due_at=received + timedelta(days=ANSWER_DAYS),
            target="orders.Order",
            target_id=str(order.pk),
            target_field="sns_account_id",
            wrong_value=order.sns_account_id,
            right_value=f"{order.sns_account_id}_official",
        )
        created += 1
    received = now - timedelta(days=20)
    RightsRequest.objects.create(
        member=member,
        kind=Kind.RESTRICTION,
        scope=Scope.NOTICES,
        status=Status.DONE,
        received_at=received,
        due_at=received + timedelta(days=ANSWER_DAYS),
        decided_at=received + timedelta(days=1),
        answer="We have stopped sending you notices that no law or contract requires.",
    )
    return created + 1
