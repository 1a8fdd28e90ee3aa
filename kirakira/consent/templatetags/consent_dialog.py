"""``{% consent_dialog %}``: the cookie settings dialog every page carries.

It is the same for everyone of one language and consent state but for the visitor's consent
record ID and the page to return to, and drawing its translated text costs a quarter of a
member's page: it is drawn once per language and state (``page_cache.memo``) with stand-ins for
those two, which each answer puts back.
"""

from django import template
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from kirakira.common import page_cache

register = template.Library()

NEXT_MARK = "kk-consent-next-7c2e91"
ID_MARK = "kk-consent-id-7c2e91"


class _StandIn:
    """The consent context as the shared drawing sees it."""

    def __init__(self, consent):
        self.chosen = consent.chosen
        self.accepted = consent.accepted
        self.consent_id = ID_MARK if consent.consent_id else None
        self.next_path = NEXT_MARK


@register.simple_tag(takes_context=True)
def consent_dialog(context) -> str:
    consent = context.get("consent")
    if not consent:
        return ""
    key = f"consent-dialog:{get_language()}:{int(bool(consent.chosen))}{int(bool(consent.accepted))}"
    key += f"{int(bool(consent.consent_id))}"
    drawn = page_cache.memo(
        key, lambda: render_to_string("consent/dialog.html", {"consent": _StandIn(consent)})
    )
    return mark_safe(  # noqa: S308 - drawn by our template; the two values put back are escaped
        drawn.replace(NEXT_MARK, escape(consent.next_path)).replace(ID_MARK, escape(consent.consent_id or ""))
    )
