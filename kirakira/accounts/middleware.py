from django.utils import translation

from kirakira.common.middleware import LANGUAGE_QUERY_PARAMETER, supported_language
from kirakira.common.origin import is_same_origin

from .services import member_set_language


class MemberLanguageMiddleware:
    """A logged-in member's language lives on their account too (policy C8 allows it without a
    cookie): a ``?lang=`` choice is saved there, and on an unprefixed URL with no remembered
    cookie preference the account's language is used instead of the browser's. Runs after
    ``AuthenticationMiddleware``; ``LanguageMiddleware`` has already picked a language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._apply(request, user)
        return self.get_response(request)

    def _apply(self, request, user):
        chosen = supported_language(request.GET.get(LANGUAGE_QUERY_PARAMETER))
        if chosen:
            # Saved only when the switch was clicked on this site (not when a URL prefix
            # overrode it): a link from another site must not change what the account says.
            if chosen == translation.get_language() and is_same_origin(request):
                member_set_language(user=user, language=chosen)
            return
        if translation.get_language_from_path(request.path_info):
            return
        consent = getattr(request, "consent", None)
        if consent is not None and consent.accepted and consent.language:
            return
        language = supported_language(user.language)
        if language and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
