"""What a web process builds on its first requests, built once in gunicorn's master instead.

gunicorn loads the application in its master and forks the workers from it (``preload_app``), and
replaces a worker every ``max_requests``. A fresh worker used to pay on its first requests for
what Django builds lazily: compiling every template, loading each language's translations,
populating the URL resolver for each language, the page cache's code fingerprint and the policy
page's scan of the imports (each reading every source file), the page chrome. That was 100–400 ms during which the requests queued behind it
waited: the p99 spikes of ``bench/pages.py``. Built in the master, every fork inherits it.

Nothing here opens a database or cache connection: a socket opened before the fork would be
shared by every worker.
"""

from pathlib import Path

from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import get_resolver, reverse
from django.utils import translation

from kirakira.privacy.policy import capabilities

from . import page_cache
from .templatetags import chrome


def template_names() -> list[str]:
    """Every template of the project's apps, by the name a view loads it with."""
    names = set()
    for directory in engines["django"].template_dirs:
        root = Path(directory)
        if not root.is_relative_to(settings.BASE_DIR) or ".venv" in root.parts:
            continue  # Django's and the packages' own templates load as they are used
        names.update(str(path.relative_to(root)) for path in root.rglob("*.html"))
    return sorted(names)


def warm_process() -> dict[str, int]:
    """Build what every request needs (config/gunicorn.py calls it in the master)."""
    page_cache.code_fingerprint()
    # The policy page's proof that nothing imports a network client reads every source file.
    capabilities.outbound_imports()
    engine = engines["django"]
    compiled = 0
    for name in template_names():
        try:
            engine.get_template(name)
            compiled += 1
        except (TemplateDoesNotExist, TemplateSyntaxError):  # a fragment not meant to stand alone
            continue
    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Kirakira SNS")  # loads the language's catalogs
            resolver.reverse_dict  # noqa: B018 - populates the language's reverse lookups
            reverse("home")
            chrome.site_footer()
            for signed_in in (False, True):
                chrome.warm_header(signed_in)
    return {"templates": compiled, "languages": len(settings.LANGUAGES)}
