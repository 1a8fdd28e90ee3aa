"""Helpers shared by the account page tests.

Japanese expectations are taken from the catalogs rather than copied into the tests, so a
rewording of a translation does not break them; :func:`ja` fails when a message has no
Japanese translation at all, because then the Japanese page would show English.
"""

import html
import re

from django.utils import translation
from django.utils.translation import gettext

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_LINK = re.compile(r"http://testserver(/\S+)")


def ja(msgid: str, **params) -> str:
    """The Japanese text of ``msgid``; fails when the catalogs do not translate it."""
    with translation.override("ja"):
        text = gettext(msgid)
    assert text != msgid and _JAPANESE.search(text), f"no Japanese translation of {msgid!r}"
    return text % params if params else text


def en(msgid: str, **params) -> str:
    return msgid % params if params else msgid


def page_text(response) -> str:
    return response.content.decode()


def assert_page_says(response, text: str) -> None:
    """``text`` appears in the page as the template renders it (HTML-escaped)."""
    body = page_text(response)
    assert html.escape(text) in body, f"{text!r} not in the page"


def link_in(message) -> str:
    """The path of the one link to this site in an email's body."""
    links = _LINK.findall(message.body)
    assert len(links) == 1, links
    return links[0]


def full_width(text: str) -> str:
    """ASCII letters, digits and symbols in their full-width forms (what an IME types)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def logged_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def confirm(client, link: str):
    """Open an emailed confirmation link and press its button, as the member does: the page
    (GET) confirms nothing by itself. Returns the answer to the button (POST)."""
    page = client.get(link)
    assert page.status_code == 200, page.status_code
    assert 'method="post"' in page.content.decode()
    return client.post(link)
