"""Pages the same for every visitor come from the shared cache (kirakira/common/page_cache.py),
and never carry one visitor's page, header or cookie to another (issue 16, "Bad input")."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory

from kirakira.common import clock, page_cache
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consent.models import Notice
from kirakira.consent.testing import choose, consent_of, dismiss
from kirakira.orders.testing import make_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 120
    # Four visitors choose from one address here, after other tests' choices in the same cache.
    settings.CONSENT_NEW_RECORDS_PER_IP = 1000
    # Pages are kept per minute: a test that crossed one would draw them again.
    with clock.frozen_at(clock.now()):
        yield


PAGES = ("/", "/en/", "/ko/", "/privacy/policy/", "/en/privacy/policy/", "/legal/commerce/", "/ko/legal/commerce/")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def visitor() -> Client:
    return Client()


def test_a_visitors_page_is_drawn_once_and_then_served_without_a_query(client, django_assert_num_queries):
    make_service(name_ja="キラキラ写真", name_en="Sparkle photos")
    first = client.get("/en/")
    assert first.status_code == 200 and "Sparkle photos" in first.content.decode()
    with django_assert_num_queries(0):
        second = client.get("/en/")
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Content-Language"] == "en"
    assert not second.cookies and not first.cookies  # a visitor's page sets no cookie
    assert second["X-Request-ID"] != first["X-Request-ID"]  # each answer's own headers
    assert "Content-Security-Policy" in second and second["Vary"] == first["Vary"]


def test_a_service_change_a_notice_or_a_new_minute_shows_at_once(client):
    service = make_service(name_ja="キラキラ写真", name_en="Sparkle photos")
    assert "Sparkle photos" in client.get("/en/").content.decode()
    service.name_en = "Shiny photos"
    service.save()
    assert "Shiny photos" in client.get("/en/").content.decode()

    now = clock.now()
    Notice.objects.create(
        title_ja="メンテナンス",
        title_en="Maintenance tonight",
        body_ja="本文",
        body_en="The site pauses at 22:00.",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        audience="everyone",
    )
    assert "Maintenance tonight" in client.get("/en/").content.decode()

    Notice.objects.create(
        title_ja="予告",
        title_en="Starts in an hour",
        body_ja="本文",
        body_en="Later.",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        audience="everyone",
    )
    with clock.frozen_at(now):
        assert "Starts in an hour" not in client.get("/en/").content.decode()
    with clock.frozen_at(now + timedelta(hours=1, minutes=1)):  # shown from its minute, no save needed
        assert "Starts in an hour" in client.get("/en/").content.decode()


def test_what_makes_a_page_personal_is_never_served_from_the_cache(client, django_assert_max_num_queries):
    client.get("/en/")
    # A query string (it may carry a token or choose the language) is drawn each time.
    assert client.get("/en/?utm=x").status_code == 200
    # A one-time message is the visitor's own.
    storage = CookieStorage(RequestFactory().get("/"))
    messages_cookie = storage._encode([_message("Your consultation was sent.")])
    client.cookies["messages"] = messages_cookie
    page = client.get("/en/").content.decode()
    assert "Your consultation was sent." in page
    del client.cookies["messages"]
    assert "Your consultation was sent." not in client.get("/en/").content.decode()


def _message(text):
    from django.contrib.messages.storage.base import Message

    return Message(constants.SUCCESS, text)


def _csrf_view(request):
    return HttpResponse(f"<p>token {get_token(request)}</p>")


def _cookie_view(request):
    response = HttpResponse("<p>with a cookie</p>")
    response.set_cookie("kirakira_consent", "x")
    return response


def test_a_page_that_used_a_csrf_token_or_set_a_cookie_is_not_stored(rf):
    from kirakira.consent import cookies

    drawn = []

    def count(view):
        def counted(request):
            drawn.append(view.__name__)
            return view(request)

        return counted

    for view in (_csrf_view, _cookie_view):
        wrapped = page_cache.visitor_page(count(view))
        for _ in range(2):
            request = rf.get("/")
            request.user = _anonymous()
            request.consent = cookies.read({})
            request.session = _NoSession()
            wrapped(request)
    assert drawn == ["_csrf_view", "_csrf_view", "_cookie_view", "_cookie_view"]


class _NoSession(dict):
    modified = False


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def test_no_page_header_or_cookie_of_one_user_reaches_another():
    """Two members and a staff user in different languages, and visitors in every consent state,
    take turns on the cached pages; each answer is checked against its own user only."""
    make_service(name_ja="キラキラ写真", name_en="Sparkle photos", name_ko="반짝 사진")
    now = clock.now()
    notice = Notice.objects.create(
        title_ja="お知らせ",
        title_en="A notice",
        title_ko="공지",
        body_ja="本文",
        body_en="Body.",
        body_ko="본문",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(days=1),
        audience="everyone",
    )
    hana = MemberFactory(login_id="hana", language="ja")
    tom = MemberFactory(login_id="tom", language="en")
    staff = StaffFactory(login_id="officer", roles=[Role.PRIVACY_OFFICER])
    users = {}
    for name, user in (("hana", hana), ("tom", tom), ("staff", staff)):
        users[name] = Client()
        users[name].force_login(user)
    fresh = visitor()
    accepted = visitor()
    choose(accepted, "accept")
    dismiss(accepted, f"n{notice.pk}")
    refused = visitor()
    choose(refused, "refuse")
    accepted_too = visitor()
    choose(accepted_too, "accept")
    visitors = {"fresh": fresh, "accepted": accepted, "refused": refused, "accepted_too": accepted_too}
    consent_ids = {name: (consent_of(c) or {}).get("id") for name, c in visitors.items()}
    assert all(consent_ids[n] for n in ("accepted", "refused", "accepted_too"))
    sessions = {name: c.cookies["sessionid"].value for name, c in users.items()}

    everyone = {**users, **visitors}
    for _round in range(2):  # the second round is served from the cache where it may be
        for page in PAGES:
            for name, client_ in everyone.items():
                response = client_.get(page)
                assert response.status_code == 200, (name, page)
                body = response.content.decode()
                others = [v for other, v in consent_ids.items() if other != name and v]
                assert not any(consent_id in body for consent_id in others), (name, page)
                for other, session in sessions.items():
                    if other != name:
                        assert session not in body and session not in str(response.cookies), (name, other)
                if name in users:
                    assert "Log out" in body or "ログアウト" in body or "로그아웃" in body, (name, page)
                else:
                    assert 'action="/accounts/logout/' not in body and "csrfmiddlewaretoken" not in body
                    assert not response.cookies, (name, page, response.cookies)  # never a Set-Cookie
                    own = consent_ids[name]
                    if own:
                        assert own in body, (name, page)  # their own record ID, in the settings
                    banner = "data-consent-banner" in body
                    assert banner == (name == "fresh"), (name, page)
                    shows_notice = f'data-popup="n{notice.pk}"' in body
                    assert shows_notice == (name != "accepted"), (name, page)
                own_language = {"hana": "ja", "tom": "en", "staff": "ja"}.get(name, "ja")
                language = {"/en/": "en", "/ko/": "ko"}.get(page[:4], own_language)
                assert f'<html lang="{language}">' in body, (name, page)
    # The members' own CSRF tokens stayed their own.
    tokens = {name: set(CSRF_FIELD.findall(c.get("/").content.decode())) for name, c in users.items()}
    assert tokens["hana"].isdisjoint(tokens["tom"]) and tokens["tom"].isdisjoint(tokens["staff"])
