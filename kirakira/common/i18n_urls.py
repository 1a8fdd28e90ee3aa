"""URL patterns for Kirakira's language scheme: ``/en/…`` and ``/ko/…`` prefixes, and
unprefixed URLs served in the negotiated language (see ``LanguageMiddleware``).

Django's ``LocalePrefixPattern`` only matches an unprefixed path while the default language is
active; this one also matches it when the browser asked for English or Korean, and still
reverses with the active language's prefix so links keep the language.
"""

from django.conf import settings
from django.urls import URLResolver
from django.urls.resolvers import LocalePrefixPattern
from django.utils.translation import get_language_from_path


class NegotiatedLocalePrefixPattern(LocalePrefixPattern):
    def match(self, path):
        prefix = self.language_prefix
        if prefix and path.startswith(prefix):
            return path.removeprefix(prefix), (), {}
        if not get_language_from_path("/" + path):
            return path, (), {}
        return None


def i18n_patterns(*urls):
    if not settings.USE_I18N:
        return list(urls)
    return [URLResolver(NegotiatedLocalePrefixPattern(prefix_default_language=False), list(urls))]
