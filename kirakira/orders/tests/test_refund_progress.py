"""A member can follow their money on the order's page (issue: after cancelling a paid order the
page showed only "cancelled"): the refund's amount, its state and the masked account; the
timeline with the amount of each step, so two payments are two different lines; and an overpaid
order's page with its two account forms holds no duplicate id and no dangling reference."""

import re
from collections import Counter
from datetime import date

import pytest
from django.utils import timezone

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.orders import lifecycle
from kirakira.orders.models import Refund
from kirakira.orders.testing import REFUND_ACCOUNT, make_service, place_order, record_payment

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return _text(html[start : html.index("</section>", start)])


@pytest.fixture
def accountant():
    return StaffFactory(roles=[Role.ACCOUNTING])


def test_a_cancelled_paid_order_shows_its_refund_from_due_to_transferred(client, accountant):
    order = place_order(service=make_service(price_yen=3000))
    record_payment(order, amount=1000, accountant=accountant)
    record_payment(order, amount=2000, accountant=accountant)
    lifecycle.order_cancel(
        order_id=order.pk, member=order.member, reason="都合により", refund_account=REFUND_ACCOUNT
    )
    client.force_login(order.member)

    page = client.get(f"/en/orders/{order.pk}/").content.decode()
    refunds = _section(page, "refunds")
    assert "¥3,000" in refunds and "To be transferred" in refunds
    assert "****4567" in refunds and "1234567" not in page.replace('value="1234567"', "")
    timeline = [_text(li).strip() for li in re.findall(r"<li><time.*?</li>", page, re.S)]
    kinds = Counter(line.split("— ", 1)[1] for line in timeline)
    assert kinds["Payment received (¥1,000)"] == 1 and kinds["Payment received (¥2,000)"] == 1
    assert kinds["Paid in full (¥3,000)"] == 1
    assert kinds["Order cancelled (¥3,000)"] == 1
    assert all(count == 1 for count in kinds.values()), kinds

    refund = Refund.objects.get()
    paid_on = timezone.localdate(clock.now())
    lifecycle.refund_mark_paid(refund_id=refund.pk, paid_on=paid_on, amount_yen=3000, actor=accountant)
    page = client.get(f"/en/orders/{order.pk}/").content.decode()
    refunds = _section(page, "refunds")
    assert "To be transferred" not in refunds
    assert f"Transferred on {paid_on:%b}" in refunds or "Transferred on" in refunds
    assert "Refund paid (¥3,000)" in _text(page)
    japanese = client.get(f"/orders/{order.pk}/").content.decode()
    assert f"{paid_on.year}年{paid_on.month}月{paid_on.day}日" in _section(japanese, "refunds")


def test_an_overpaid_orders_page_has_no_duplicate_id_and_no_dangling_reference(client, accountant):
    order = place_order(service=make_service(price_yen=3000))
    record_payment(order, amount=3500, accountant=accountant)
    client.force_login(order.member)

    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'id="overpayment"' in page and 'id="cancel"' in page  # both account forms are there
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [i for i, n in ids.items() if n > 1] == []
    for attribute in ("for", "aria-describedby", "aria-labelledby"):
        for reference in re.findall(rf'\s{attribute}="([^"]+)"', page):
            for target in reference.split():
                assert target in ids, (attribute, target)


def test_the_cancellation_and_refund_mails_state_the_amount(accountant, mailoutbox, django_capture_on_commit_callbacks):
    order = place_order(service=make_service(price_yen=3000))
    record_payment(order, accountant=accountant)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.order_cancel(
            order_id=order.pk, member=order.member, reason="x", refund_account=REFUND_ACCOUNT
        )
    cancelled = mailoutbox[-1].body
    assert "3,000円" in cancelled
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.refund_mark_paid(
            refund_id=Refund.objects.get().pk, paid_on=date.today(), amount_yen=3000, actor=accountant
        )
    assert "3,000円" in mailoutbox[-1].body and mailoutbox[-1].body != cancelled
