from django.utils.translation import get_language

from .policy import selectors


def policy_notice(request):
    """The policy change notice shown on every page while it applies (C11)."""
    notice = selectors.current_notice()
    if notice is None:
        return {"policy_notice": None}
    language = get_language() or "ja"
    return {
        "policy_notice": {
            "version": notice.version,
            "upcoming": notice.upcoming,
            "effective_on": notice.version.effective_on,
            "reason": notice.version.localized("reason", language),
        }
    }
