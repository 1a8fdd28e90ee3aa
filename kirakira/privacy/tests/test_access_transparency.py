"""Access transparency (policy C10, issue 12 part 5): a member sees every access of staff to
their own data — on "my page" and through the API — by role and pseudonym, never by name; and
nobody else's. The accesses are made for real: back-office requests (logged by the middleware)
and reveals."""

import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from kirakira.accounts import services as account_services
from kirakira.api.testing import error_body
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import lifecycle
from kirakira.orders.models import Refund
from kirakira.orders.testing import place_order, record_payment
from kirakira.privacy.access_log import transparency
from kirakira.privacy.audit.reveal import reveal
from kirakira.privacy.catalog import Item
from kirakira.privacy.models import StaffAccessRecord
from kirakira.privacy.policy.capabilities import CAPABILITIES, forced

pytestmark = pytest.mark.django_db

PAGE = "/en/privacy/access-log/"
API = "/api/v1/privacy/access-log"
REASON = "返金の振込のため確認します"
STAFF_ADDRESS = "198.51.100.4"
ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "1234567",
    "account_holder": "ヤマダ ハナコ",
}


def staff_client(staff) -> Client:
    client = Client(REMOTE_ADDR=STAFF_ADDRESS)
    client.force_login(staff)
    return client


def member_client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def api_client(user) -> Client:
    _instance, token = account_services.member_token_create(user=user, client="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")


def refund_of(member) -> Refund:
    order = place_order(member=member)
    record_payment(order)
    lifecycle.order_cancel(
        order_id=order.pk, member=member, reason="キャンセルします", refund_account=ACCOUNT
    )
    return Refund.objects.get(order=order)


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr data-access="(\d+)"', html)


def page_of(client, url=PAGE) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def api_results(client, url=API) -> list[dict]:
    results = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        results += body["results"]
        url = body["next"]
    return results


@pytest.fixture
def customer_service():
    return StaffFactory(roles=[Role.CUSTOMER_SERVICE], login_id="cs_hoshino", name="星野 サポート")


@pytest.fixture
def accountant():
    return StaffFactory(roles=[Role.ACCOUNTING], login_id="acct_mizuno", name="水野 経理")


@pytest.fixture
def accessed(customer_service, accountant):
    """Two members; customer service lists both members' orders and opens Hana's order; an
    accountant reveals Hana's refund account number with a reason."""
    hana, taro = MemberFactory(), MemberFactory()
    order = place_order(member=hana)
    place_order(member=taro)
    refund = refund_of(hana)
    desk = staff_client(customer_service)
    assert desk.get("/en/backoffice/orders/order/").status_code == 200
    assert desk.get(f"/en/backoffice/orders/order/{order.pk}/change/").status_code == 200
    reveal(actor=accountant, instance=refund, field_name="account_number", reason=REASON, request=None)
    return {"hana": hana, "taro": taro, "order": order, "refund": refund}


# --- What a member sees ------------------------------------------------------------------------


def test_a_member_sees_every_access_to_their_data_newest_first(accessed, customer_service, accountant):
    html = page_of(member_client(accessed["hana"]))
    records = list(
        StaffAccessRecord.objects.filter(subjects__subject_id=accessed["hana"].pk).order_by("-seq")
    )
    assert [r.action for r in records] == ["reveal", "view", "list"]
    assert rows_of(html) == [str(r.seq) for r in records]
    reveal_row, view_row, list_row = re.findall(r"<tr data-access.*?</tr>", html, re.S)
    assert "revealed in full" in reveal_row and "Accounting" in reveal_row
    assert "Account number" in reveal_row and REASON in reveal_row
    assert "viewed" in view_row and "Customer service" in view_row
    assert "viewed in a list" in list_row
    # The items in the policy's words, once each; never a model path.
    assert "orders.Refund" not in html and "account_number" not in html and "orders.Order" not in html
    assert reveal_row.count("Account number") == 1


def test_a_member_sees_nobody_elses_accesses(accessed):
    taro_html = page_of(member_client(accessed["taro"]))
    [only] = rows_of(taro_html)
    listed = StaffAccessRecord.objects.get(action="list")
    assert only == str(listed.seq)
    assert REASON not in taro_html
    # A member nobody looked at sees none, and is told so.
    stranger = page_of(member_client(MemberFactory()))
    assert rows_of(stranger) == [] and "No member of our staff has accessed your information" in stranger


def test_no_url_names_another_member(accessed):
    client = member_client(accessed["taro"])
    # Whatever the query says, the list is the signed-in member's own.
    html = page_of(client, f"{PAGE}?member={accessed['hana'].pk}&subject_id={accessed['hana'].pk}")
    assert REASON not in html and len(rows_of(html)) == 1
    assert client.get(f"/en/privacy/access-log/{accessed['hana'].pk}/").status_code == 404


def test_staff_appear_by_role_and_a_stable_pseudonym_never_by_name(accessed, customer_service, accountant):
    hana = accessed["hana"]
    html = page_of(member_client(hana))
    api_body = api_client(hana).get(API).content.decode()
    cs_name = transparency.staff_pseudonym(customer_service.pk)
    accounting_name = transparency.staff_pseudonym(accountant.pk)
    assert re.fullmatch(r"Staff [0-9A-Z]{4}-[0-9A-Z]{2}", cs_name)
    assert cs_name != accounting_name
    # The same person is the same pseudonym on each row (two rows of customer service's).
    assert html.count(cs_name) == 2 and html.count(accounting_name) == 1
    assert api_body.count(transparency.pseudonym_code(customer_service.pk)) == 2
    for body in (html, api_body):
        for staff in (customer_service, accountant):
            assert staff.login_id not in body and staff.name not in body
            assert str(staff.pk) not in body
        # Nor where they worked from or the page they used.
        assert STAFF_ADDRESS not in body and "backoffice" not in body
        for record in StaffAccessRecord.objects.exclude(request_id=""):
            assert record.request_id not in body


def test_the_pseudonym_is_stable_and_unlinkable_without_the_key(accountant, monkeypatch):
    first = transparency.pseudonym_code(accountant.pk)
    assert transparency.pseudonym_code(accountant.pk) == first
    assert transparency.pseudonym_code(StaffFactory().pk) != first
    # Keyed: with another key (which a member would have to guess) another pseudonym.
    monkeypatch.setattr(transparency, "keyring", lambda: SimpleNamespace(blind_index_key=b"k" * 32))
    assert transparency.pseudonym_code(accountant.pk) != first


def test_a_refused_access_is_shown_as_refused(customer_service):
    """Customer service may not open a refund: refused, and the member whose refund it was sees
    the refusal, with why in words."""
    member = MemberFactory()
    refund = refund_of(member)
    response = staff_client(customer_service).get(f"/en/backoffice/orders/refund/{refund.pk}/change/")
    assert response.status_code == 403
    html = page_of(member_client(member))
    [row] = re.findall(r"<tr data-access.*?</tr>", html, re.S)
    assert "data-refused" in row and "<strong>refused</strong>" in row
    assert "Refused: their role does not allow it." in row
    [result] = api_results(api_client(member))
    assert result["refused"] is True and result["action"] == "refused"
    assert result["reason"] == "Refused: their role does not allow it."


def test_my_page_links_to_the_accesses(accessed):
    html = page_of(member_client(accessed["hana"]), "/en/accounts/mypage/")
    assert f'href="{PAGE}"' in html


def test_the_page_needs_a_login():
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
def test_the_page_is_in_the_members_language(accessed, language):
    url = "/privacy/access-log/" if language == "ja" else f"/{language}/privacy/access-log/"
    html = page_of(member_client(accessed["hana"]), url)
    assert f'<html lang="{language}">' in html
    with translation.override(language):
        expected = [
            str(translation.gettext("Staff access to your information")),
            str(StaffAccessRecord.Action.REVEAL.label),
            str(Item.ACCOUNT_NUMBER.label),
            str(Role.ACCOUNTING.label),
        ]
    for text in expected:
        assert text in html, (language, text)
    if language != "en":
        # The catalog's item labels are translated already: the page is not English.
        assert "Account number" not in html


# --- The API -------------------------------------------------------------------------------------


def test_the_api_returns_what_the_page_shows(accessed, accountant):
    hana = accessed["hana"]
    results = api_results(api_client(hana))
    html = page_of(member_client(hana))
    assert [str(result["id"]) for result in results] == rows_of(html)
    revealed = results[0]
    assert revealed == {
        "id": revealed["id"],
        "occurred_at": revealed["occurred_at"],
        "staff": transparency.pseudonym_code(accountant.pk),
        "roles": [{"code": "accounting", "label": "Accounting"}],
        "action": "reveal",
        "action_label": "revealed in full",
        "data": [{"code": "account_number", "label": "Account number"}],
        "reason": REASON,
        "refused": False,
    }
    assert [result["action"] for result in results] == ["reveal", "view", "list"]
    assert "orders." not in str(results)


def test_the_api_answers_in_the_language_asked(accessed):
    client = api_client(accessed["hana"])
    response = client.get(API, HTTP_ACCEPT_LANGUAGE="ja")
    revealed = response.json()["results"][0]
    with translation.override("ja"):
        assert revealed["data"][0]["label"] == str(Item.ACCOUNT_NUMBER.label) != "Account number"
        assert revealed["action_label"] == str(StaffAccessRecord.Action.REVEAL.label)


def test_one_access_by_its_id_and_a_404_for_anyone_elses(accessed):
    hana_api, taro_api = api_client(accessed["hana"]), api_client(accessed["taro"])
    revealed = StaffAccessRecord.objects.get(action="reveal")
    response = hana_api.get(f"{API}/{revealed.seq}")
    assert response.status_code == 200
    assert response.json() == api_results(hana_api)[0]
    # Taro's answer for Hana's access is the answer for one that does not exist.
    theirs = error_body(taro_api.get(f"{API}/{revealed.seq}"), 404)
    missing = error_body(taro_api.get(f"{API}/{revealed.seq + 1000}"), 404)
    assert theirs == missing
    for raw in ("0", "-1", "abc", "1.5", "٣", str(2**63), "9" * 40):
        error_body(hana_api.get(f"{API}/{raw}"), 404)


def test_a_staff_token_sees_only_the_accesses_to_its_own_data(customer_service):
    """A staff account using the member API is a member there: the accesses it made to others'
    data are not its to read, only those of colleagues to its own account."""
    member = MemberFactory()
    place_order(member=member)
    staff_client(customer_service).get("/en/backoffice/orders/order/")
    administrator = StaffFactory(roles=[Role.ADMINISTRATOR])
    assert (
        staff_client(administrator)
        .get(f"/en/backoffice/accounts/user/{customer_service.pk}/change/")
        .status_code
        == 200
    )
    results = api_results(api_client(customer_service))
    [about_them] = StaffAccessRecord.objects.filter(subjects__subject_id=customer_service.pk)
    assert [result["id"] for result in results] == [about_them.seq]
    assert results[0]["staff"] == transparency.pseudonym_code(administrator.pk)
    made_by_them = StaffAccessRecord.objects.get(staff=customer_service)
    error_body(api_client(customer_service).get(f"{API}/{made_by_them.seq}"), 404)


# --- Pagination and cost -------------------------------------------------------------------------


def reveals(refund, count: int, staff=None) -> None:
    for number in range(count):
        actor = staff or StaffFactory(roles=[Role.ACCOUNTING])
        reveal(actor=actor, instance=refund, field_name="account_number", reason=f"{REASON} {number}")


def test_the_page_is_paginated():
    member = MemberFactory()
    reveals(refund_of(member), 25, staff=StaffFactory(roles=[Role.ACCOUNTING]))
    client = member_client(member)
    first, second = page_of(client), page_of(client, f"{PAGE}?page=2")
    assert len(rows_of(first)) == 20 and len(rows_of(second)) == 5
    assert not set(rows_of(first)) & set(rows_of(second))
    assert 'href="?page=2"' in first and "Page 1 of 2" in first
    assert client.get(f"{PAGE}?page=3").status_code == 404


def test_the_api_is_paginated_like_the_other_lists():
    member = MemberFactory()
    reveals(refund_of(member), 25, staff=StaffFactory(roles=[Role.ACCOUNTING]))
    client = api_client(member)
    first = client.get(API, {"page_size": 10}).json()
    assert len(first["results"]) == 10 and first["next"] and first["previous"] is None
    newest_first = api_results(client, f"{API}?page_size=10")
    ids = [result["id"] for result in newest_first]
    assert len(ids) == 25 and ids == sorted(ids, reverse=True)
    oldest_first = [result["id"] for result in api_results(client, f"{API}?page_size=7&ordering=seq")]
    assert oldest_first == sorted(ids)
    for bad in ({"page_size": "0"}, {"page_size": "101"}, {"ordering": "staff"}, {"cursor": "nonsense"}):
        error_body(client.get(API, bad), 400)


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_rows():
    member = MemberFactory()
    refund = refund_of(member)
    reveals(refund, 2)  # a different accountant each time: no query per staff member either
    page, api = member_client(member), api_client(member)
    page.get(PAGE), api.get(API)  # the first use of a session or token writes its time of use
    few = (queries(page, PAGE), queries(api, API))
    reveals(refund, 18)
    assert len(rows_of(page_of(page))) == 20
    assert (queries(page, PAGE), queries(api, API)) == few


# --- The policy page -----------------------------------------------------------------------------


def test_the_policy_says_members_can_see_the_accesses_while_they_can(client):
    assert CAPABILITIES["access_transparency"].provided()
    html = page_of(client, "/en/privacy/policy/")
    assert 'data-capability="access_transparency"' in html
    assert "you can see every access to your own information" in html
    with forced(access_transparency=False):
        html = page_of(client, "/en/privacy/policy/")
    assert 'data-capability="access_transparency"' not in html
    assert "you can see every access to your own information" not in html


def test_the_capability_follows_the_url(settings):
    assert reverse("privacy:access_log") == "/privacy/access-log/"
    settings.ROOT_URLCONF = "kirakira.privacy.tests.urls_with_rights_menu"  # no access-log page
    assert not CAPABILITIES["access_transparency"].provided()
