"""``{% site_header %}`` and ``{% site_footer %}``: the chrome of every member-site page.

Their links and labels are the same on every page of one language (and, for the header, of one
login state); drawing them through the template engine was a sixth of a member page. Each is drawn
once per process and language (``lru_cache``: translations, URLs and settings do not change while
a process runs) with stand-ins for what differs per answer, which is put back:

- the logout form's CSRF token (the request's own, read as ``{% csrf_token %}`` would);
- the language switcher: the current page in each language, drawn once per path (bounded).
"""

from functools import lru_cache

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_urlconf
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from kirakira.common.context_processors import chrome_urls

from .kirakira import links_for

register = template.Library()

CSRF_MARK = "kk-chrome-csrf-5e83a1"
LANGUAGE_NAV_MARK = "<!--kk-chrome-language-nav-5e83a1-->"


@register.simple_tag(takes_context=True)
def site_header(context) -> str:
    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    language = get_language()
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    html = _header(language, urlconf, signed_in).replace(LANGUAGE_NAV_MARK, _language_nav(context, urlconf))
    if signed_in:
        html = html.replace(CSRF_MARK, escape(str(context.get("csrf_token", ""))))
    return mark_safe(html)  # noqa: S308 - drawn by our templates; the token put back is escaped


@register.simple_tag
def site_footer() -> str:
    return mark_safe(  # noqa: S308 - drawn by our template
        _footer(get_language(), get_urlconf() or settings.ROOT_URLCONF, settings.STUDIO_NAME)
    )


def warm_header(signed_in: bool) -> None:
    """Draw the header of the active language ahead of the first page (common/warmup.py)."""
    _header(get_language(), get_urlconf() or settings.ROOT_URLCONF, signed_in)


@lru_cache(maxsize=32)
def _header(language: str, urlconf, signed_in: bool) -> str:
    return render_to_string(
        "chrome/header.html",
        {
            "site_urls": chrome_urls(language, urlconf),
            "signed_in": signed_in,
            "csrf_mark": CSRF_MARK,
            "language_nav": mark_safe(LANGUAGE_NAV_MARK),  # noqa: S308 - a constant
        },
    )


@lru_cache(maxsize=32)
def _footer(language: str, urlconf, studio_name: str) -> str:
    return render_to_string(
        "chrome/footer.html", {"site_urls": chrome_urls(language, urlconf), "STUDIO_NAME": studio_name}
    )


def _language_nav(context, urlconf) -> str:
    request = context.get("request")
    path = request.path if request is not None else "/"
    current = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    return _language_nav_for(path, get_language(), current, urlconf)


@lru_cache(maxsize=1024)  # bounded: a 404 page links its own path too
def _language_nav_for(path: str, active: str, current: str, urlconf) -> str:
    links = [{**link, "current": link["code"] == current} for link in links_for(path, active, urlconf)]
    return render_to_string("chrome/language_nav.html", {"links": links})
