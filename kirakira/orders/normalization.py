"""How order input is cleaned and checked, shared by the pages and the API."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

PHOTO_LINK_MAX = 2000
PHONE_DIGITS_MIN, PHONE_DIGITS_MAX = 10, 15
PHONE_MAX = 30  # characters as written, separators included
ACCOUNT_ID_MAX = 100
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()\-]+$")
# Dashes a Japanese keyboard may produce in a phone number, read as "-".
_DASHES = str.maketrans({"ー": "-", "‐": "-", "−": "-", "–": "-", "—": "-", "―": "-"})
_https = URLValidator(schemes=["https"])


def _fold_phone(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").translate(_DASHES).strip()


def normalize_phone(value: str) -> str:
    """Only the digits (and a leading +): the form used for equality (the blind index)."""
    value = _fold_phone(value)
    return ("+" if value.startswith("+") else "") + "".join(ch for ch in value if ch.isdigit())


def clean_phone(value: str) -> str:
    value = _fold_phone(value)
    if not value:
        raise ValidationError(_("Enter your phone number."), code="required")
    digits = sum(ch.isdigit() for ch in value)
    if (
        len(value) > PHONE_MAX
        or not _PHONE_CHARACTERS.match(value)
        or not PHONE_DIGITS_MIN <= digits <= PHONE_DIGITS_MAX
    ):
        raise ValidationError(
            _(
                "Enter a phone number of %(min)d to %(max)d digits (digits, spaces, hyphens, brackets and a leading + only)."
            ),
            code="phone",
            params={"min": PHONE_DIGITS_MIN, "max": PHONE_DIGITS_MAX},
        )
    return value


def clean_account_id(value: str, platform) -> str:
    value = unicodedata.normalize("NFKC", value or "").strip().removeprefix("@")
    if not value:
        raise ValidationError(_("Enter the account ID."), code="required")
    if len(value) > ACCOUNT_ID_MAX or not platform.is_valid_account_id(value):
        raise ValidationError(
            _("This is not a valid %(platform)s account ID: %(rule)s"),
            code="account_id",
            params={"platform": platform.name, "rule": platform.account_id_rule()},
        )
    return value


def clean_photo_links(links, allowed: int) -> list[str]:
    if links is None:
        links = []
    if isinstance(links, str):
        links = links.splitlines()
    if not isinstance(links, list | tuple) or not all(isinstance(link, str) for link in links):
        raise ValidationError(_("Give the photo links as a list of web addresses."), code="invalid")
    cleaned = [link.strip() for link in links if link.strip()]
    if len(cleaned) > allowed:
        raise ValidationError(
            ngettext(
                "This service takes at most %(count)d photo link.",
                "This service takes at most %(count)d photo links.",
                allowed,
            ),
            code="too_many",
            params={"count": allowed},
        )
    for number, link in enumerate(cleaned, start=1):
        if len(link) > PHOTO_LINK_MAX:
            raise ValidationError(
                _("Link %(number)d is longer than %(max)d characters."),
                code="too_long",
                params={"number": number, "max": PHOTO_LINK_MAX},
            )
        try:
            _https(link)
        except ValidationError:
            raise ValidationError(
                _("Link %(number)d is not a valid https:// address."),
                code="not_https",
                params={"number": number},
            ) from None
    return cleaned
