from functools import lru_cache

from django.conf import settings
from django.urls import get_urlconf, reverse
from django.utils.translation import get_language

# The URL names every page's header and footer link to.
CHROME_URLS = (
    "home",
    "orders:list",
    "consultations:list",
    "consultations:new",
    "accounts:mypage",
    "accounts:logout",
    "accounts:login",
    "accounts:register",
    "privacy:policy",
    "legal:commerce",
    "legal:terms",
    "consent:settings",
    "breaches:public_notices",
)


@lru_cache(maxsize=64)
def chrome_urls(language: str, urlconf) -> dict[str, str]:
    # Reversed once per language and URLconf instead of ten times on every page.
    return {name.replace(":", "_"): reverse(name) for name in CHROME_URLS}


def site(request):
    return {
        "STUDIO_NAME": settings.STUDIO_NAME,
        "site_urls": chrome_urls(get_language(), get_urlconf() or settings.ROOT_URLCONF),
    }
