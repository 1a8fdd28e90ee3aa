from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.http import urlencode

from kirakira.common.middleware import LANGUAGE_QUERY_PARAMETER

register = template.Library()


@register.simple_tag(takes_context=True)
def language_links(context):
    """The current page in each language, for the header's switcher.

    Only the path is translated; the query string is dropped so that nothing a page was given
    (a token, a search) travels into another URL.
    """
    request = context.get("request")
    path = request.path if request is not None else "/"
    current = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    links = []
    for code, _name in settings.LANGUAGES:
        url = translate_url(path, code)
        links.append(
            {
                "code": code,
                "label": {"ja": "日本語", "en": "English", "ko": "한국어"}.get(code, code),
                "url": f"{url}?{urlencode({LANGUAGE_QUERY_PARAMETER: code})}",
                "current": code == current,
            }
        )
    return links


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
