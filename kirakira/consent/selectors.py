"""Reads: the cookie table the visitor must consent to, and the popups a page shows."""

from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kirakira.common import clock, page_cache
from kirakira.legal import selectors as terms_selectors
from kirakira.privacy.policy import selectors as policy_selectors
from kirakira.privacy.policy.services import cookies_digest

from .models import Audience, Notice


def consent_basis():
    """(policy version in force or None, fingerprint of its cookie table).

    Consent is given to the cookie table of the policy in force; a new version whose table
    differs asks again once it takes effect. Before any version is published, the table the
    code declares is the one asked about.
    """
    version = policy_selectors.in_force()
    digest = version.cookies_digest if version is not None and version.cookies_digest else cookies_digest()
    return version, digest


def current_digest() -> str:
    """The fingerprint of the cookie table in force, as every page's banner compares it."""
    return page_cache.memo("consent-digest", lambda: consent_basis()[1])


@dataclass(frozen=True)
class Popup:
    key: str  # what "don't show again" remembers: n<notice id> or p<policy version number>
    title: str
    body: str
    link_url: str = ""
    link_label: str = ""


def notices_for(*, user, language: str) -> list[Notice]:
    now = clock.now()
    audiences = [Audience.EVERYONE, Audience.MEMBERS if user.is_authenticated else Audience.VISITORS]
    return list(
        Notice.objects.filter(Q(starts_at__lte=now) & Q(ends_at__gt=now), audience__in=audiences).order_by(
            "starts_at", "id"
        )
    )


def popups(*, user, language: str, dismissed=()) -> list[Popup]:
    """The popups a page shows now: the policy change notice (C11) first, then staff notices,
    leaving out those the visitor asked not to see again. Every page shows them: they are drawn
    once per language, audience and minute for every process (``page_cache.memo``)."""
    audience = "members" if user.is_authenticated else "visitors"
    shown = page_cache.memo(
        f"popups:{language}:{get_language()}:{audience}", lambda: _popups(user=user, language=language)
    )
    return [popup for popup in shown if popup.key not in dismissed]


def _sentences(*parts: str) -> str:
    """Sentences one after another: Japanese ones end in 。 and take no space between them."""
    text = ""
    for part in filter(None, (p.strip() for p in parts)):
        text += part if not text or text.endswith(("。", "！", "？")) else f" {part}"
    return text


def _popups(*, user, language: str) -> list[Popup]:
    shown = []
    policy_notice = policy_selectors.current_notice()
    if policy_notice is not None:
        version = policy_notice.version
        date = formats.date_format(version.effective_on, "DATE_FORMAT")
        if policy_notice.upcoming:
            headline = _("Our privacy policy will change on %(date)s.") % {"date": date}
        else:
            headline = _("Our privacy policy changed on %(date)s.") % {"date": date}
        shown.append(
            Popup(
                key=f"p{version.number}",
                title=_("Privacy policy change"),
                body=_sentences(headline, version.localized("reason", language)),
                link_url=reverse("privacy:policy_changes"),
                link_label=_("See the changes"),
            )
        )
    terms_notice = terms_selectors.current_notice()
    if terms_notice is not None:
        version = terms_notice.version
        date = formats.date_format(version.effective_on, "DATE_FORMAT")
        if terms_notice.upcoming:
            headline = _("Our terms of service will change on %(date)s.") % {"date": date}
        else:
            headline = _("Our terms of service changed on %(date)s.") % {"date": date}
        shown.append(
            Popup(
                key=f"t{version.number}",
                title=_("Terms of service change"),
                body=_sentences(headline, version.localized("reason", language)),
                link_url=reverse("legal:terms_changes"),
                link_label=_("See the changes"),
            )
        )
    for notice in notices_for(user=user, language=language):
        shown.append(
            Popup(
                key=f"n{notice.pk}",
                title=notice.localized("title", language),
                body=notice.localized("body", language),
            )
        )
    return shown
