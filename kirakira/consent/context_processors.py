from functools import cached_property, lru_cache

from django.conf import settings
from django.urls import get_urlconf, translate_url
from django.utils.translation import get_language

from . import selectors


class _ConsentContext:
    """What every page needs of the consent state, computed only if the template asks."""

    def __init__(self, request):
        self.request = request
        self.state = request.consent

    @property
    def consent_id(self):
        return self.state.consent_id

    @property
    def chosen(self):
        return self.state.chosen

    @property
    def accepted(self):
        return self.state.accepted

    @cached_property
    def next_path(self) -> str:
        """Where a choice returns to: this page in its language, without the query string (which
        may carry a token or a search that must not travel into a form)."""
        return _translated(self.request.path, get_language() or "ja", get_urlconf() or settings.ROOT_URLCONF)

    @cached_property
    def banner(self) -> bool:
        current = getattr(self.request, "consent_digest", None) or selectors.current_digest
        return self.state.needs_choice(current)

    @property
    def asked_again(self) -> bool:
        return self.banner and self.state.chosen

    @cached_property
    def popups(self):
        language = get_language() or "ja"
        return selectors.popups(
            user=self.request.user,
            language=language,
            dismissed=self.state.dismissed if self.state.accepted else (),
        )


# translate_url resolves the path and reverses it: the same answer every time for one path,
# language and URLconf, asked on every page (the cookie settings dialog).
@lru_cache(maxsize=1024)  # bounded: a 404 page has its own path too
def _translated(path: str, language: str, urlconf) -> str:
    return translate_url(path, language)


def consent(request):
    """``consent``: the banner, the settings dialog and the popups of every page (C8, C11)."""
    if getattr(request, "consent", None) is None:
        return {"consent": None}
    return {"consent": _ConsentContext(request)}
