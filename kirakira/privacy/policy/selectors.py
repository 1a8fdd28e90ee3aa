"""Reads about policy versions: which is in force, which is announced, what a page shows."""

import difflib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape

from django.utils import timezone

from kirakira.common import clock
from kirakira.privacy.models import PolicyVersion

NOTICE_DAYS_AFTER = 30


def today() -> date:
    return timezone.localdate(clock.now())


def in_force(on: date | None = None) -> PolicyVersion | None:
    on = on or today()
    return PolicyVersion.objects.filter(effective_on__lte=on).order_by("-effective_on", "-number").first()


def coming(on: date | None = None) -> PolicyVersion | None:
    on = on or today()
    return PolicyVersion.objects.filter(effective_on__gt=on).order_by("effective_on", "number").first()


@dataclass
class Notice:
    version: PolicyVersion
    upcoming: bool  # True before the effective date, False during the 30 days after


def current_notice(on: date | None = None) -> Notice | None:
    """The change notice the site shows today: from publication until 30 days after the
    effective date (the newest such version)."""
    on = on or today()
    version = (
        PolicyVersion.objects.filter(effective_on__gte=on - timedelta(days=NOTICE_DAYS_AFTER))
        .order_by("-number")
        .only("number", "effective_on", "is_correction", "reason_ja", "reason_en", "reason_ko")
        .first()
    )
    if version is None:
        return None
    return Notice(version=version, upcoming=version.effective_on > on)


def versions() -> list[PolicyVersion]:
    return list(PolicyVersion.objects.defer("snapshot_ja", "snapshot_en", "snapshot_ko").order_by("-number"))


_TAGS = re.compile(r"<[^>]+>")
_BLOCKS = re.compile(r"</(p|li|h2|h3|dt|dd|tr|th|td)>|<br\s*/?>", re.I)


def snapshot_lines(html: str) -> list[str]:
    text = _BLOCKS.sub("\n", html)
    text = unescape(_TAGS.sub("", text))
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


def difference(old_html: str, new_html: str) -> list[DiffLine]:
    old, new = snapshot_lines(old_html), snapshot_lines(new_html)
    lines = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            lines.extend(DiffLine("same", t) for t in old[i1:i2])
            continue
        lines.extend(DiffLine("removed", t) for t in old[i1:i2])
        lines.extend(DiffLine("added", t) for t in new[j1:j2])
    return lines


def last_acknowledged(member):
    """The newest policy version the member accepted (recorded at login), or None."""
    from kirakira.privacy.models import PolicyAcknowledgement

    return (
        PolicyAcknowledgement.objects.filter(member=member)
        .select_related("version")
        .only("acknowledged_at", "version__number", "version__effective_on")
        .order_by("-version__number")
        .first()
    )
