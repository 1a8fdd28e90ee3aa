"""What the privacy officer does in the retention back office: placing and releasing legal holds,
and opening a withdrawn member's record in separate storage.

Threat model for the reading: separate storage holds what a withdrawn member left behind and
what only the policy's reasons (fraud prevention, a dispute, an investigation) justify reading.
So a reading names one of those reasons and a reference to the case, and is written to the staff
access log, with both, in the transaction that decrypts the record: a reading whose log row
fails is no reading. A reading without a reason is refused and the refusal logged, as a reveal's.
"""

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kirakira.common import clock
from kirakira.common.text import clean_text
from kirakira.privacy.access_log.services import Action, record, record_refusal

from . import selectors
from .models import LegalHold, RetainedRecord

READ_PERMISSION = "privacy.view_retainedrecord"
HOLD_PERMISSION = "privacy.place_legal_hold"
REFERENCE_MIN, REFERENCE_MAX = 3, 100
HOLD_REASON_MAX = 1000


class ReadingReason(models.TextChoices):
    """The policy's reasons for reading separate storage (policy C4)."""

    FRAUD_PREVENTION = "fraud_prevention", gettext_lazy("Fraud prevention")
    DISPUTE_RESOLUTION = "dispute_resolution", gettext_lazy("Dispute resolution")
    INVESTIGATION = "investigation", gettext_lazy("Cooperation with an investigation")


# --- legal holds -------------------------------------------------------------------------------


def _clean(value: str, *, field: str, multiline: bool, low: int, high: int, errors: dict) -> str:
    value = (value or "").strip()
    try:
        value = clean_text(value, multiline=multiline)
    except ValidationError as exc:
        errors.setdefault(field, []).extend(exc.messages)
        return value
    if not low <= len(value) <= high:
        errors.setdefault(field, []).append(
            _("Write %(low)d to %(high)d characters.") % {"low": low, "high": high}
        )
    return value


def legal_hold_validate(*, member: str, reason: str, reference: str, ends_at, now=None) -> dict:
    """The hold's values as they would be saved, with ``subject_id`` resolved from ``member``
    (a live member's login ID, or a former member's ID as separate storage shows it); raises
    ``ValidationError`` naming each field that is wrong."""
    now = now or clock.now()
    errors: dict[str, list] = {}
    subject_id = selectors.hold_subject(identifier=member)
    if subject_id is None:
        errors["member"] = [
            _("No member has this login ID, and no withdrawn member has this ID in separate storage.")
        ]
    cleaned = {
        "subject_id": subject_id,
        "reason": _clean(reason, field="reason", multiline=True, low=4, high=HOLD_REASON_MAX, errors=errors),
        "reference": _clean(
            reference, field="reference", multiline=False, low=1, high=REFERENCE_MAX, errors=errors
        ),
        "ends_at": ends_at,
    }
    if ends_at is not None and ends_at <= now:
        errors["ends_at"] = [_("A hold ends in the future (leave it empty for a hold until released).")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def legal_hold_place(*, member: str, reason: str, reference: str, ends_at=None, actor) -> LegalHold:
    """A hold on everything of one member, from now until ``ends_at`` or its release. The staff
    access log records its creation (the save's own signal, in this transaction)."""
    if not actor.has_perm(HOLD_PERMISSION):
        raise PermissionDenied(_("Only the privacy officer places legal holds."))
    now = clock.now()
    values = legal_hold_validate(member=member, reason=reason, reference=reference, ends_at=ends_at, now=now)
    with transaction.atomic():
        return LegalHold.objects.create(**values, starts_at=now, placed_by=actor)


def legal_hold_release(*, hold_id, actor) -> bool:
    """Ends a hold now. False when it had already ended or been released (nothing changes)."""
    if not actor.has_perm(HOLD_PERMISSION):
        raise PermissionDenied(_("Only the privacy officer releases legal holds."))
    now = clock.now()
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None or hold.released_at is not None or (hold.ends_at is not None and hold.ends_at <= now):
            return False
        hold.released_at = now
        hold.released_by = actor
        hold.save(update_fields=["released_at", "released_by"])
        return True


# --- separate storage --------------------------------------------------------------------------


def reading_problem(*, reason: str, reference: str) -> dict:
    """Why a reading may not go ahead, by field (empty: it may)."""
    problems: dict[str, list] = {}
    if reason not in ReadingReason.values:
        problems["reason"] = [_("Choose the reason for reading this record.")]
    _clean(
        reference, field="reference", multiline=False, low=REFERENCE_MIN, high=REFERENCE_MAX, errors=problems
    )
    return problems


def retained_record_read(*, actor, record_id: uuid.UUID, reason: str, reference: str, request=None):
    """The decrypted content of a record in separate storage, for the privacy officer, who says
    why (one of ``ReadingReason``) and for which case (``reference``). The staff access log
    records the reading with both, in the transaction of the read; a refusal is recorded too."""
    retained = RetainedRecord.objects.defer("data").get(pk=record_id)
    if not actor.has_perm(READ_PERMISSION):
        if request is not None:
            record_refusal(
                request,
                why="reveal_role",
                model=RetainedRecord,
                object_id=retained.pk,
                subjects=[retained.subject_id],
            )
        raise PermissionDenied(_("Only the privacy officer reads separate storage."))
    problems = reading_problem(reason=reason, reference=reference)
    if problems:
        if request is not None:
            record_refusal(
                request,
                why="reveal_reason",
                model=RetainedRecord,
                object_id=retained.pk,
                subjects=[retained.subject_id],
            )
        raise ValidationError(problems)
    reference = clean_text(reference.strip(), multiline=False)
    with transaction.atomic():
        record(
            actor=actor,
            action=Action.REVEAL,
            request=request,
            model=RetainedRecord,
            object_id=retained.pk,
            fields=["privacy.RetainedRecord.data"],
            subjects=[retained.subject_id] if retained.subject_id != actor.pk else [],
            reason=f"{reason}: {reference}",
        )
        return RetainedRecord.objects.get(pk=record_id).data
