"""The studio's contact details as each page's reader should see them."""

from django.conf import settings
from django.utils.translation import get_language


def in_language(setting: str) -> str:
    """A setting in the active language (``STUDIO_ADDRESS_EN``, ``PRIVACY_OFFICER_NAME_KO``...),
    falling back to the Japanese one when that language's is empty."""
    language = (get_language() or "ja")[:2]
    localized = getattr(settings, f"{setting}_{language.upper()}", "") if language in ("en", "ko") else ""
    return localized or getattr(settings, setting)


def phone_for_language(number: str) -> str:
    """A Japanese number as the page's reader dials it: ``03-0000-0001`` on Japanese pages,
    ``+81-3-0000-0001`` on the others (the trunk prefix 0 dropped). A number already written
    otherwise is left as it is."""
    number = number.strip()
    if (get_language() or "ja")[:2] == "ja" or not number.startswith("0") or number.startswith("00"):
        return number
    return f"+81-{number[1:]}"
