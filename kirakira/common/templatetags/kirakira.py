from functools import lru_cache

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.http import urlencode

from kirakira.common.middleware import LANGUAGE_QUERY_PARAMETER

register = template.Library()


# The current page in each language, for the header's switcher (templatetags/chrome.py). Only the
# path is translated; the query string is dropped so that nothing a page was given (a token, a
# search) travels into another URL. translate_url resolves the path and reverses it once per
# language: the links of a path are the same every time for one language and URLconf.
@lru_cache(maxsize=1024)  # bounded: a 404 page links its path too
def links_for(path: str, active: str, urlconf: str) -> tuple[dict, ...]:
    return tuple(
        {
            "code": code,
            "label": {"ja": "日本語", "en": "English", "ko": "한국어"}.get(code, code),
            "url": f"{translate_url(path, code)}?{urlencode({LANGUAGE_QUERY_PARAMETER: code})}",
        }
        for code, _name in settings.LANGUAGES
    )


@register.filter
def listjoin(values) -> str:
    """Join a list with the active language's separator (、 in Japanese)."""
    from django.utils.translation import pgettext

    return pgettext("list separator", ", ").join(str(v) for v in values)


@register.filter
def yen(amount) -> str:
    """An integer amount of yen, with separators, in the active language's form (3,000円)."""
    from django.utils.translation import gettext

    if amount is None or amount == "":
        return ""
    return gettext("¥%(amount)s") % {"amount": f"{int(amount):,}"}


@register.filter
def phone(number) -> str:
    """A phone number in one written form (``common.contact.display_phone``)."""
    from kirakira.common.contact import display_phone

    return display_phone(str(number)) if number else ""
