"""Publishing a version of the terms of service, and recording a member's agreement to it."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kirakira.common import clock
from kirakira.privacy.policy.selectors import today
from kirakira.privacy.policy.services import MIN_NOTICE_DAYS, validate_announcement

from . import selectors
from .models import TermsAgreement, TermsVersion

LANGUAGES = ("ja", "en", "ko")


def terms_context() -> dict:
    """What the terms say that the code decides: read from the same settings and rules."""
    from kirakira.legal.disclosure import cancellable_statuses

    return {
        "studio": settings.STUDIO_NAME,
        "payment_days": settings.ORDER_PAYMENT_DAYS,
        "start_days": settings.SERVICE_START_BUSINESS_DAYS,
        "fee_by_customer": settings.TRANSFER_FEE_PAID_BY_CUSTOMER,
        "statuses": pgettext("list separator", ", ").join(cancellable_statuses()),
        "notice_days": MIN_NOTICE_DAYS,
    }


def render_terms_body(language: str) -> str:
    with translation.override(language):
        return render_to_string("legal/terms_body.html", terms_context())


def validate_terms_publication(*, effective_on, is_correction: bool, reason: dict, summary: dict, actor):
    if not actor.has_perm("legal.publish_termsversion"):
        raise ValidationError(
            _("Only an administrator may publish a version of the terms of service."), code="forbidden"
        )
    return validate_announcement(
        effective_on=effective_on, is_correction=is_correction, reason=reason, summary=summary
    )


def terms_version_publish(
    *, effective_on: date, reason: dict[str, str], summary: dict[str, str], is_correction: bool = False, actor
) -> TermsVersion:
    """Freeze the terms as generated now and announce them for ``effective_on`` (at least 7 days
    ahead, unless the version only corrects wording): every page shows the change from now until
    30 days after that date (``selectors.current_notice``), and members are asked to agree once
    it applies."""
    texts = validate_terms_publication(
        effective_on=effective_on, is_correction=is_correction, reason=reason, summary=summary, actor=actor
    )
    with transaction.atomic():
        return _create_version(
            effective_on=effective_on,
            is_correction=is_correction,
            reason=texts["reason"],
            summary=texts["summary"],
            actor=actor,
        )


def _create_version(*, effective_on, is_correction, reason, summary, actor) -> TermsVersion:
    fields = {}
    for lang in LANGUAGES:
        fields[f"reason_{lang}"] = reason.get(lang, "")
        fields[f"summary_{lang}"] = summary.get(lang, "")
        fields[f"snapshot_{lang}"] = render_terms_body(lang)
    try:
        with transaction.atomic():
            number = (TermsVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
            return TermsVersion.objects.create(
                number=number,
                effective_on=effective_on,
                is_correction=is_correction,
                published_at=clock.now(),
                published_by=actor,
                **fields,
            )
    except IntegrityError:
        raise ValidationError(
            _("Another version was published at the same moment; please try again.")
        ) from None


def first_version() -> TermsVersion:
    """The version agreements name before any was published: the terms as generated now,
    published by the site itself and in force from today."""
    with transaction.atomic():
        existing = TermsVersion.objects.select_for_update().order_by("number").first()
        if existing is not None:
            return existing
        reasons, summaries = {}, {}
        for lang in LANGUAGES:
            with translation.override(lang):
                reasons[lang] = _("First publication.")
                summaries[lang] = _("The first version of the terms of service.")
        return _create_version(
            effective_on=today(), is_correction=False, reason=reasons, summary=summaries, actor=None
        )


def terms_agree(*, member, number: int | None = None, channel: str) -> TermsAgreement:
    """Record that the member agrees to the version in force (``number``, when given, is the
    version the member read: refused if another has taken effect since)."""
    current = selectors.in_force() or first_version()
    if number is not None and number != current.number:
        raise ValidationError(
            {
                "version": [
                    _("Version %(number)d of the terms is in force now: read it and agree to it.")
                    % {"number": current.number}
                ]
            },
            code="stale_version",
        )
    agreement, _created = TermsAgreement.objects.get_or_create(
        member=member, version=current, defaults={"channel": channel}
    )
    return agreement


def terms_pending(member) -> bool:
    """Whether the member has yet to agree to the version in force (never for staff, and never
    before any version exists: registration publishes the first)."""
    if member.is_staff:
        return False
    number = selectors.in_force_number()
    return bool(number) and not selectors.has_agreed(member, number)
