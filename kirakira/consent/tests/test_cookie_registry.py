"""The cookie table is the truth (C8): crawling the site as a visitor, a member and staff, every
cookie any response sets is declared in the registry, the policy page lists exactly the
registry, and a visitor who only reads pages gets no cookie at all.

(``conftest.py`` also fails any test whose test-client response sets an undeclared cookie.)
"""

import re
from collections import deque
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.consent.testing import ORIGIN, choose
from kirakira.orders.testing import make_service, place_order
from kirakira.privacy.catalog.cookies import CookieCategory, cookies, names

pytestmark = pytest.mark.django_db

# Pages that hold a form: they set the CSRF cookie, as they must. Every other page a visitor
# can reach is for reading and sets nothing.
FORM_PAGES = re.compile(r"^(/(en|ko))?/(accounts/(login|register|password/reset)/|consultations/new/)")


def _links(response) -> list[str]:
    html = response.content.decode()
    found = []
    for href in re.findall(r'(?:href|action)="([^"]*)"', html):
        href = unescape(href).split("#")[0]
        if href.startswith("/") and not href.startswith(("//", settings.STATIC_URL)):
            found.append(href)
    return found


def crawl(
    client, start=("/", "/en/", "/ko/", "/privacy/policy/changes/"), limit=200, skip=("/accounts/logout/",)
) -> dict[str, set[str]]:
    """GET every page reachable from ``start``: {path: names of the cookies its response set}."""
    seen: dict[str, set[str]] = {}
    queue = deque(start)
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen or urlsplit(path).path.endswith(skip):
            continue
        response = client.get(path)
        seen[path] = {name for name in response.cookies}
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            queue.extend(link for link in _links(response) if link not in seen)
    return seen


def _all(cookie_sets) -> set[str]:
    return set().union(*cookie_sets)


def test_a_visitor_reading_pages_gets_no_cookie(client):
    make_service()
    pages = crawl(client)

    assert {"/privacy/policy/", "/en/privacy/policy/", "/ko/consent/", "/ko/accounts/login/?lang=ko"} <= set(
        pages
    )
    reading = {path: got for path, got in pages.items() if not FORM_PAGES.match(path)}
    assert len(reading) >= 10
    assert {path: got for path, got in reading.items() if got} == {}
    assert _all(pages.values()) <= {settings.CSRF_COOKIE_NAME}


def test_every_cookie_the_site_sets_is_declared(client):
    make_service()
    seen = _all(crawl(client).values())

    # A visitor's choices and language switches, and the forms they send.
    seen |= set(choose(client, "refuse").cookies) | set(choose(client, "accept").cookies)
    seen |= _all(crawl(client, start=("/?lang=en", "/?lang=ko", "/?lang=ja")).values())
    member = MemberFactory(login_id="hanako")
    for response in (
        client.post("/accounts/register/", {"login_id": "x", "name": "", "email": "bad", "password1": "a"}),
        client.post("/accounts/password/reset/", {"email": "nobody@example.com"}),
        client.post("/accounts/login/", {"username": "hanako", "password": "wrong"}),
        client.post("/accounts/login/", {"username": "hanako", "password": PASSWORD}),
    ):
        seen |= set(response.cookies)

    # A member's pages and forms.
    place_order(member=member)
    seen |= _all(
        crawl(client, start=("/accounts/mypage/", "/orders/", "/en/orders/", "/consultations/")).values()
    )
    seen |= set(
        client.post(
            "/consultations/new/", {"category": "question", "subject": "件名", "body": "本文"}
        ).cookies
    )
    seen |= set(client.post("/accounts/mypage/", {"name": "山田 花子", "email": member.email}).cookies)
    seen |= set(client.post("/accounts/logout/").cookies)

    # Staff in the back office.
    staff = StaffFactory(roles=[Role.ADMINISTRATOR])
    client.force_login(staff)
    for path in (
        "/backoffice/",
        "/backoffice/consent/notice/",
        "/backoffice/consent/notice/add/",
        "/backoffice/consultations/consultation/",
        "/backoffice/consultations/consultation/desk/",
    ):
        seen |= set(client.get(path).cookies)

    assert seen, "the crawl saw no cookie at all: it did not reach the forms"
    assert seen <= names(), f"undeclared cookies: {seen - names()}"
    assert {"sessionid", "csrftoken", "kirakira_consent", "kirakira_prefs"} <= seen


def test_the_policy_page_lists_exactly_the_registry(client):
    for prefix in ("", "/en", "/ko"):
        html = client.get(f"{prefix}/privacy/policy/").content.decode()
        table = html[
            html.index('id="cookie-table"') : html.index("</table>", html.index('id="cookie-table"'))
        ]
        assert sorted(re.findall(r"<td><code>([^<]+)</code></td>", table)) == sorted(names())


def test_every_declared_cookie_has_purpose_category_lifetime_and_party(client):
    html = client.get("/en/privacy/policy/").content.decode()
    for cookie in cookies():
        assert cookie.category in CookieCategory
        assert str(cookie.purpose)
        row = re.search(rf"<tr><td><code>{cookie.name}</code></td>(.*?)</tr>", html).group(1)
        assert str(cookie.category.label) in row
        assert cookie.lifetime_label in row
        assert "First party" in row


def test_only_the_preferences_cookie_is_not_essential():
    assert {c.name for c in cookies() if c.category != CookieCategory.ESSENTIAL} == {"kirakira_prefs"}


def test_an_undeclared_cookie_fails_the_test_client_guard(client, settings):
    from django.http import HttpResponse
    from django.urls import path

    def sets_a_stray_cookie(request):
        response = HttpResponse("x")
        response.set_cookie("stray", "1")
        return response

    import types

    urls = types.ModuleType("stray_urls")
    urls.urlpatterns = [path("stray/", sets_a_stray_cookie)]
    settings.ROOT_URLCONF = urls
    with pytest.raises(AssertionError, match="stray"):
        client.get("/stray/")


def test_consent_posts_need_no_csrf_cookie(client):
    response = client.post("/consent/", {"choice": "refuse"}, HTTP_ORIGIN=ORIGIN)
    assert set(response.cookies) == {"kirakira_consent"}


def test_the_cookie_table_says_a_year_alike_for_every_cookie_kept_a_year(client):
    # Seen: "364日間" beside "1年" (Django's CSRF cookie lasts 52 weeks by default).
    html = client.get("/privacy/policy/").content.decode()
    table = html[html.index('id="cookie-table"') : html.index("</table>", html.index('id="cookie-table"'))]
    assert "364" not in table
    lifetimes = {c.name: c.max_age for c in cookies()}
    assert lifetimes["csrftoken"] == 365 * 24 * 60 * 60
    assert re.search(r"<code>csrftoken</code></td>.*?1年", table, re.S)
