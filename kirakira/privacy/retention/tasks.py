"""Background work of retention: the withdrawal notice. Arguments are IDs only."""

from kirakira.common.tasks import email_send_once, enqueue_in_transaction, task


@task()
def send_withdrawal_notice(*, record_id: str) -> None:
    from kirakira.orders.models import Refund, RefundStatus

    from .emails import send_withdrawal_notice as send
    from .models import RetainedRecord

    record = RetainedRecord.objects.filter(pk=record_id, source="accounts.User").first()
    if record is None:
        return  # disposed of meanwhile: nobody to write to
    due = sum(
        Refund.objects.filter(member_id=record.subject_id, status=RefundStatus.DUE).values_list("amount_yen", flat=True)
    )
    email_send_once(kind="privacy.withdrawal_notice", ids=(record.pk,), send=lambda: send(record, refunds_due_yen=due))


def enqueue_withdrawal_notice(record) -> None:
    enqueue_in_transaction(send_withdrawal_notice, record_id=str(record.pk))
