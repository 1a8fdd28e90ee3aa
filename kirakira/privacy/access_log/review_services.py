"""Marking a month of the staff access log as reviewed (policy C10).

A month's mark has two parts so that nobody reviews their own accesses: the privacy officer
marks the accesses of everyone else; a member of the privacy staff who is not an officer marks
the officer's. Whoever marks may have no row in the part they mark (an officer who was not one
yet in some rows of the month cannot mark those). A month is marked only once it is over (its
rows are all written), and each part once: the mark is the record of the review — who, when,
which month, their note, and how many rows it covered — and is never changed. Writing it also
leaves a row in the access log itself (the mark is a catalogued record).
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kirakira.common.roles import Role, roles_of
from kirakira.privacy.audit.permissions import current_request_id

from ..models import AccessReview
from . import review

NOTE_MAX = 2000
REVIEW_PERMISSION = "privacy.review_staffaccessrecord"
# The role that marks each part, and the role that may not.
MARKER_ROLE = {AccessReview.Part.STAFF: Role.PRIVACY_OFFICER, AccessReview.Part.OFFICER: Role.PRIVACY_STAFF}
EXCLUDED_ROLE = {AccessReview.Part.STAFF: None, AccessReview.Part.OFFICER: Role.PRIVACY_OFFICER}


def why_not_mark(*, actor, month: date, part: str, coverage=None) -> str | None:
    """Why ``actor`` may not mark ``part`` of ``month`` (a message in the active language), or
    None when they may."""
    if part not in AccessReview.Part.values:
        return _("Choose which accesses the mark is for.")
    roles = roles_of(actor)
    if (
        not actor.has_perm(REVIEW_PERMISSION)
        or MARKER_ROLE[part] not in roles
        or EXCLUDED_ROLE[part] in roles
    ):
        if part == AccessReview.Part.STAFF:
            return _("Only the privacy officer marks the accesses of the other staff as reviewed.")
        return _(
            "The privacy officer's accesses are marked as reviewed by privacy staff who are not officers."
        )
    if not review.month_is_over(month):
        return _("A month can be marked as reviewed only once it is over.")
    coverage = coverage if coverage is not None else review.month_parts(month=month)
    if actor.pk in coverage[part].staff:
        return _("Your own accesses are in this part of the month: someone else must review them.")
    if AccessReview.objects.filter(month=month, part=part).exists():
        return _("This part of the month is already marked as reviewed.")
    return None


def access_review_mark(*, month: date, part: str, actor, note: str = "") -> AccessReview:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError(
            {"note": _("Keep the note within %(max)d characters.") % {"max": NOTE_MAX}}, code="too_long"
        )
    with transaction.atomic():
        coverage = review.month_parts(month=month)
        problem = why_not_mark(actor=actor, month=month, part=part, coverage=coverage)
        if problem is not None:
            raise ValidationError(problem, code="not_allowed")
        try:
            with transaction.atomic():
                return AccessReview.objects.create(
                    month=month,
                    part=part,
                    reviewed_by=actor,
                    note=note,
                    record_count=coverage[part].rows,
                    last_seq=coverage[part].last_seq,
                    request_id=current_request_id(),
                )
        except IntegrityError:  # marked by someone else a moment ago
            raise ValidationError(
                _("This part of the month is already marked as reviewed."), code="already_marked"
            ) from None
