"""The staff access log (policy C10): each staff view, reveal, change and download of a member's
data leaves one sealed row, in the transaction of what it records; members' own use leaves none;
the chain names the first row that was changed, removed or slipped in."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations.models import Attachment
from kirakira.consultations.testing import open_for_member, upload
from kirakira.orders import lifecycle
from kirakira.orders.models import Refund
from kirakira.orders.testing import place_order, record_payment
from kirakira.privacy.access_log import chain
from kirakira.privacy.audit.reveal import reveal
from kirakira.privacy.models import AccessLogHead, PermanentRecordError, StaffAccessRecord, StaffAccessSubject

pytestmark = pytest.mark.django_db

ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}


def _sql(statement: str, params) -> None:
    """Tampering as someone with write access to the database would, behind the code's back."""
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=StaffAccessRecord._meta.db_table), params)


def subjects_of(row) -> set:
    return set(row.subjects.values_list("subject_id", flat=True))


def rows(**filters):
    return list(StaffAccessRecord.objects.filter(**filters).order_by("seq"))


@pytest.fixture
def customer_service(client):
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def accounting(client):
    staff = StaffFactory(roles=[Role.ACCOUNTING])
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.fixture
def refund():
    order = place_order()
    record_payment(order)
    lifecycle.order_cancel(
        order_id=order.pk, member=order.member, reason="キャンセルします", refund_account=ACCOUNT
    )
    return Refund.objects.get()


# --- What is recorded ---------------------------------------------------------------------------


def test_a_list_view_is_one_row_naming_every_member_shown(customer_service):
    orders = [place_order() for _ in range(3)]
    response = customer_service.get("/en/backoffice/orders/order/", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200
    [row] = rows()
    assert row.action == "list" and row.model == "orders.Order"
    assert row.staff == customer_service.staff and row.roles == "customer_service"
    assert row.ip_address == "198.51.100.4" and len(row.request_id) == 32
    assert row.path == "/en/backoffice/orders/order/"
    assert subjects_of(row) == {order.member_id for order in orders}
    assert "orders.Order.sns_account_id" in row.fields or row.fields  # the columns shown


def test_a_search_is_never_kept_in_the_row(customer_service):
    order = place_order()
    customer_service.get("/en/backoffice/orders/order/", {"q": order.member.login_id})
    for row in rows():
        assert order.member.login_id not in row.path and "?" not in row.path


def test_a_change_page_and_its_history_are_recorded(customer_service):
    order = place_order()
    assert customer_service.get(f"/en/backoffice/orders/order/{order.pk}/change/").status_code == 200
    assert customer_service.get(f"/en/backoffice/orders/order/{order.pk}/history/").status_code == 200
    view, history = rows()
    assert (view.action, view.object_id, subjects_of(view)) == ("view", str(order.pk), {order.member_id})
    assert view.fields and all(name.startswith(("orders.", "accounts.")) for name in view.fields)
    assert (history.action, subjects_of(history)) == ("history", {order.member_id})


def test_a_member_using_the_site_leaves_no_row(client):
    order = place_order()
    client.force_login(order.member)
    assert client.get("/en/orders/").status_code == 200
    assert client.get(f"/en/orders/{order.pk}/").status_code == 200
    assert rows() == []


def test_a_page_showing_no_ones_data_leaves_no_row(customer_service):
    assert customer_service.get("/en/backoffice/").status_code == 200
    assert rows() == []


def test_a_reveal_is_recorded_with_its_reason(accounting, refund):
    response = accounting.post(
        f"/en/backoffice/orders/refund/{refund.pk}/reveal/", {"reason": "返金の振込のため"}
    )
    assert response.status_code == 200 and "1234567" in response.content.decode()
    [row] = rows()
    assert row.action == "reveal" and row.reason == "返金の振込のため"
    assert row.fields == ["orders.Refund.account_number"] and row.object_id == str(refund.pk)
    assert subjects_of(row) == {refund.member_id}


@pytest.mark.parametrize("reason", ["", "check", "確認", "   "])
def test_a_reveal_without_a_real_reason_is_refused_and_recorded(accounting, refund, reason):
    response = accounting.post(f"/en/backoffice/orders/refund/{refund.pk}/reveal/", {"reason": reason})
    assert response.status_code == 200 and "1234567" not in response.content.decode()
    refused = rows(action="refused")
    assert [(row.reason, row.model) for row in refused] == [("reveal_reason", "orders.Refund")]
    assert subjects_of(refused[0]) == {refund.member_id}  # the member sees the attempt too
    assert not rows(action="reveal")


def test_a_role_that_may_not_reveal_is_refused_and_recorded(customer_service, refund):
    response = customer_service.post(
        f"/en/backoffice/orders/refund/{refund.pk}/reveal/", {"reason": "返金の振込のため"}
    )
    assert response.status_code == 403
    [row] = rows()
    assert row.action == "refused" and row.staff == customer_service.staff


def test_a_reveal_whose_row_cannot_be_written_is_no_reveal(refund, monkeypatch, rf):
    accountant = StaffFactory(roles=[Role.ACCOUNTING])

    def broken(*args, **kwargs):
        raise RuntimeError("the log is unavailable")

    monkeypatch.setattr(chain, "append", broken)
    with pytest.raises(RuntimeError):
        reveal(actor=accountant, instance=refund, field_name="account_number", reason="返金の振込のため")
    assert rows() == []


def test_an_attachment_download_is_recorded(customer_service):
    member = MemberFactory()
    consultation = open_for_member(member, files=[upload("photo.png")])
    attachment = Attachment.objects.get()
    response = customer_service.get(
        f"/en/backoffice/consultations/consultation/{consultation.pk}/files/{attachment.pk}/"
    )
    assert response.status_code == 200
    [row] = rows()
    assert row.action == "download" and row.model == "consultations.Attachment"
    assert row.object_id == str(attachment.pk) and subjects_of(row) == {member.pk}


def test_a_refused_page_is_recorded(accounting):
    consultation = open_for_member()
    response = accounting.get(f"/en/backoffice/consultations/consultation/{consultation.pk}/change/")
    assert response.status_code == 403
    [row] = rows()
    assert row.action == "refused" and row.reason == "role"


def test_a_change_is_recorded_in_its_own_transaction_with_the_fields_changed(client):
    administrator = StaffFactory(roles=[Role.ADMINISTRATOR])
    member = MemberFactory()
    client.force_login(administrator)
    page = client.get(f"/en/backoffice/accounts/user/{member.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["is_active"] = ""
    response = client.post(f"/en/backoffice/accounts/user/{member.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    change = rows(action="change")
    assert change and change[0].fields == ["accounts.User.is_active"]
    assert subjects_of(change[0]) == {member.pk}


# --- Append-only and sealed ---------------------------------------------------------------------


def test_rows_are_never_changed_or_deleted_by_code(customer_service):
    place_order()
    customer_service.get("/en/backoffice/orders/order/")
    [row] = rows()
    row.reason = "edited"
    with pytest.raises(PermanentRecordError):
        row.save()
    with pytest.raises(PermanentRecordError):
        row.delete()
    with pytest.raises(PermanentRecordError):
        StaffAccessRecord.objects.update(reason="x")
    with pytest.raises(PermanentRecordError):
        StaffAccessRecord.objects.all().delete()


def _three_rows(client):
    for _ in range(3):
        place_order()
        client.get("/en/backoffice/orders/order/")
    assert len(rows()) == 3
    return rows()


def _verify() -> str:
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_access_log", stdout=out, stderr=out)
    except CommandError as exc:
        return f"FAILED {exc}"
    return out.getvalue()


def test_an_untouched_chain_verifies(customer_service):
    _three_rows(customer_service)
    assert chain.verify() == (3, None)
    assert "3 records" in _verify()


def test_a_changed_row_is_named(customer_service):
    first, second, third = _three_rows(customer_service)
    _sql("UPDATE {table} SET reason = %s WHERE id = %s", ["innocent", second.pk])
    checked, broken = chain.verify()
    assert (checked, broken.seq) == (1, second.seq) and "changed" in broken.problem
    assert f"#{second.seq}" in _verify() and _verify().startswith("FAILED")


def test_a_member_removed_from_a_row_is_named(customer_service):
    first, second, third = _three_rows(customer_service)
    StaffAccessSubject.objects.filter(record=second).delete()
    assert chain.verify()[1].seq == second.seq


def test_a_deleted_row_is_named(customer_service):
    first, second, third = _three_rows(customer_service)
    StaffAccessSubject.objects.filter(record=second).delete()
    _sql("DELETE FROM {table} WHERE id = %s", [second.pk])
    checked, broken = chain.verify()
    assert (checked, broken.seq) == (1, second.seq) and "missing" in broken.problem


def test_deleting_the_newest_rows_is_seen(customer_service):
    first, second, third = _three_rows(customer_service)
    StaffAccessSubject.objects.filter(record=third).delete()
    _sql("DELETE FROM {table} WHERE id = %s", [third.pk])
    checked, broken = chain.verify()
    assert checked == 2 and broken.seq == third.seq


def test_an_inserted_row_is_named(customer_service):
    first, second, third = _three_rows(customer_service)
    # A forged row slipped in after the first, its number made room for by renumbering the rest.
    _sql("UPDATE {table} SET seq = seq + 10 WHERE seq > %s", [first.seq])
    _sql("UPDATE {table} SET seq = seq - 9 WHERE seq > %s", [first.seq + 9])
    forged = StaffAccessRecord(
        seq=first.seq + 1,
        occurred_at=first.occurred_at,
        staff=first.staff,
        action="view",
        prev_hash=first.hash,
        hash="f" * 64,
    )
    forged.save()
    AccessLogHead.objects.filter(pk=1).update(last_seq=first.seq + 3)
    checked, broken = chain.verify()
    assert (checked, broken.seq) == (1, first.seq + 1) and "changed" in broken.problem


def test_a_moved_date_breaks_that_rows_seal(customer_service):
    import datetime

    first, second, third = _three_rows(customer_service)
    _sql(
        "UPDATE {table} SET occurred_at = %s WHERE id = %s",
        [third.occurred_at + datetime.timedelta(days=1), third.pk],
    )
    assert chain.verify()[1].seq == third.seq


def test_disposal_removes_only_rows_past_two_years(customer_service):
    import datetime

    first, second, third = _three_rows(customer_service)
    removed = chain.dispose_expired(third.occurred_at + datetime.timedelta(days=366 * 2))
    assert removed == 3 and rows() == [] and not StaffAccessSubject.objects.exists()
    customer_service.get("/en/backoffice/orders/order/")
    assert chain.verify() == (1, None)


# --- Cost -----------------------------------------------------------------------------------------


def _queries(client, count: int) -> int:
    for _ in range(count):
        place_order()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/en/backoffice/orders/order/").status_code == 200
    return len(queries)


def test_the_row_costs_the_same_statements_whatever_the_number_of_members(customer_service):
    """One row per request, its members inserted in one statement: listing 3 orders and listing
    23 costs the same number of queries."""
    _queries(customer_service, 1)  # the first row ever also creates the chain's head
    few = _queries(customer_service, 3)
    many = _queries(customer_service, 20)
    assert few == many
    inserts = [row for row in rows()]
    assert len(inserts) == 3 and len(subjects_of(inserts[2])) == 24


def test_the_log_adds_a_fixed_number_of_statements_to_a_list(customer_service):
    """Lock the head, then the row, its members and the head's move: one statement on
    PostgreSQL, three elsewhere."""
    place_order()
    customer_service.get("/en/backoffice/orders/order/")  # the first row ever also creates the head
    place_order()
    with CaptureQueriesContext(connection) as queries:
        customer_service.get("/en/backoffice/orders/order/")
    logged = [q["sql"] for q in queries if "privacy_accessloghead" in q["sql"] or "privacy_staffaccess" in q["sql"]]
    assert len(logged) == (2 if connection.vendor == "postgresql" else 4), logged


def test_the_retention_sweep_disposes_of_rows_past_two_years_and_no_sooner(customer_service):
    import datetime

    from kirakira.common import clock
    from kirakira.privacy.retention import sweep

    only = ("privacy.StaffAccessRecord:staff_access_2y",)
    first, second, third = _three_rows(customer_service)
    with clock.frozen_at(third.occurred_at + datetime.timedelta(days=365 * 2 - 2)):
        assert sweep.run(only=only).count() == 0
    with clock.frozen_at(third.occurred_at + datetime.timedelta(days=365 * 2 + 2)):
        result = sweep.run(only=only)
    assert result.totals[("staff_access_2y", "privacy.StaffAccessRecord", "deleted")].count == 3
    assert rows() == [] and chain.verify() == (0, None)


def test_the_policy_statement_follows_the_middleware(client, settings):
    from kirakira.privacy.policy.capabilities import provided

    assert provided("staff_access_log")
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "access_log" not in m]
    assert not provided("staff_access_log")


def test_the_back_office_home_repeats_no_record_names(client):
    """Django's "Recent actions" list would repeat the name of every record the staff member
    changed — often a member's — on a page that is no access to anyone's data."""
    administrator = StaffFactory(roles=[Role.ADMINISTRATOR])
    member = MemberFactory(name="履歴 花子")
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.create(
        user=administrator,
        content_type=ContentType.objects.get_for_model(member),
        object_id=str(member.pk),
        object_repr=str(member.name),
        action_flag=CHANGE,
    )
    client.force_login(administrator)
    body = client.get("/en/backoffice/").content.decode()
    assert "履歴 花子" not in body and "recent-actions-module" not in body
    assert rows() == []
