"""Shared set-up of the staff gate's tests (kirakira/accounts/gate)."""

import datetime

from django_otp import DEVICE_ID_SESSION_KEY

from kirakira.accounts.gate import selectors
from kirakira.accounts.gate.models import PledgeAcceptance, TrainingRecord
from kirakira.accounts.gate.testing import confirmed_device, publish_test_pledge
from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.consultations.models import Message
from kirakira.consultations.testing import open_for_member, upload
from kirakira.orders import lifecycle
from kirakira.orders.models import Refund
from kirakira.orders.testing import place_order, record_payment

ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}


def personal_data_urls() -> dict[str, str]:
    """One back-office URL of each kind that shows personal data, by kind (without the
    language prefix)."""
    order = place_order()
    record_payment(order)
    lifecycle.order_cancel(
        order_id=order.pk,
        member=order.member,
        reason="キャンセルのご要望がございました",
        refund_account=ACCOUNT,
    )
    refund = Refund.objects.get(order=order)
    consultation = open_for_member(category="question", files=[upload()])
    attachment = Message.objects.get(consultation=consultation).attachments.get()
    return {
        "changelist": "/backoffice/orders/order/",
        "change": f"/backoffice/orders/order/{order.pk}/change/",
        "history": f"/backoffice/orders/order/{order.pk}/history/",
        "filtered changelist": "/backoffice/orders/order/?status__exact=cancelled",
        "attachment download": f"/backoffice/consultations/consultation/{consultation.pk}/files/{attachment.pk}/",
        "refund reveal": f"/backoffice/orders/refund/{refund.pk}/reveal/",
    }


def working_staff(**kwargs):
    """A staff member whose roles open every page of ``personal_data_urls``."""
    return StaffFactory(roles=[Role.CUSTOMER_SERVICE, Role.ACCOUNTING], **kwargs)


def verify_session(client, user) -> None:
    """The client's session (logged in as ``user``) has passed the second factor."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = confirmed_device(user).persistent_id
    session.save()


def accept_current_pledge(user, *, by=None):
    pledge = selectors.current_pledge() or publish_test_pledge(by=by or user)
    PledgeAcceptance.objects.get_or_create(staff=user, pledge=pledge)
    return pledge


def train(user, *, completed_on: datetime.date | None = None, by=None) -> TrainingRecord:
    return TrainingRecord.objects.create(
        staff=user,
        course="個人情報保護研修",
        completed_on=completed_on or selectors.today(),
        entered_by=by or user,
    )
