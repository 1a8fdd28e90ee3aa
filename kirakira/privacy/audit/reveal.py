"""The one way staff see a masked value in full: ``reveal``, with a reason.

Every reveal goes through here so that the staff access log records it in one place: who,
whose data, which field, why. A role may reveal a field
only when the catalog lists it under ``reveal`` for that field; a role that already sees the
field in full needs no reveal. A field under correction is revealed to nobody.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kirakira.common.roles import roles_of
from kirakira.common.text import clean_text
from kirakira.privacy.access_log.services import Action, record_instance, record_refusal, subject_of
from kirakira.privacy.catalog import catalog
from kirakira.privacy.rights import freeze

REASON_MIN, REASON_MAX = 4, 500


def is_one_word(text: str) -> bool:
    """One word: no space between words in a spaced language, or, in Japanese or Korean written
    without spaces, under 6 characters ("確認", "요청합니다"), which is no sentence either."""
    words = text.split()
    if len(words) > 1:
        return False
    spaced = all(ord(ch) < 0x3000 for ch in text)
    return spaced or len(text) < 6


def may_reveal(actor, model, field_name: str) -> bool:
    entry = catalog.field(model, field_name)
    if entry is None:
        return False
    roles = roles_of(actor)
    return any(entry.visibility(role) == "full" or role in entry.reveal for role in roles)


def _refuse(request, instance, why: str) -> None:
    if request is not None:
        record_refusal(
            request,
            why=why,
            model=instance._meta.label,
            object_id=instance.pk,
            subjects=[subject_of(instance)],
        )


def reason_problem(reason: str) -> str | None:
    """Why a reveal's reason is not one ("" is none): too short, too long, or a single word —
    "check", "確認" say nothing a reviewer can weigh."""
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        return str(
            _("Say why you need to see it (%(min)d to %(max)d characters).")
            % {"min": REASON_MIN, "max": REASON_MAX}
        )
    if is_one_word(reason):
        return str(_("Say why in a sentence: one word is not a reason."))
    return None


def reveal(*, actor, instance, field_name: str, reason: str, request=None):
    """The full value of ``instance.field_name`` for ``actor``, who must say why. The staff
    access log records the reveal, with the reason, in the same transaction as the read: a reveal
    whose record cannot be written is no reveal. A refusal is recorded too."""
    if not may_reveal(actor, type(instance), field_name):
        _refuse(request, instance, "reveal_role")
        raise PermissionDenied(_("Your role may not see this information in full."))
    # Under correction (policy C7): not used until corrected, whatever the reason; the refused
    # use is recorded (``FieldFrozen`` is raised).
    freeze.refuse_use(instance, field_name, request=request)
    reason = (reason or "").strip()
    try:
        reason = clean_text(reason, multiline=True)
    except ValidationError as exc:
        _refuse(request, instance, "reveal_reason")
        raise ValidationError({"reason": exc.error_list}) from None
    problem = reason_problem(reason)
    if problem:
        _refuse(request, instance, "reveal_reason")
        raise ValidationError({"reason": [problem]})
    with transaction.atomic():
        record_instance(
            actor=actor,
            action=Action.REVEAL,
            instance=instance,
            request=request,
            fields=[field_name],
            reason=reason,
        )
        return getattr(instance, field_name)
