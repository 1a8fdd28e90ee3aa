"""How login IDs, names and emails are compared and stored.

Full-width and other compatibility forms are folded with NFKC before anything else, so that
"ＡＬＩＣＥ" and "alice" are the same login ID and "ｍｅ＠ｅｘａｍｐｌｅ．ｃｏｍ" the same email.
Names keep their script and width (a member may write their name in full-width); only the
surrounding white space, including the ideographic space, is trimmed.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

LOGIN_ID_PATTERN = re.compile(r"^[a-z0-9_.\-]{4,30}$")
LOGIN_ID_MIN, LOGIN_ID_MAX = 4, 30
NAME_MAX = 100


def normalize_login_id(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().lower()


def normalize_email(value: str) -> str:
    # The local part is case-sensitive in theory only; every mail provider a member uses treats
    # it case-insensitively, and two accounts differing only in case would be one mailbox.
    return unicodedata.normalize("NFKC", value or "").strip().lower()


def normalize_name(value: str) -> str:
    return (value or "").strip()


def validate_login_id(value: str) -> None:
    if not LOGIN_ID_MIN <= len(value) <= LOGIN_ID_MAX:
        raise ValidationError(
            _("A login ID is %(min)d to %(max)d characters long."),
            code="login_id_length",
            params={"min": LOGIN_ID_MIN, "max": LOGIN_ID_MAX},
        )
    if not LOGIN_ID_PATTERN.match(value):
        raise ValidationError(
            _("Use only lowercase letters a–z, digits 0–9, and the characters _ . -"),
            code="login_id_characters",
        )


def validate_name(value: str) -> None:
    if not value:
        raise ValidationError(_("Enter your name."), code="required")
    if len(value) > NAME_MAX:
        raise ValidationError(
            _("A name is at most %(max)d characters long."), code="name_length", params={"max": NAME_MAX}
        )
    # Zl and Zp (U+2028, U+2029) break a line like a control character would.
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in value):
        raise ValidationError(_("The name contains characters that cannot be used."), code="name_characters")
