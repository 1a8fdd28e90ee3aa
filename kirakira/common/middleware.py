"""Language selection that works without any cookie.

Django's ``LocaleMiddleware`` with ``prefix_default_language=False`` always serves Japanese on
unprefixed URLs. Kirakira negotiates instead: a ``/en/`` or ``/ko/`` prefix wins; on an
unprefixed URL an explicit ``?lang=`` choice, then the language cookie, then the browser's
``Accept-Language``, then Japanese. Links on a page served in English or Korean carry the
prefix (``reverse()`` adds it for the active language), so navigation stays in that language.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

LANGUAGE_QUERY_PARAMETER = "lang"


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


class LanguageMiddleware(LocaleMiddleware):
    def process_request(self, request):
        from_path = translation.get_language_from_path(request.path_info)
        chosen = _supported(request.GET.get(LANGUAGE_QUERY_PARAMETER))
        language = from_path or chosen or translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        request.language_choice = chosen

    def process_response(self, request, response):
        response = super().process_response(request, response)
        if not translation.get_language_from_path(request.path_info):
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        chosen = getattr(request, "language_choice", None)
        if chosen:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
            )
        return response
