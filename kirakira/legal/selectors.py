"""Reads about the terms of service: the version in force, the one announced, who agreed to what."""

from dataclasses import dataclass
from datetime import date, timedelta

from kirakira.common import page_cache
from kirakira.privacy.policy.selectors import today

from .models import TermsAgreement, TermsVersion

_WITHOUT_TEXT = ("snapshot_ja", "snapshot_en", "snapshot_ko")


def in_force(on: date | None = None) -> TermsVersion | None:
    on = on or today()
    return (
        TermsVersion.objects.filter(effective_on__lte=on)
        .defer(*_WITHOUT_TEXT)
        .order_by("-effective_on", "-number")
        .first()
    )


def in_force_number() -> int:
    """The number of the version in force (0 before the first): read on every member request,
    so shared by all processes until the cached pages go stale (``page_cache.memo``)."""
    return page_cache.memo("terms-in-force", lambda: v.number if (v := in_force()) else 0)


def coming(on: date | None = None) -> TermsVersion | None:
    on = on or today()
    return (
        TermsVersion.objects.filter(effective_on__gt=on)
        .defer(*_WITHOUT_TEXT)
        .order_by("effective_on", "number")
        .first()
    )


def versions() -> list[TermsVersion]:
    return list(TermsVersion.objects.defer(*_WITHOUT_TEXT).order_by("-number"))


def version(number: int) -> TermsVersion | None:
    return TermsVersion.objects.filter(number=number).first()


def previous(version: TermsVersion) -> TermsVersion | None:
    return TermsVersion.objects.filter(number__lt=version.number).order_by("-number").first()


def has_agreed(member, number: int) -> bool:
    return TermsAgreement.objects.filter(member=member, version__number=number).exists()


def agreements(member) -> list[TermsAgreement]:
    return list(
        TermsAgreement.objects.filter(member=member)
        .select_related("version")
        .only("agreed_at", "channel", "version__number", "version__effective_on")
        .order_by("-version__number")
    )


# The change notice stays on the site this long after the new version takes effect.
NOTICE_DAYS_AFTER = 30


@dataclass
class Notice:
    version: TermsVersion
    upcoming: bool  # True before the effective date, False during the 30 days after


def current_notice(on: date | None = None) -> Notice | None:
    """The change the site announces today: from publication until 30 days after the effective
    date (the newest such version). The first version, which announces no change, never is."""
    on = on or today()
    version = (
        TermsVersion.objects.filter(effective_on__gte=on - timedelta(days=NOTICE_DAYS_AFTER), number__gt=1)
        .defer(*_WITHOUT_TEXT)
        .order_by("-number")
        .first()
    )
    if version is None:
        return None
    return Notice(version=version, upcoming=version.effective_on > on)
