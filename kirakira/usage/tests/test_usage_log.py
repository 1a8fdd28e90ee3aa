"""The usage log (policy C1): one narrow row per request of a logged-in member, nothing more."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.usage.models import UsageRecord

MYPAGE = "/accounts/mypage/"
COLUMNS = ["member_id", "occurred_at", "ip_address", "method", "route", "status_code"]


def _only_record():
    records = list(UsageRecord.objects.all())
    assert len(records) == 1, records
    return records[0]


def _bearer(user):
    _instance, token = AuthToken.objects.create(user)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _usage_inserts(queries):
    table = UsageRecord._meta.db_table
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT") and table in q["sql"]]


# --- What one request records -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_members_request_records_exactly_one_row(client):
    member = MemberFactory()
    client.force_login(member)
    before = timezone.now()

    response = client.get(MYPAGE)

    after = timezone.now()
    assert response.status_code == 200
    record = _only_record()
    assert record.member_id == member.pk
    assert before - timedelta(seconds=1) <= record.occurred_at <= after
    assert record.ip_address == "127.0.0.1"
    assert record.method == "GET"
    assert record.route == "accounts:mypage"
    assert record.status_code == 200


@pytest.mark.django_db
def test_each_request_adds_one_row(client):
    member = MemberFactory()
    client.force_login(member)

    client.get(MYPAGE)
    client.get("/")
    client.get("/privacy/policy/")

    assert list(UsageRecord.objects.order_by("id").values_list("route", flat=True)) == [
        "accounts:mypage",
        "home",
        "privacy:policy",
    ]
    assert set(UsageRecord.objects.values_list("member_id", flat=True)) == {member.pk}


@pytest.mark.django_db
def test_the_route_name_is_the_same_in_every_language(client):
    client.force_login(MemberFactory())

    for path in (MYPAGE, "/en/accounts/mypage/", "/ko/accounts/mypage/"):
        client.get(path)

    assert list(UsageRecord.objects.values_list("route", flat=True)) == ["accounts:mypage"] * 3


@pytest.mark.django_db
def test_the_query_string_is_never_stored(client):
    client.force_login(MemberFactory())

    response = client.get(f"{MYPAGE}?secret=abc&lang=en")

    assert response.status_code == 200
    values = UsageRecord.objects.values_list(*COLUMNS).get()
    for value in values:
        # Not "abc": a UUID column may hold any hexadecimal run. "wxyz" never appears in one.
        assert "secret" not in str(value)
        assert "wxyz" not in str(value)
        assert "?" not in str(value)


@pytest.mark.django_db
def test_the_request_body_is_never_stored(client, django_capture_on_commit_callbacks):
    member = MemberFactory(email="member@example.com")
    client.force_login(member)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(MYPAGE, {"name": "secretwxyz", "email": "member@example.com"})

    record = _only_record()
    assert record.route == "accounts:mypage"
    assert record.method == "POST"
    for value in UsageRecord.objects.values_list(*COLUMNS).get():
        # Not "abc": a UUID column may hold any hexadecimal run. "wxyz" never appears in one.
        assert "secret" not in str(value)
        assert "wxyz" not in str(value)


@pytest.mark.django_db
def test_the_path_is_never_stored(client):
    client.force_login(MemberFactory())

    client.get("/accounts/confirm/c2VjcmV0/abc-secret/")

    record = _only_record()
    assert record.route == "accounts:confirm_email"
    for value in UsageRecord.objects.values_list(*COLUMNS).get():
        assert "secret" not in str(value)
        assert "c2VjcmV0" not in str(value)


@pytest.mark.django_db
def test_a_404_records_the_route_as_a_dash(client):
    client.force_login(MemberFactory())

    response = client.get("/accounts/no-such-page-secret/?q=abc")

    assert response.status_code == 404
    record = _only_record()
    assert record.route == "-"
    assert record.status_code == 404
    assert record.method == "GET"


@pytest.mark.django_db
def test_the_status_code_of_the_answer_is_recorded(client):
    client.force_login(MemberFactory())

    response = client.post(MYPAGE, {"name": "", "email": "not-an-email"})

    assert response.status_code == 400
    assert _only_record().status_code == 400


@pytest.mark.django_db
def test_a_redirect_is_recorded_with_its_status(client):
    client.force_login(MemberFactory())

    response = client.get("/accounts/login/")

    assert response.status_code == 302
    record = _only_record()
    assert (record.route, record.status_code) == ("accounts:login", 302)


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"])
@pytest.mark.django_db
def test_the_method_is_recorded(client, method):
    client.force_login(MemberFactory())

    client.generic(method, MYPAGE)

    assert _only_record().method == method


@pytest.mark.django_db
def test_an_over_long_method_is_cut_to_fit(client):
    client.force_login(MemberFactory())

    client.generic("VERYLONGMETHODNAME", MYPAGE)

    assert _only_record().method == "VERYLONGME"


# --- Who is recorded ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_anonymous_request_records_nothing(client):
    client.get("/")
    client.get("/accounts/login/")
    client.get(MYPAGE)
    client.get("/no-such-page/")

    assert not UsageRecord.objects.exists()


@pytest.mark.django_db
def test_a_staff_request_records_nothing(client):
    client.force_login(StaffFactory())

    client.get("/")
    client.get("/backoffice/")

    assert not UsageRecord.objects.exists()


@pytest.mark.django_db
def test_a_failed_login_records_nothing(client):
    member = MemberFactory()

    client.post("/accounts/login/", {"username": member.login_id, "password": "wrong-password-1"})

    assert not UsageRecord.objects.exists()


@pytest.mark.django_db
def test_logging_in_records_the_member(client):
    member = MemberFactory()

    response = client.post("/accounts/login/", {"username": member.login_id, "password": PASSWORD})

    assert response.status_code == 302
    record = _only_record()
    assert (record.member_id, record.route) == (member.pk, "accounts:login")


@pytest.mark.django_db
def test_an_api_request_with_a_bearer_token_is_recorded_for_the_member(client):
    member = MemberFactory()

    response = client.get("/api/v1/me", **_bearer(member))

    assert response.status_code == 200
    record = _only_record()
    assert record.member_id == member.pk
    assert record.route == "api_v1:me"
    assert record.method == "GET"
    assert record.status_code == 200


@pytest.mark.django_db
def test_an_api_change_is_recorded_without_its_body(client):
    member = MemberFactory()

    client.patch("/api/v1/me", '{"name": "secretabc"}', content_type="application/json", **_bearer(member))

    record = _only_record()
    assert (record.method, record.route, record.status_code) == ("PATCH", "api_v1:me", 200)
    for value in UsageRecord.objects.values_list(*COLUMNS).get():
        assert "secret" not in str(value)


@pytest.mark.django_db
def test_an_api_request_with_a_bad_token_records_nothing(client):
    MemberFactory()
    client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer " + "0" * 64)
    assert not UsageRecord.objects.exists()


@pytest.mark.django_db
def test_an_api_request_with_a_staff_token_records_nothing(client):
    client.get("/api/v1/me", **_bearer(StaffFactory()))
    assert not UsageRecord.objects.exists()


@pytest.mark.django_db
def test_an_unknown_api_path_with_a_session_is_recorded_as_a_dash(client):
    client.force_login(MemberFactory())

    client.get("/api/v1/no-such-thing")

    record = _only_record()
    assert (record.route, record.status_code) == ("-", 404)


@pytest.mark.django_db
def test_records_of_two_members_are_kept_apart(client):
    alice, bob = MemberFactory(), MemberFactory()

    client.get("/api/v1/me", **_bearer(alice))
    client.get("/api/v1/me", **_bearer(alice))
    client.get("/api/v1/me", **_bearer(bob))

    assert UsageRecord.objects.filter(member=alice).count() == 2
    assert UsageRecord.objects.filter(member=bob).count() == 1


@pytest.mark.django_db
def test_usage_log_can_be_switched_off(client, settings):
    settings.USAGE_LOG_ENABLED = False
    member = MemberFactory()
    client.force_login(member)

    client.get(MYPAGE)
    client.get("/api/v1/me", **_bearer(member))

    assert not UsageRecord.objects.exists()


# --- The client address ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_address_is_remote_addr(client):
    client.force_login(MemberFactory())

    client.get(MYPAGE, REMOTE_ADDR="203.0.113.7")

    assert _only_record().ip_address == "203.0.113.7"


@pytest.mark.django_db
def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, settings):
    settings.TRUSTED_PROXIES = []
    client.force_login(MemberFactory())

    client.get(MYPAGE, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert _only_record().ip_address == "203.0.113.7"


@pytest.mark.django_db
def test_forwarded_for_is_ignored_when_remote_addr_is_not_a_trusted_proxy(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    client.force_login(MemberFactory())

    client.get(MYPAGE, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert _only_record().ip_address == "203.0.113.7"


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_right_most_untrusted_entry_is_used(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    client.force_login(MemberFactory())

    client.get(MYPAGE, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7, 10.0.0.2")

    assert _only_record().ip_address == "203.0.113.7"


@pytest.mark.django_db
def test_garbage_forwarded_for_from_a_trusted_proxy_still_records_a_valid_address(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    client.force_login(MemberFactory())

    response = client.get(MYPAGE, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")

    assert response.status_code == 200
    assert _only_record().ip_address == "10.0.0.1"


@pytest.mark.django_db
def test_an_ipv6_address_is_recorded(client):
    client.force_login(MemberFactory())

    client.get(MYPAGE, REMOTE_ADDR="2001:db8::7")

    assert _only_record().ip_address == "2001:db8::7"


@pytest.mark.django_db
def test_an_api_request_records_the_client_behind_a_trusted_proxy(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    member = MemberFactory()

    client.get("/api/v1/me", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9", **_bearer(member))

    assert _only_record().ip_address == "203.0.113.9"


# --- Cost: one INSERT per request ---------------------------------------------------------------

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def _work(queries):
    """The statements that do work, without the transaction control around them (a savepoint
    inside the test's transaction, BEGIN/COMMIT on PostgreSQL in autocommit)."""
    return [q["sql"] for q in queries if not q["sql"].strip().upper().startswith(TRANSACTION_CONTROL)]


def _queries_of(client, path, **extra):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **extra)
    assert response.status_code == 200
    return captured.captured_queries


def _compare_with_and_without_log(client, settings, path, **extra):
    client.get(path, **extra)  # warm up anything cached per process
    with_log = _queries_of(client, path, **extra)
    settings.USAGE_LOG_ENABLED = False
    without_log = _queries_of(client, path, **extra)
    settings.USAGE_LOG_ENABLED = True
    return with_log, without_log


@pytest.mark.django_db
def test_a_member_page_has_a_fixed_number_of_queries(client, django_assert_num_queries):
    client.force_login(MemberFactory())
    client.get(MYPAGE)
    queries = _queries_of(client, MYPAGE)

    for _ in range(3):
        with django_assert_num_queries(len(queries)):
            client.get(MYPAGE)
    # Session, user, the policy-change notice, the terms-change notice, the staff notices, the
    # member's last accepted policy version, the answered consultations, the count of incident
    # notices and the log's INSERT; nothing per row.
    assert len(_work(queries)) <= 9
    assert len(queries) - len(_work(queries)) <= 2


@pytest.mark.django_db
def test_the_log_adds_exactly_one_insert_to_a_page(client, settings):
    client.force_login(MemberFactory())

    with_log, without_log = _compare_with_and_without_log(client, settings, MYPAGE)

    assert len(_work(with_log)) == len(_work(without_log)) + 1
    assert len(_usage_inserts(with_log)) == 1
    assert _usage_inserts(without_log) == []
    # At most a savepoint and its release around it, never more round trips.
    assert len(with_log) - len(without_log) <= 3


@pytest.mark.django_db
def test_the_log_adds_exactly_one_insert_to_an_api_request(client, settings):
    auth = _bearer(MemberFactory())

    with_log, without_log = _compare_with_and_without_log(client, settings, "/api/v1/me", **auth)

    assert len(_work(with_log)) == len(_work(without_log)) + 1
    assert len(_usage_inserts(with_log)) == 1
    assert len(with_log) - len(without_log) <= 3


@pytest.mark.django_db
def test_the_cost_of_the_log_is_the_same_on_every_request(client):
    client.force_login(MemberFactory())
    client.get(MYPAGE)

    counts = {len(_queries_of(client, MYPAGE)) for _ in range(5)}

    assert len(counts) == 1
    assert UsageRecord.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_the_log_adds_one_insert_and_few_round_trips(client, settings):
    """Outside a test transaction the middleware runs as in production."""
    member = MemberFactory()
    client.force_login(member)

    with_log, without_log = _compare_with_and_without_log(client, settings, MYPAGE)

    assert len(_usage_inserts(with_log)) == 1
    extra_work = len(_work(with_log)) - len(_work(without_log))
    if connection.vendor == "postgresql":
        # synchronous_commit is switched off for the log's own transaction (see the middleware).
        assert extra_work in (1, 2)
        assert any("synchronous_commit" in sql.lower() for sql in _work(with_log))
        assert len(with_log) - len(without_log) <= 4
    else:
        assert extra_work == 1
        assert len(with_log) - len(without_log) == 1
    assert UsageRecord.objects.filter(member=member).count() == 2


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_the_row_is_committed_with_the_right_values(client):
    member = MemberFactory()
    client.force_login(member)

    client.get(f"{MYPAGE}?secret=abc", REMOTE_ADDR="203.0.113.7")

    record = _only_record()
    assert (record.member_id, record.route, record.status_code, record.ip_address, record.method) == (
        member.pk,
        "accounts:mypage",
        200,
        "203.0.113.7",
        "GET",
    )
    assert connection.get_autocommit()
    assert not connection.in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_the_relaxed_durability_does_not_leak_into_the_connection(client):
    client.force_login(MemberFactory())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            before = cursor.fetchone()[0]

    client.get(MYPAGE)
    client.get(MYPAGE)

    assert UsageRecord.objects.count() == 2
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == before


# --- A failure to log -----------------------------------------------------------------------------


def _failing_usage_insert(execute, sql, params, many, context):
    if sql.lstrip().upper().startswith("INSERT") and UsageRecord._meta.db_table in sql:
        raise DatabaseError("disk full")
    return execute(sql, params, many, context)


@pytest.mark.django_db
def test_a_failure_to_log_does_not_fail_the_request(client):
    member = MemberFactory()
    client.force_login(member)

    with connection.execute_wrapper(_failing_usage_insert):
        response = client.get(MYPAGE)

    assert response.status_code == 200
    assert not UsageRecord.objects.exists()
    # The test's transaction is still usable: the failure did not poison it.
    client.get(MYPAGE)
    assert UsageRecord.objects.filter(member=member).count() == 1


@pytest.mark.django_db
def test_a_failure_to_log_an_api_request_does_not_fail_it(client):
    auth = _bearer(MemberFactory())

    with connection.execute_wrapper(_failing_usage_insert):
        response = client.get("/api/v1/me", **auth)

    assert response.status_code == 200
    assert response.json()["id"]


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_failure_to_log_leaves_the_connection_usable(client):
    member = MemberFactory()
    client.force_login(member)

    with connection.execute_wrapper(_failing_usage_insert):
        assert client.get(MYPAGE).status_code == 200

    assert client.get(MYPAGE).status_code == 200
    assert UsageRecord.objects.filter(member=member).count() == 1
    assert connection.get_autocommit()
    assert not connection.in_atomic_block
