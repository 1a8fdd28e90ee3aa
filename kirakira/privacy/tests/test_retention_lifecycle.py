"""One member's records from the first order to the last disposal, with the clock moved: an
order completed, one paid and open, one unpaid; a complaint; logins and the usage log; a
member of staff looking at their order. Then the member withdraws, and the retention sweep
runs 6 months, 2, 3 and 5 years later. After each step: exactly what exists, where, and who can
read it. Runs on SQLite and on PostgreSQL (CI runs the suite on both)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.urls import reverse

from kirakira.accounts import services as accounts_services
from kirakira.accounts.models import User
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.consultations import services as consultation_services
from kirakira.consultations.models import Consultation
from kirakira.consultations.testing import open_for_member
from kirakira.orders import lifecycle
from kirakira.orders.models import Order, OrderStatus, Payment, Refund, RefundStatus
from kirakira.orders.testing import make_service, place_order, record_payment
from kirakira.privacy.access_log.services import record
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.models import (
    DataKey,
    DisposalCount,
    DisposalRun,
    PermissionChange,
    RegistrationMatch,
    RetainedRecord,
    StaffAccessRecord,
)
from kirakira.privacy.retention import sweep, withdrawal
from kirakira.usage.models import UsageRecord

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
WITHDRAWN = T0 + timedelta(days=10)
ACCOUNT = {
    "bank_name": "みずほ銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}


def _retained(member_id) -> dict[str, list]:
    out: dict[str, list] = {}
    for row in RetainedRecord.objects.filter(subject_id=member_id).order_by("clock_started_at"):
        out.setdefault(row.source, []).append(row)
    return out


def _sweep(at):
    with clock.frozen_at(at):
        return sweep.run(trigger=DisposalRun.Trigger.SCHEDULE)


def test_one_member_from_first_order_to_last_disposal(client):
    with clock.frozen_at(T0):
        cs = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
        accountant = StaffFactory(roles=[Role.ACCOUNTING])
        officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
        member = MemberFactory(email="hanako@example.com")
        service = make_service()
        completed = place_order(member=member, service=service)
        record_payment(completed, accountant=accountant)
        lifecycle.order_advance(order_id=completed.pk, step="start", actor=cs)
        lifecycle.order_advance(order_id=completed.pk, step="complete", actor=cs)
        paid_open = place_order(member=member, service=service)
        record_payment(paid_open, accountant=accountant)
        unpaid = place_order(member=member, service=service)
        complaint = open_for_member(member, category="complaint", subject="仕上がりについて")
        consultation_services.staff_reply(
            consultation_id=complaint.pk, actor=cs, body="ご迷惑をおかけしました"
        )
        UsageRecord.objects.create(
            member=member,
            occurred_at=T0,
            ip_address="203.0.113.9",
            method="GET",
            route="orders:list",
            status_code=200,
        )
        record(actor=cs, action="view", model=Order, object_id=completed.pk, subjects=[member.pk])
    with clock.frozen_at(T0 + timedelta(days=1)):
        consultation_services.consultation_close(consultation_id=complaint.pk, member=member)
    complaint_closed = T0 + timedelta(days=1)
    member_id = member.pk

    # --- the member withdraws ------------------------------------------------------------------
    with clock.frozen_at(WITHDRAWN):
        done = withdrawal.member_withdraw(user=member, checked_hash=member.password, refund_account=ACCOUNT)
    assert done.cancelled_orders == 2  # the paid open order and the unpaid one
    assert done.refunds_due_yen == paid_open.price_yen

    former = User.objects.get(pk=member_id)
    assert former.withdrawn_at == WITHDRAWN and not former.is_active
    assert former.name == "" and former.email_index is None and former.login_id.startswith("withdrawn-")
    assert authenticate(RequestFactory().post("/"), username=member.login_id, password=PASSWORD) is None

    kept = _retained(member_id)
    assert sorted(kept) == ["accounts.User", "consultations.Consultation", "orders.Order"]
    assert kept["accounts.User"][0].data["name"] == member.name
    assert kept["accounts.User"][0].dispose_after == WITHDRAWN.replace(year=2031)
    orders_kept = {row.source_id: row for row in kept["orders.Order"]}
    assert set(orders_kept) == {str(completed.pk), str(unpaid.pk)}
    assert orders_kept[str(unpaid.pk)].data["status"] == OrderStatus.CANCELLED
    assert kept["consultations.Consultation"][0].rule == "complaint_record_5y"
    assert kept["consultations.Consultation"][0].clock_started_at == complaint_closed
    assert kept["consultations.Consultation"][0].data["messages"]  # with its messages
    # The order whose refund is still to pay stays where accounting pays it.
    assert list(Order.objects.filter(member_id=member_id).values_list("pk", flat=True)) == [paid_open.pk]
    refund = Refund.objects.get(order=paid_open)
    assert refund.status == RefundStatus.DUE
    assert not Consultation.objects.filter(pk=complaint.pk).exists()
    assert UsageRecord.objects.filter(member_id=member_id).count() == 1  # its own six months
    assert StaffAccessRecord.objects.filter(subjects__subject_id=member_id).exists()

    # Who can read separate storage: the privacy officer alone.
    changelist = reverse("admin:privacy_retainedrecord_changelist")
    with clock.frozen_at(WITHDRAWN):
        client.force_login(cs)
        assert client.get(changelist).status_code == 403
        client.force_login(officer)
        assert client.get(changelist).status_code == 200  # in the staff access log, naming the member
        client.logout()

    # The same email address registers again at once; the fraud check points it out.
    with clock.frozen_at(WITHDRAWN + timedelta(hours=1)):
        again = accounts_services.member_register(
            accept_terms=True,
            login_id="hanako2",
            name="山田 花子",
            email="hanako@example.com",
            password=PASSWORD,
            language="ja",
        )
    assert RegistrationMatch.objects.filter(user=again, retained=kept["accounts.User"][0]).exists()

    # --- accounting pays the refund; the next sweep moves the order --------------------------
    with clock.frozen_at(WITHDRAWN + timedelta(days=5)):
        lifecycle.refund_mark_paid(
            refund_id=refund.pk, paid_on=date(2026, 1, 25), amount_yen=refund.amount_yen, actor=accountant
        )
    _sweep(WITHDRAWN + timedelta(days=6))
    assert not Order.objects.filter(member_id=member_id).exists()
    assert not Payment.objects.filter(member_id=member_id).exists()
    assert str(paid_open.pk) in {row.source_id for row in _retained(member_id)["orders.Order"]}

    # --- 6 months: the usage log goes --------------------------------------------------------
    result = _sweep(T0.replace(month=7) + timedelta(days=1))
    assert not UsageRecord.objects.filter(member_id=member_id).exists()
    assert result.count() >= 1
    assert StaffAccessRecord.objects.filter(subjects__subject_id=member_id).exists()
    assert len(_retained(member_id)["orders.Order"]) == 3

    # --- 2 years: the staff access records about the member go ---------------------------------
    _sweep(T0.replace(year=2028) + timedelta(days=1))
    about_member = StaffAccessRecord.objects.filter(subjects__subject_id=member_id)
    assert not about_member.filter(occurred_at__lte=T0).exists()
    assert about_member.filter(occurred_at=WITHDRAWN).exists()  # the officer's reading: two years from then
    assert PermissionChange.objects.filter(subject=accountant).exists()  # three years

    # --- 3 years: the records of staff access rights granted then go --------------------------
    _sweep(T0.replace(year=2029) + timedelta(days=1))
    assert not PermissionChange.objects.filter(subject=accountant).exists()
    assert not StaffAccessRecord.objects.filter(subjects__subject_id=member_id).exists()
    assert sorted(_retained(member_id)) == ["accounts.User", "consultations.Consultation", "orders.Order"]

    # --- 5 years: the completed order and the complaint go; what started later waits ------------
    _sweep(complaint_closed.replace(year=2031) + timedelta(days=1))
    kept = _retained(member_id)
    assert sorted(kept) == ["accounts.User", "orders.Order"]
    assert {row.source_id for row in kept["orders.Order"]} == {str(unpaid.pk), str(paid_open.pk)}
    assert not datakeys.is_destroyed(member_id)

    # --- 5 years after the last of them: nothing of the member is left, and the key is gone ----
    last = _sweep(WITHDRAWN.replace(year=2031) + timedelta(days=7))
    assert not RetainedRecord.objects.filter(subject_id=member_id).exists()
    assert not User.objects.filter(pk=member_id).exists()
    assert DataKey.objects.get(owner_id=member_id).destroyed_at is not None
    assert not RegistrationMatch.objects.filter(user=again).exists()
    counts = {(c.model, c.method): c.count for c in DisposalCount.objects.filter(run=last.run)}
    assert counts[("privacy.DataKey", "key_destroyed")] == 1
    assert counts[("accounts.User", "deleted")] == 1
    assert counts[("privacy.RetainedRecord:accounts.User", "deleted")] == 1
    assert counts[("privacy.RetainedRecord:orders.Order", "deleted")] == 2
    # The new account of the same person lives on, untouched.
    assert User.objects.filter(pk=again.pk, is_active=True).exists()


def test_a_member_under_a_legal_hold_is_withdrawn_and_nothing_of_theirs_is_disposed_of():
    from kirakira.privacy.models import LegalHold

    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    with clock.frozen_at(T0):
        member = MemberFactory()
        order = place_order(member=member)
        UsageRecord.objects.create(
            member=member,
            occurred_at=T0,
            ip_address="203.0.113.9",
            method="GET",
            route="home",
            status_code=200,
        )
        LegalHold.objects.create(
            subject_id=member.pk, reason="係争中", reference="2026-001", placed_by=officer
        )
    with clock.frozen_at(WITHDRAWN):
        withdrawal.member_withdraw(user=member, checked_hash=member.password)
    assert User.objects.get(pk=member.pk).withdrawn_at == WITHDRAWN
    assert str(order.pk) in {r.source_id for r in _retained(member.pk)["orders.Order"]}

    result = _sweep(WITHDRAWN.replace(year=2032))
    assert UsageRecord.objects.filter(member=member).exists()
    assert RetainedRecord.objects.filter(subject_id=member.pk).count() == 2
    assert not datakeys.is_destroyed(member.pk)
    held = {(model, method) for (_rule, model, method) in result.totals}
    assert ("usage.UsageRecord", "held") in held
    assert ("privacy.RetainedRecord:orders.Order", "held") in held

    # Released, the next run disposes of everything due.
    LegalHold.objects.update(released_at=WITHDRAWN.replace(year=2032), released_by=officer)
    _sweep(WITHDRAWN.replace(year=2032) + timedelta(days=1))
    assert not UsageRecord.objects.filter(member_id=member.pk).exists()
    assert not RetainedRecord.objects.filter(subject_id=member.pk).exists()
    assert datakeys.is_destroyed(member.pk)


def test_withdrawing_twice_or_with_a_stale_password_changes_nothing():
    from django.core.exceptions import ValidationError

    member = MemberFactory()
    stale = member.password
    member.set_password("another-Passw0rd-123")
    member.save()
    with pytest.raises(ValidationError) as refused:
        withdrawal.member_withdraw(user=member, checked_hash=stale)
    assert refused.value.code == "stale"
    assert User.objects.get(pk=member.pk).withdrawn_at is None

    withdrawal.member_withdraw(user=member, checked_hash=member.password)
    with pytest.raises(ValidationError) as again:
        withdrawal.member_withdraw(user=member, checked_hash=member.password)
    assert again.value.code == "already_withdrawn"
    assert RetainedRecord.objects.filter(subject_id=member.pk).count() == 1


def test_a_paid_open_order_needs_a_refund_account_and_nothing_changes_without_one():
    from django.core.exceptions import ValidationError

    member = MemberFactory()
    order = place_order(member=member)
    record_payment(order)
    with pytest.raises(ValidationError) as refused:
        withdrawal.member_withdraw(user=member, checked_hash=member.password)
    assert "refund_account" in refused.value.message_dict
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert User.objects.get(pk=member.pk).withdrawn_at is None
    assert not RetainedRecord.objects.exists()


def test_a_clock_moved_by_option_is_refused_unless_dry_run(capsys):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="only with --dry-run"):
        call_command("enforce_retention", "--now", "2040-01-01T00:00")
    assert not DisposalRun.objects.exists()
    with clock.frozen_at(T0):
        member = MemberFactory()
        UsageRecord.objects.create(
            member=member,
            occurred_at=T0,
            ip_address="203.0.113.9",
            method="GET",
            route="home",
            status_code=200,
        )
    call_command("enforce_retention", "--dry-run", "--now", "2040-01-01T00:00")
    out = capsys.readouterr().out
    assert "usage_log_6m" in out and "usage.UsageRecord" in out
    assert UsageRecord.objects.count() == 1
    assert not DisposalRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_the_second_refuses():
    """The lock is held by another connection (another thread: on PostgreSQL an advisory lock
    is per connection), as another process's sweep would hold it."""
    import threading

    from django.core.management import CommandError, call_command
    from django.db import connection

    from kirakira.privacy.retention.lock import sweep_lock

    held, release = threading.Event(), threading.Event()

    def other_sweep():
        try:
            with sweep_lock():
                held.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_sweep)
    thread.start()
    try:
        assert held.wait(30)
        with pytest.raises(sweep.SweepRunning):
            sweep.run()
        with pytest.raises(CommandError, match="Another retention sweep is running"):
            call_command("enforce_retention")
    finally:
        release.set()
        thread.join()
    assert sweep.run().run.status == DisposalRun.Status.FINISHED


def test_the_withdrawal_notice_goes_to_the_former_address_in_their_language(
    mailoutbox, django_capture_on_commit_callbacks
):
    from django.utils import translation

    member = MemberFactory(email="minsu@example.kr", language="ko", name="김민수")
    order = place_order(member=member)
    record_payment(order)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal.member_withdraw(user=member, checked_hash=member.password, refund_account=ACCOUNT)
    assert [m.to for m in mailoutbox] == [["minsu@example.kr"]]
    with translation.override("ko"):
        assert mailoutbox[0].subject == translation.gettext("Kirakira SNS: your withdrawal is complete")
    assert "김민수" in mailoutbox[0].body
    assert f"{order.price_yen:,}" in mailoutbox[0].body  # the refund still to pay
    assert "minsu" not in mailoutbox[0].subject


def test_a_refund_never_paid_keeps_the_key_its_order_is_encrypted_under():
    with clock.frozen_at(T0):
        member = MemberFactory()
        order = place_order(member=member)
        record_payment(order)
    with clock.frozen_at(WITHDRAWN):
        withdrawal.member_withdraw(user=member, checked_hash=member.password, refund_account=ACCOUNT)
    _sweep(WITHDRAWN.replace(year=2032))
    assert not RetainedRecord.objects.filter(subject_id=member.pk, source="accounts.User").exists()
    live = Order.objects.get(pk=order.pk)  # accounting still owes the refund, and can read it
    assert live.sns_account_id == "kira.kira"
    assert not datakeys.is_destroyed(member.pk)
    assert User.objects.filter(pk=member.pk).exists()


def test_the_hourly_purge_leaves_no_empty_run_in_the_ledger(settings):
    from kirakira.consultations.testing import open_for_visitor
    from kirakira.schedule import tasks

    assert tasks.purge_unconfirmed_consultations.enqueue().return_value == 0
    assert not DisposalRun.objects.exists()
    with clock.frozen_at(T0):
        stale = open_for_visitor()
    assert tasks.purge_unconfirmed_consultations.enqueue().return_value == 1
    assert not Consultation.objects.filter(pk=stale.pk).exists()
    run = DisposalRun.objects.get()
    assert run.trigger == DisposalRun.Trigger.SCHEDULE
    assert {(c.model, c.method) for c in run.counts.all()} == {
        ("consultations.Consultation", "deleted"),
        ("consultations.Message", "deleted"),
        ("privacy.DataKey", "key_destroyed"),
    }
