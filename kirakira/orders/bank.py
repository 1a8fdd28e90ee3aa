"""The studio's bank account, as each reader's page, email or API answer shows it."""

from django.conf import settings
from django.utils.translation import get_language

from .models import AccountType

# An account type set the way a Japanese bank writes it.
_JAPANESE_TYPES = {"普通": AccountType.ORDINARY, "当座": AccountType.CURRENT, "貯蓄": AccountType.SAVINGS}


def studio_account() -> dict[str, str]:
    """Bank and branch in the active language where set, the account type as its label in that
    language, the number and the holder as the bank has them."""
    account = settings.STUDIO_BANK_ACCOUNT
    language = (get_language() or "ja")[:2]

    def localized(field: str) -> str:
        value = account.get(f"{field}_{language}", "") if language in ("en", "ko") else ""
        return value or account[field]

    raw_type = account["account_type"].strip()
    code = _JAPANESE_TYPES.get(raw_type, raw_type)
    account_type = str(AccountType(code).label) if code in AccountType.values else raw_type
    return {
        "bank_name": localized("bank_name"),
        "branch": localized("branch"),
        "account_type": account_type,
        "account_number": account["account_number"],
        "account_holder": account["account_holder"],
    }
