"""Rights requests as the member makes them (policy C7): the identity check (password and a
mailed 6-digit code: 10 minutes, 5 tries, counted by the login's lockout), the pages and the API,
and every bad input refused with nothing changed."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from kirakira.common import clock
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.orders.models import Order
from kirakira.orders.testing import place_order
from kirakira.privacy.rights import freeze, restriction
from kirakira.privacy.rights.models import IdentityCode, RightsRequest

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


_commits = None


@pytest.fixture(autouse=True)
def _run_on_commit(django_capture_on_commit_callbacks):
    # Emails and the export are queued for after the commit, which a test's transaction never
    # reaches: run them when each request ends.
    global _commits
    _commits = django_capture_on_commit_callbacks


def committed(call, *args, execute=True, **kwargs):
    with _commits(execute=execute):
        return call(*args, **kwargs)


@pytest.fixture
def member():
    return MemberFactory(password=make_password(PASSWORD), language="en")


def api(method, url, data=None, *, token=None, execute=True):
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    body = json.dumps(data) if data is not None else ""
    return committed(
        Client().generic, method, url, body, content_type="application/json", execute=execute, **headers
    )


def token_of(user) -> str:
    response = api("POST", "/api/v1/auth/token", {"login_id": user.login_id, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def mailed_code() -> str:
    message = mail.outbox[-1]
    found = CODE.findall(message.body)
    assert len(found) == 1, message.body
    assert found[0] not in message.subject
    return found[0]


def ask_code(token) -> str:
    response = api("POST", "/api/v1/privacy/identity-code", token=token)
    assert response.status_code == 202, response.content
    assert response.json() == {"sent": True, "expires_in": 600, "tries": 5}
    return mailed_code()


def failures(login_id) -> int:
    return sum(AccessAttempt.objects.filter(username=login_id).values_list("failures_since_start", flat=True))


def request_body(kind="restriction", code="", **extra):
    body = {"kind": kind, "password": PASSWORD, "identity_code": code}
    if kind == "restriction":
        body.setdefault("scope", "notices")
    body.update(extra)
    return body


# --- the identity check -------------------------------------------------------------------------


def test_a_mailed_code_and_the_password_let_a_request_in_and_the_code_works_once(member):
    token = token_of(member)
    with clock.frozen_at(T0):
        code = ask_code(token)
        response = api("POST", "/api/v1/privacy/requests", request_body(code=code), token=token)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "received" and body["kind"] == "restriction"
    assert body["due_at"] == "2026-12-11T18:00:00+09:00"  # 10 days, shown in Japan's time
    assert restriction.is_stopped(member.pk, "notices")
    # Spent: the same code does not let a second request in.
    with clock.frozen_at(T0 + timedelta(minutes=1)):
        again = api(
            "POST", "/api/v1/privacy/requests", request_body(code=code, scope="usage_log"), token=token
        )
    assert again.status_code == 400
    assert "identity_code" in again.json()["errors"]
    assert RightsRequest.objects.filter(member=member).count() == 1


def test_a_code_expires_after_10_minutes(member):
    token = token_of(member)
    with clock.frozen_at(T0):
        code = ask_code(token)
    with clock.frozen_at(T0 + timedelta(minutes=10, seconds=1)):
        response = api("POST", "/api/v1/privacy/requests", request_body(code=code), token=token)
    assert response.status_code == 400
    assert "expired" in response.json()["errors"]["identity_code"][0]
    assert not RightsRequest.objects.exists()


def test_five_wrong_tries_kill_the_code_and_each_counts_as_a_failed_login(member, settings):
    settings.AXES_FAILURE_LIMIT = 20  # watch the count, not the lockout
    token = token_of(member)
    with clock.frozen_at(T0):
        code = ask_code(token)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for attempt in range(5):
            response = api("POST", "/api/v1/privacy/requests", request_body(code=wrong), token=token)
            assert response.status_code == 400, attempt
        assert failures(member.login_id) == 5
        # The sixth try, even with the right code, is refused: a new code is needed.
        sixth = api("POST", "/api/v1/privacy/requests", request_body(code=code), token=token)
    assert sixth.status_code == 400
    assert "too many times" in sixth.json()["errors"]["identity_code"][0]
    assert not RightsRequest.objects.exists()
    assert IdentityCode.objects.get().tries == 5


def test_wrong_codes_lock_the_login_id_out_like_wrong_passwords(member, settings):
    settings.AXES_FAILURE_LIMIT = 3
    token = token_of(member)
    code = ask_code(token)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    statuses = [
        api("POST", "/api/v1/privacy/requests", request_body(code=wrong), token=token).status_code
        for _ in range(3)
    ]
    assert statuses[:2] == [400, 400] and statuses[2] == 429
    assert (
        api("POST", "/api/v1/auth/token", {"login_id": member.login_id, "password": PASSWORD}).status_code
        == 429
    )


def test_a_wrong_password_is_refused_before_the_code_is_tried(member, settings):
    settings.AXES_FAILURE_LIMIT = 20
    token = token_of(member)
    code = ask_code(token)
    response = api(
        "POST", "/api/v1/privacy/requests", request_body(code=code, password="not-the-password"), token=token
    )
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert failures(member.login_id) == 1
    assert IdentityCode.objects.get().tries == 0  # the code is still good
    assert api("POST", "/api/v1/privacy/requests", request_body(code=code), token=token).status_code == 202


def test_a_new_code_replaces_the_one_before_and_codes_are_limited_per_hour(member):
    token = token_of(member)
    with clock.frozen_at(T0):
        first = ask_code(token)
        second = ask_code(token)
        for _ in range(3):
            ask_code(token)
        refused = api("POST", "/api/v1/privacy/identity-code", token=token)
        assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
        if first != second:
            old = api("POST", "/api/v1/privacy/requests", request_body(code=first), token=token)
            assert old.status_code == 400


def test_without_a_code_nothing_is_received(member):
    token = token_of(member)
    response = api("POST", "/api/v1/privacy/requests", request_body(code="123456"), token=token)
    assert response.status_code == 400
    assert "never sent" in response.json()["errors"]["identity_code"][0]
    assert not RightsRequest.objects.exists()


# --- the API -----------------------------------------------------------------------------------------


def test_a_second_export_while_the_first_is_building_is_a_conflict(member):
    token = token_of(member)
    # The export's build is left queued (not run), as when the worker has not reached it yet.
    code = ask_code(token)
    first = api(
        "POST", "/api/v1/privacy/requests", request_body("export", code=code), token=token, execute=False
    )
    assert first.status_code == 202
    assert first.json()["status"] in ("received", "building")
    second = api("POST", "/api/v1/privacy/requests", request_body("export", code="000000"), token=token)
    assert second.status_code == 409
    assert "still being prepared" in second.json()["message"]
    assert RightsRequest.objects.filter(member=member, kind="export").count() == 1


def test_a_correction_names_a_field_of_the_members_own_records(member):
    order = place_order(member=member)
    other = place_order(member=MemberFactory())
    token = token_of(member)
    base = {"wrong_value": "kira.kira", "right_value": "kira.kira2"}
    cases = [
        (
            {"target": "orders.Nothing", "target_id": str(order.pk), "target_field": "sns_account_id"},
            "target",
        ),
        ({"target": "orders.Order", "target_id": str(order.pk), "target_field": "no_such"}, "target_field"),
        (
            {"target": "orders.Order", "target_id": str(order.pk), "target_field": "phone_index"},
            "target_field",
        ),
        (
            {"target": "orders.Order", "target_id": str(other.pk), "target_field": "sns_account_id"},
            "target_id",
        ),
        (
            {"target": "orders.Order", "target_id": "not-a-uuid", "target_field": "sns_account_id"},
            "target_id",
        ),
        # An open order's phone is changed by the member on the order's page.
        ({"target": "orders.Order", "target_id": str(order.pk), "target_field": "phone"}, "target_field"),
    ]
    for target, field in cases:
        response = api(
            "POST",
            "/api/v1/privacy/requests",
            request_body("correction", code="000000", **base, **target),
            token=token,
        )
        assert response.status_code == 400, target
        assert field in response.json()["errors"], (target, response.json())
    assert not RightsRequest.objects.exists()
    assert not IdentityCode.objects.exists()  # refused before the identity check: no code spent or tried

    code = ask_code(token)
    target = {"target": "orders.Order", "target_id": str(order.pk), "target_field": "sns_account_id"}
    ok = api(
        "POST",
        "/api/v1/privacy/requests",
        request_body("correction", code=code, **base, **target),
        token=token,
    )
    assert ok.status_code == 202, ok.content
    assert freeze.is_frozen(Order.objects.get(pk=order.pk), field="sns_account_id")
    assert not freeze.is_frozen(Order.objects.get(pk=order.pk), field="note")


def test_requests_are_listed_for_their_member_only(member):
    token = token_of(member)
    made = api("POST", "/api/v1/privacy/requests", request_body(code=ask_code(token)), token=token).json()
    listed = api("GET", "/api/v1/privacy/requests", token=token)
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["results"]] == [made["id"]]
    assert (
        api("GET", f"/api/v1/privacy/requests/{made['id']}", token=token).json()["reference"]
        == made["reference"]
    )
    stranger = token_of(MemberFactory(password=make_password(PASSWORD)))
    assert api("GET", f"/api/v1/privacy/requests/{made['id']}", token=stranger).status_code == 404
    assert api("GET", "/api/v1/privacy/requests/nonsense", token=stranger).status_code == 404
    assert api("GET", "/api/v1/privacy/requests", token=stranger).json()["results"] == []


def test_staff_are_sent_to_the_officer():
    staff = StaffFactory(password=make_password(PASSWORD))
    token = token_of(staff)
    response = api("POST", "/api/v1/privacy/identity-code", token=token)
    assert response.status_code == 403
    assert not IdentityCode.objects.exists()


def test_unknown_fields_and_kinds_are_refused(member):
    token = token_of(member)
    response = api(
        "POST", "/api/v1/privacy/requests", {**request_body(code="1"), "colour": "red"}, token=token
    )
    assert response.status_code == 400
    assert "colour" in response.json()["errors"]
    response = api("POST", "/api/v1/privacy/requests", request_body("everything", code="123456"), token=token)
    assert response.status_code == 400 and "kind" in response.json()["errors"]


# --- the pages ------------------------------------------------------------------------------------------


def test_the_member_stops_notices_from_the_page_and_lifts_the_stop(client, member):
    client.force_login(member)
    page = client.get("/en/privacy/requests/new/restriction/")
    assert page.status_code == 200
    assert "Email me a code" in page.content.decode()
    sent = committed(client.post, "/en/privacy/requests/identity-code/", {"next": "restriction_request"})
    assert sent.status_code == 302 and sent["Location"].endswith("/privacy/requests/new/restriction/")
    code = mailed_code()
    wrong = client.post(
        "/en/privacy/requests/new/restriction/",
        {"scope": "notices", "password": "nope", "identity_code": code},
    )
    assert wrong.status_code == 400
    assert "The password is incorrect" in wrong.content.decode()
    assert not RightsRequest.objects.exists()
    done = committed(
        client.post,
        "/en/privacy/requests/new/restriction/",
        {"scope": "notices", "password": PASSWORD, "identity_code": code},
    )
    assert done.status_code == 302
    rights_request = RightsRequest.objects.get()
    assert restriction.is_stopped(member.pk, "notices")
    assert not restriction.is_stopped(member.pk, "usage_log")
    detail = client.get(done["Location"])
    assert "This stop of processing is in force." in detail.content.decode()
    assert "we received your request" in mail.outbox[-1].subject
    client.post(f"/en/privacy/requests/{rights_request.pk}/lift/")
    assert not restriction.is_stopped(member.pk, "notices")
    listed = client.get("/en/privacy/requests/")
    assert rights_request.reference in listed.content.decode()


def test_a_correction_page_shows_the_members_fields_and_refuses_anothers(client, member):
    order = place_order(member=member)
    other = place_order(member=MemberFactory())
    client.force_login(member)
    query = f"?target=orders.Order&target_id={order.pk}&target_field=sns_account_id"
    page = client.get(f"/en/privacy/requests/new/correction/{query}")
    html = page.content.decode()
    assert f'value="orders.Order|{order.pk}|sns_account_id" selected' in html
    assert str(other.pk) not in html
    committed(client.post, "/en/privacy/requests/identity-code/", {"next": "correction_request"})
    forged = client.post(
        "/en/privacy/requests/new/correction/",
        {
            "what": f"orders.Order|{other.pk}|sns_account_id",
            "wrong_value": "a",
            "right_value": "b",
            "password": PASSWORD,
            "identity_code": mailed_code(),
        },
    )
    assert forged.status_code == 400
    assert not RightsRequest.objects.exists()


def test_another_members_request_page_is_not_found(client, member):
    rights_request = RightsRequest.objects.create(
        member=MemberFactory(), kind="restriction", scope="notices", due_at=clock.now() + timedelta(days=10)
    )
    client.force_login(member)
    assert client.get(f"/en/privacy/requests/{rights_request.pk}/").status_code == 404
    assert client.post(f"/en/privacy/requests/{rights_request.pk}/lift/").status_code == 404
    assert restriction.is_stopped(rights_request.member_id, "notices")


def test_the_request_pages_speak_japanese(client):
    client.force_login(MemberFactory(language="ja"))
    page = client.get("/privacy/requests/new/export/")
    assert page.status_code == 200
    assert "確認コード" in page.content.decode()


def test_withdrawal_answers_the_open_requests_and_drops_the_codes(member):
    from kirakira.privacy.retention.withdrawal import member_withdraw
    from kirakira.privacy.rights.identity import code_send

    open_request = RightsRequest.objects.create(
        member=member, kind="restriction", scope="all", due_at=clock.now() + timedelta(days=10)
    )
    code_send(member)
    member_withdraw(user=member, checked_hash=member.password)
    open_request.refresh_from_db()
    assert open_request.status == "done"
    assert open_request.answer == "Closed: you withdrew from membership."
    assert not IdentityCode.objects.filter(member=member).exists()


def test_a_stop_in_force_is_kept_and_an_answered_request_goes_a_year_after_its_answer(member):
    from kirakira.privacy.retention import sweep

    def made(**fields):
        return RightsRequest.objects.create(
            member=member, due_at=T0 + timedelta(days=10), received_at=T0, **fields
        )

    in_force = made(kind="restriction", scope="all", status="done", decided_at=T0)
    lifted = made(
        kind="restriction",
        scope="notices",
        status="lifted",
        decided_at=T0,
        lifted_at=T0 + timedelta(days=200),
    )
    refused = made(kind="deletion", entries=["x"], status="refused", ground=1, answer="a", decided_at=T0)
    still_open = made(kind="restriction", scope="usage_log")
    with clock.frozen_at(T0 + timedelta(days=366)):
        sweep.run()
    assert set(RightsRequest.objects.values_list("pk", flat=True)) == {in_force.pk, lifted.pk, still_open.pk}
    assert refused.pk not in set(RightsRequest.objects.values_list("pk", flat=True))
    with clock.frozen_at(T0 + timedelta(days=200 + 366)):
        sweep.run()
    assert set(RightsRequest.objects.values_list("pk", flat=True)) == {in_force.pk, still_open.pk}


# --- what the review of the services found ------------------------------------------------------------


def _open(member, **fields) -> RightsRequest:
    return RightsRequest.objects.create(member=member, due_at=clock.now() + timedelta(days=10), **fields)


def test_an_export_finished_after_a_refusal_leaves_no_file_and_no_link(member, settings, tmp_path):
    from kirakira.privacy.rights import export_files, services

    settings.EXPORT_DIR = tmp_path
    request = _open(member, kind="export")
    staff = StaffFactory()
    services.request_refuse(request.pk, actor=staff, ground=1, answer="A court order forbids it.")
    writer = export_files.EncryptedWriter(request, export_files.path_of(request))
    writer.write(b"PK")
    size = writer.close()
    with _commits(execute=True):
        services.export_ready(request.pk, file_name="x.zip", file_size=size)
    request.refresh_from_db()
    assert request.status == "refused" and request.ground == 1 and not request.file_name
    assert not export_files.path_of(request).exists()


def test_a_file_is_not_offered_for_correction_and_a_payment_is_corrected_by_a_reversal(member):
    from kirakira.consultations.testing import open_for_member, upload
    from kirakira.orders.testing import record_payment
    from kirakira.privacy.rights import correction, services
    from kirakira.privacy.rights.correction import correctable

    assert "content" not in correctable()["consultations.Attachment"][1]
    consultation = open_for_member(member, files=[upload()])
    attachment = consultation.messages.get().attachments.get()
    with pytest.raises(ValidationError) as refused:
        correction.clean(
            member,
            {
                "target": "consultations.Attachment",
                "target_id": str(attachment.pk),
                "target_field": "content",
                "wrong_value": "a",
                "right_value": "b",
            },
        )
    assert "target_field" in refused.value.message_dict

    order = place_order(member=member)
    payment = record_payment(order)
    request = _open(
        member,
        kind="correction",
        target="orders.Payment",
        target_id=str(payment.pk),
        target_field="payer_name",
        wrong_value=payment.payer_name,
        right_value="ヤマダ ハナコ",
    )
    staff = StaffFactory()
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        services.request_complete(request.pk, actor=staff)
    assert "A payment record is never changed" in refused.value.message_dict["value"][0]
    request.refresh_from_db()
    assert request.status == "received"
    services.request_complete(request.pk, actor=staff, write=False, answer="Reversed and recorded again.")
    request.refresh_from_db()
    assert request.status == "done"
    assert not freeze.is_frozen("orders.Payment", payment.pk, "payer_name")


def test_a_corrected_phone_is_cleaned_and_its_index_follows(member):
    from kirakira.privacy.rights import services

    order = place_order(member=member)
    staff = StaffFactory()
    Order.objects.filter(pk=order.pk).update(
        status="completed"
    )  # its phone is no longer the member's to change
    request = _open(
        member,
        kind="correction",
        target="orders.Order",
        target_id=str(order.pk),
        target_field="phone",
        wrong_value="old",
        right_value="０９０－９９９９－８８８８",  # as an IME types it
    )
    services.request_complete(request.pk, actor=staff)
    order = Order.objects.get(pk=order.pk)
    assert order.phone == "090-9999-8888"
    assert Order.objects.filter(phone_index=Order.phone_index_of("090-9999-8888")).exists()


def test_a_failed_reminder_is_sent_on_the_next_run(member, monkeypatch):
    from kirakira.common.roles import Role
    from kirakira.privacy.rights import emails, reminders

    StaffFactory(roles=[Role.PRIVACY_STAFF], language="en")
    request = _open(member, kind="restriction", scope="notices")

    def down(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(emails, "send_staff_reminder", down)
    with pytest.raises(ConnectionRefusedError):
        reminders.remind_due(now=clock.now() + timedelta(days=8))
    request.refresh_from_db()
    assert request.reminded_at is None
    monkeypatch.undo()
    assert reminders.remind_due(now=clock.now() + timedelta(days=8)) == 1
    assert "due within 3 days" in mail.outbox[-1].subject


def test_deleting_the_requests_keeps_an_export_whose_link_still_works(member):
    from kirakira.privacy.rights import services
    from kirakira.privacy.rights.deletion import clean_entries

    now = clock.now()
    live = _open(
        member,
        kind="export",
        status="done",
        decided_at=now,
        file_name="f.zip",
        expires_at=now + timedelta(days=3),
    )
    old = _open(member, kind="restriction", scope="notices", status="lifted", decided_at=now, lifted_at=now)
    entries = clean_entries(member, ["privacy.RightsRequest"])
    deletion = _open(member, kind="deletion", entries=entries)
    services.request_complete(deletion.pk, actor=StaffFactory())
    left = set(RightsRequest.objects.values_list("pk", flat=True))
    assert live.pk in left and deletion.pk in left
    assert old.pk not in left


def test_the_member_is_told_why_staff_were_refused(member):
    from django.test import RequestFactory

    from kirakira.privacy.access_log import transparency

    order = place_order(member=member)
    _open(
        member,
        kind="correction",
        target="orders.Order",
        target_id=str(order.pk),
        target_field="note",
        wrong_value="a",
        right_value="b",
    )
    staff_request = RequestFactory().get("/admin/")
    staff_request.user = StaffFactory()
    with pytest.raises(freeze.FieldFrozen):
        freeze.refuse_use(Order.objects.get(pk=order.pk), "note", request=staff_request)
    (access,) = [transparency.access(record) for record in transparency.accesses_of(member)]
    assert access.refused
    with translation.override("en"):
        assert str(access.reason) == "Refused: the information is under correction at your request."
