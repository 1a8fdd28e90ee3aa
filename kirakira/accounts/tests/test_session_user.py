"""The session's member is read with the session's row (``SessionUserBackend``): one query for
both, and never a member other than the session's, nor a stale one."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kirakira.accounts import session_tracking
from kirakira.common.testing import MemberFactory

pytestmark = pytest.mark.django_db


def _mypage(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/accounts/mypage/")
    return response, [q["sql"] for q in queries.captured_queries]


def test_the_session_and_its_member_are_read_in_one_query():
    member = MemberFactory(name="山田 花子")
    client = Client()
    client.force_login(member)
    client.get("/accounts/mypage/")  # records the session's last use
    response, sql = _mypage(client)
    assert response.status_code == 200
    assert response.wsgi_request.user == member
    session_reads = [s for s in sql if "accounts_browsersession" in s and s.lstrip().startswith("SELECT")]
    assert len(session_reads) == 1
    assert "accounts_user" in session_reads[0]  # joined
    user_reads = [s for s in sql if s.lstrip().startswith("SELECT") and 'FROM "accounts_user"' in s]
    assert user_reads == []


def test_a_member_deactivated_between_two_requests_is_logged_out_on_the_next():
    member = MemberFactory()
    client = Client()
    client.force_login(member)
    assert client.get("/accounts/mypage/").status_code == 200
    type(member).objects.filter(pk=member.pk).update(is_active=False)  # behind the model's back
    response = client.get("/accounts/mypage/")
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated


def test_a_changed_password_ends_the_session_as_before():
    member = MemberFactory()
    client = Client()
    client.force_login(member)
    assert client.get("/accounts/mypage/").status_code == 200
    stored = type(member).objects.get(pk=member.pk)
    stored.password = "argon2$changed-elsewhere"
    type(member).objects.filter(pk=member.pk).update(password=stored.password)
    response = client.get("/accounts/mypage/")
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated


def test_the_loaded_member_is_only_the_sessions_and_only_within_its_request():
    first, second = MemberFactory(), MemberFactory()
    one, two = Client(), Client()
    one.force_login(first)
    two.force_login(second)
    assert one.get("/accounts/mypage/").wsgi_request.user == first
    # After the request nothing is left for the next one to find.
    assert session_tracking.loaded_user(first.pk) is None
    assert two.get("/accounts/mypage/").wsgi_request.user == second
    assert one.get("/accounts/mypage/").wsgi_request.user == first


def test_a_session_whose_row_names_someone_else_gets_the_member_its_data_names():
    # The row's member column and the session's data disagree (a row edited by hand): the data
    # decides, as with Django's own backend, and the other member's row is never handed out.
    first, second = MemberFactory(), MemberFactory()
    client = Client()
    client.force_login(first)
    key = client.cookies["sessionid"].value
    from kirakira.accounts.models import BrowserSession

    BrowserSession.objects.filter(session_key=key).update(user=second)
    response = client.get("/accounts/mypage/")
    assert response.wsgi_request.session[SESSION_KEY] == str(first.pk)
    assert response.wsgi_request.user == first
