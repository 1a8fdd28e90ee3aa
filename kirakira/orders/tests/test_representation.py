"""The hand-written order of the API (``representation.order_data``) is exactly what the
documented serializer (``api.OrderOutput``) gives, for orders in every state the API shows: awaiting
payment, paid, overpaid with a refund asked for, cancelled after payment with its refund paid,
cancelled unpaid, and with fields under correction; in each language."""

import json
from datetime import date

import pytest
from django.utils import translation

from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import lifecycle, selectors
from kirakira.orders.api import OrderOutput, _frozen_of
from kirakira.orders.models import Refund
from kirakira.orders.representation import order_data
from kirakira.orders.testing import REFUND_ACCOUNT as ACCOUNT
from kirakira.orders.testing import make_service, open_correction, place_order, record_payment

pytestmark = pytest.mark.django_db

@pytest.fixture
def member_with_every_kind_of_order():
    member = MemberFactory()
    service = make_service(name_en="Follower care", name_ko="팔로워 관리", photo_link_count=2)
    accountant = StaffFactory(roles=[Role.ACCOUNTING])
    place_order(member=member, service=service, note="夜に連絡ください")  # awaiting payment
    paid = place_order(member=member, service=service)
    record_payment(paid, accountant=accountant)
    overpaid = place_order(member=member, service=service)
    record_payment(overpaid, amount=overpaid.price_yen + 500, accountant=accountant)
    lifecycle.overpayment_refund_request(order_id=overpaid.pk, member=member, refund_account=ACCOUNT)
    refunded = place_order(member=member, service=service)
    record_payment(refunded, accountant=accountant)
    cancellation = lifecycle.order_cancel(
        order_id=refunded.pk, member=member, reason="都合により", refund_account=ACCOUNT
    )
    refund = Refund.objects.get(order=refunded)
    lifecycle.refund_mark_paid(
        refund_id=refund.pk, paid_on=date.today(), amount_yen=refund.amount_yen, actor=accountant
    )
    unpaid = place_order(member=member, service=service)
    lifecycle.order_cancel(order_id=unpaid.pk, member=member, reason="間違えました")
    open_correction(paid, "phone")
    open_correction(paid, "sns_account_id")
    open_correction(cancellation, "refund_account_number", member_id=member.pk)
    open_correction(refund, "account_holder", member_id=member.pk)
    return member


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
def test_the_hand_written_order_is_the_documented_one(member_with_every_kind_of_order, language):
    member = member_with_every_kind_of_order
    frozen = _frozen_of(member)
    with translation.override(language):
        orders = list(selectors.orders_with_money_of(member))
        assert len(orders) == 5
        for order in orders:
            documented = OrderOutput(order, context={"frozen": frozen}).data
            built = order_data(order, frozen)
            assert built == documented
            # The same JSON, keys in the same order.
            assert json.dumps(built, ensure_ascii=False) == json.dumps(documented, ensure_ascii=False)
    seen = [order_data(order, frozen) for order in orders]
    assert {o["status"] for o in seen} >= {"awaiting_payment", "paid", "cancelled"}
    assert any(o["payment"] for o in seen) and any(o["cancellation"] for o in seen)
    assert any(r["paid_on"] for o in seen for r in o["refunds"])
    assert any(o["under_correction"] for o in seen)
    assert any(r["under_correction"] for o in seen for r in o["refunds"])
    assert any(o["cancellation"] and o["cancellation"]["under_correction"] for o in seen)
