"""Language selection that works without any cookie.

Django's ``LocaleMiddleware`` with ``prefix_default_language=False`` always serves Japanese on
unprefixed URLs. Kirakira negotiates instead: a ``/en/`` or ``/ko/`` prefix wins; on an
unprefixed URL an explicit ``?lang=`` choice, then the language kept in the preferences cookie
(read only while the visitor accepts preference cookies, policy C8), then the browser's
``Accept-Language``, then Japanese. Links on a page served in English or Korean carry the
prefix (``reverse()`` adds it for the active language), so navigation stays in that language.

``?lang=`` is remembered in the preferences cookie only with consent; without it the choice
holds for that page and the prefixed links on it, and never sets a cookie. Django's own
``django_language`` cookie is neither read nor set.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

LANGUAGE_QUERY_PARAMETER = "lang"


def supported_language(code) -> str | None:
    """A site language for ``code``, or None (an unknown code falls back to the default later)."""
    if not isinstance(code, str) or not code or len(code) > 16:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


_supported = supported_language


def _from_browser(request) -> str | None:
    header = request.headers.get("Accept-Language", "")
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        language = _supported(code)
        if language:
            return language
    return None


class LanguageMiddleware(LocaleMiddleware):
    def process_request(self, request):
        from_path = translation.get_language_from_path(request.path_info)
        chosen = _supported(request.GET.get(LANGUAGE_QUERY_PARAMETER))
        consent = getattr(request, "consent", None)
        remembered = consent.language if consent is not None and consent.accepted else None
        language = from_path or chosen or remembered or _from_browser(request) or settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        if chosen and chosen == language and consent is not None:
            consent.remember_language(chosen)  # kept only with consent; a no-op otherwise

    def process_response(self, request, response):
        response = super().process_response(request, response)
        if not translation.get_language_from_path(request.path_info):
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response
