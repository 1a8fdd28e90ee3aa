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


# Japanese numbers by their leading digits, first match wins: (prefixes, length in digits, group
# sizes). Free dial, mobile and IP phones, then Tokyo and Osaka; other landlines take the most common grouping
# (a three-digit area code), which is still dialled the same if the area code is longer.
_JAPANESE_GROUPS = (
    (("0800",), 11, (4, 3, 4)),  # before 080, which it starts with
    (("070", "080", "090", "050", "020"), 11, (3, 4, 4)),
    (("0120",), 10, (4, 3, 3)),
    (("03", "06"), 10, (2, 4, 4)),
    (("0",), 10, (3, 3, 4)),
)


def display_phone(number: str) -> str:
    """A phone number in one written form however it was typed (``09011112222``,
    ``090-1111-2222``, ``+81 90 1111 2222`` all read ``090-1111-2222``); a number this does not
    recognise as Japanese is shown as it was typed."""
    text = (number or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+81") or text.startswith("0081"):
        digits = "0" + digits[2:] if text.startswith("+") else "0" + digits[4:]
    for prefixes, length, groups in _JAPANESE_GROUPS:
        if len(digits) == length and digits.startswith(prefixes):
            parts, start = [], 0
            for size in groups:
                parts.append(digits[start : start + size])
                start += size
            return "-".join(parts)
    return text
