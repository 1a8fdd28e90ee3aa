"""Publishing a policy version (C11) and recording which version a member accepted."""

import hashlib
from datetime import date, timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from kirakira.common import clock
from kirakira.common.text import clean_text
from kirakira.common.validation import collect
from kirakira.privacy.models import PolicyAcknowledgement, PolicyVersion

from . import content, selectors

MIN_NOTICE_DAYS = 7
LANGUAGES = ("ja", "en", "ko")


def render_policy_body(language: str) -> str:
    with translation.override(language):
        return render_to_string("privacy/policy_body.html", content.policy_context())


def cookies_digest() -> str:
    rows = [(c["name"], c["category"], c["lifetime"]) for c in _cookie_rows_in("en")]
    return hashlib.sha256(repr(sorted(rows)).encode()).hexdigest()


def _cookie_rows_in(language: str) -> list[dict]:
    with translation.override(language):
        return content.cookie_rows()


def policy_version_publish(
    *,
    effective_on: date,
    reason: dict[str, str],
    summary: dict[str, str],
    is_correction: bool = False,
    actor,
) -> PolicyVersion:
    """Freeze the policy as generated now and announce it for ``effective_on``.

    ``reason`` and ``summary`` are keyed by language; Japanese is required. The date must be
    at least 7 days ahead, unless the version only corrects wording (then today or later).
    """
    texts = validate_publication(
        effective_on=effective_on, is_correction=is_correction, reason=reason, summary=summary, actor=actor
    )
    snapshots = {lang: render_policy_body(lang) for lang in LANGUAGES}
    fields = {}
    for lang in LANGUAGES:
        fields[f"reason_{lang}"] = texts["reason"][lang]
        fields[f"summary_{lang}"] = texts["summary"][lang]
        fields[f"snapshot_{lang}"] = snapshots[lang]
    try:
        with transaction.atomic():
            number = (PolicyVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
            return PolicyVersion.objects.create(
                number=number,
                effective_on=effective_on,
                is_correction=is_correction,
                cookies_digest=cookies_digest(),
                published_at=clock.now(),
                published_by=actor,
                **fields,
            )
    except IntegrityError:
        raise ValidationError(
            _("Another version was published at the same moment; please try again.")
        ) from None


def validate_publication(
    *, effective_on, is_correction: bool, reason: dict, summary: dict, actor
) -> dict[str, dict[str, str]]:
    """Raise ``ValidationError`` (by field) unless this publication is allowed. Returns the
    reasons and summaries as they are stored (``{"reason": {lang: text}, "summary": ...}``):
    trimmed, line breaks as ``\\n``, and checked like every free text (``common/text.py``),
    since every visitor reads them."""
    if not actor.has_perm("privacy.publish_policyversion"):
        raise ValidationError(_("Only the privacy officer may publish a policy version."), code="forbidden")
    return validate_announcement(
        effective_on=effective_on, is_correction=is_correction, reason=reason, summary=summary
    )


def validate_announcement(
    *, effective_on, is_correction: bool, reason: dict, summary: dict
) -> dict[str, dict[str, str]]:
    """The rules of announcing a new version of a published text (the policy, the terms of
    service): at least 7 days' notice unless it only corrects wording, and a reason and a summary
    in Japanese at least. Raises ``ValidationError`` by field; returns the cleaned texts."""
    errors: dict[str, list[str]] = {}
    today = selectors.today()
    if effective_on is None:
        errors["effective_on"] = [_("Give the effective date.")]
    elif effective_on < today:
        errors["effective_on"] = [_("The effective date cannot be in the past.")]
    elif not is_correction and effective_on < today + timedelta(days=MIN_NOTICE_DAYS):
        errors["effective_on"] = [
            _(
                "The effective date must be at least %(days)d days after today (%(date)s), unless the version only corrects wording."
            )
            % {"days": MIN_NOTICE_DAYS, "date": (today + timedelta(days=MIN_NOTICE_DAYS)).isoformat()}
        ]
    required = {
        "reason": _("Give the reason for the change (in Japanese at least)."),
        "summary": _("Summarise the changes (in Japanese at least)."),
    }
    cleaned: dict[str, dict[str, str]] = {}
    for name, texts in (("reason", reason), ("summary", summary)):
        cleaned[name] = {}
        for lang in LANGUAGES:
            value = (texts.get(lang) or "").strip()
            if lang == "ja" and not value:
                errors[f"{name}_ja"] = [required[name]]
                continue
            cleaned[name][lang] = collect(errors, f"{name}_{lang}", partial(clean_text, multiline=True), value)
    if errors:
        raise ValidationError(errors)
    return cleaned


def policy_acknowledge(*, member) -> PolicyAcknowledgement | None:
    """Record that the member has seen the version in force (called when they log in)."""
    version = selectors.in_force()
    if version is None or member.is_staff:
        return None
    acknowledgement, _created = PolicyAcknowledgement.objects.get_or_create(member=member, version=version)
    return acknowledgement
