"""The header and footer drawn once per language and login state (templatetags/chrome.py):
each answer still carries its own CSRF token, its own login state, its page's language links
and its language, however the drawings were shared."""

import re

import pytest
from django.test import Client

from kirakira.common.testing import MemberFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _header(response) -> str:
    body = response.content.decode()
    return body[body.index("<header") : body.index("</header>")]


def _footer(response) -> str:
    body = response.content.decode()
    return body[body.index("<footer") : body.index("</footer>")]


def _valid_logout(client, header) -> bool:
    """The header's logout form, posted as the browser would, is accepted by the CSRF check."""
    token = TOKEN.search(header).group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', header).group(1)
    checking = Client(enforce_csrf_checks=True)
    checking.cookies = client.cookies
    return checking.post(action, {"csrfmiddlewaretoken": token}).status_code == 302


def test_each_member_gets_their_own_csrf_token_in_the_shared_header():
    first, second = Client(), Client()
    first.force_login(MemberFactory())
    second.force_login(MemberFactory())
    one = _header(first.get("/orders/"))
    two = _header(second.get("/orders/"))
    assert TOKEN.search(one) and TOKEN.search(two)
    # Masked tokens differ per answer anyway: what matters is that each is its own session's.
    assert _valid_logout(first, one)
    assert _valid_logout(second, two)
    assert not first.get("/orders/").wsgi_request.user.is_authenticated  # logged out by the form


def test_the_login_state_and_the_language_are_each_answers_own():
    member = Client()
    member.force_login(MemberFactory())
    visitor = Client()
    ja = _header(member.get("/orders/"))
    en = _header(member.get("/en/orders/"))
    anonymous = _header(visitor.get("/en/privacy/policy/"))
    assert "ログアウト" in ja and "/orders/" in ja
    assert "Log out" in en and 'href="/en/orders/"' in en
    assert "Log out" not in anonymous and "csrfmiddlewaretoken" not in anonymous
    assert "Log in" in anonymous and 'href="/en/accounts/register/"' in anonymous
    assert "プライバシーポリシー" in _footer(member.get("/orders/"))
    assert "Privacy policy" in _footer(visitor.get("/en/privacy/policy/"))


def test_the_language_links_are_those_of_the_page_shown():
    member = Client()
    member.force_login(MemberFactory())
    orders = _header(member.get("/ko/orders/"))
    consultations = _header(member.get("/ko/consultations/"))
    assert 'href="/en/orders/?lang=en"' in orders and 'href="/orders/?lang=ja"' in orders
    assert 'href="/en/consultations/?lang=en"' in consultations
    assert re.search(r'href="/ko/orders/\?lang=ko"[^>]*aria-current="true"', orders)
    assert 'aria-current="true"' not in re.search(r'<a href="/en/orders/[^>]*>', orders).group(0)


def test_a_visitor_page_sets_no_csrf_cookie_for_the_header():
    # The visitor's header has no form: drawing it must not make the page personal.
    response = Client().get("/en/privacy/policy/")
    assert "csrftoken" not in response.cookies
