"""How order input is cleaned and checked, shared by the pages and the API."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kirakira.common.text import clean_text

PHOTO_LINK_MAX = 2000
PHONE_DIGITS_MIN, PHONE_DIGITS_MAX = 10, 15
PHONE_MAX = 30  # characters as written, separators included
ACCOUNT_ID_MAX = 100
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()\-]+$")
# Dashes a Japanese keyboard may produce in a phone number, read as "-".
_DASHES = str.maketrans({"ー": "-", "‐": "-", "−": "-", "–": "-", "—": "-", "―": "-"})
_https = URLValidator(schemes=["https"])


def digits_only(value: str) -> str:
    """The ASCII digits of a bank account number, for the blind index."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", value or "") if ch in "0123456789")


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


def clean_note(value) -> str:
    """The member's note on an order: several lines, stored with ``\n`` line breaks (browsers
    send CRLF; each counts as one character, as the member sees it), without invisible or
    control characters."""
    from .models import NOTE_MAX

    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("The note must be text."), code="invalid")
    value = clean_text(value.strip(), multiline=True)
    if len(value) > NOTE_MAX:
        raise ValidationError(
            _("The note is at most %(max)d characters long."), code="max_length", params={"max": NOTE_MAX}
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


BANK_TEXT_MAX, HOLDER_MAX = 50, 100
ACCOUNT_NUMBER_DIGITS = (4, 17)
# Katakana (full width after NFKC), Latin letters, digits, spaces and the few symbols bank
# account names use: the Zengin character set, roughly.
_HOLDER = re.compile(r"^[ァ-ヴー\u3099\u309aA-Za-z0-9 ().,\-/&]+$")
_BANK_TEXT = re.compile(r"^[^\x00-\x1f\x7f<>]+$")


def clean_refund_account(data) -> dict:
    """Check the bank account a refund goes to; raises ``ValidationError`` by field."""
    from .models import AccountType

    if not isinstance(data, dict):
        raise ValidationError({"refund_account": [_("Give the bank account for the refund.")]})
    errors: dict[str, list[str]] = {}
    cleaned = {}

    def text(field):
        value = data.get(field)
        return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else ""

    for field, label_max in (("bank_name", BANK_TEXT_MAX), ("branch", BANK_TEXT_MAX)):
        value = text(field)
        invisible = any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value)
        if not value:
            errors[field] = [_("This field is required.")]
        elif len(value) > label_max or invisible or not _BANK_TEXT.match(value):
            errors[field] = [_("Use at most %(max)d ordinary characters.") % {"max": label_max}]
        cleaned[field] = value
    account_type = text("account_type")
    if account_type not in AccountType.values:
        errors["account_type"] = [_("Choose ordinary, current or savings.")]
    cleaned["account_type"] = account_type
    number = text("account_number").replace("-", "").replace(" ", "")
    low, high = ACCOUNT_NUMBER_DIGITS
    if not re.fullmatch(r"[0-9]+", number) or not low <= len(number) <= high:
        errors["account_number"] = [
            _("An account number is %(min)d to %(max)d digits.") % {"min": low, "max": high}
        ]
    cleaned["account_number"] = number
    holder = text("account_holder")
    if not holder:
        errors["account_holder"] = [_("This field is required.")]
    elif len(holder) > HOLDER_MAX or not _HOLDER.match(holder):
        errors["account_holder"] = [
            _(
                "Write the account holder in katakana or Latin letters, as the bank has it (at most %(max)d characters)."
            )
            % {"max": HOLDER_MAX}
        ]
    cleaned["account_holder"] = holder
    if errors:
        raise ValidationError(errors)
    return cleaned
