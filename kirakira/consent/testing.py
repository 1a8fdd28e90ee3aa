"""Test helpers: choosing cookies as a browser would, and reading the signed cookies back."""

from django.core import signing

from . import cookies

ORIGIN = "http://testserver"


def choose(client, choice: str = "accept", *, next_path: str = "/"):
    """Post the banner's form (a same-origin form post, as a browser sends it)."""
    return client.post("/consent/", {"choice": choice, "next": next_path}, HTTP_ORIGIN=ORIGIN)


def dismiss(client, key: str, *, next_path: str = "/"):
    return client.post("/consent/notices/dismiss/", {"key": key, "next": next_path}, HTTP_ORIGIN=ORIGIN)


def prefs_of(client) -> dict | None:
    """The preferences cookie's content as the browser holds it, or None when there is none."""
    morsel = client.cookies.get(cookies.PREFS_COOKIE)
    if morsel is None or not morsel.value:
        return None
    return signing.loads(morsel.value, salt=cookies._PREFS_SALT)


def consent_of(client) -> dict | None:
    morsel = client.cookies.get(cookies.CONSENT_COOKIE)
    if morsel is None or not morsel.value:
        return None
    return signing.loads(morsel.value, salt=cookies._CONSENT_SALT)


def prefs_value(data: dict) -> str:
    """A validly signed preferences cookie holding ``data`` (to test what the site does with it)."""
    return signing.dumps(data, salt=cookies._PREFS_SALT)
