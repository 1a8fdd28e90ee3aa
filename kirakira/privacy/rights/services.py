"""Writes of members' rights requests: receiving one (after the identity check), and staff's
answers — done, refused on a ground, or extended with a reason — each told to the member.

Pages and the API call these; they never write the models themselves.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from kirakira.common import clock
from kirakira.common.tasks import enqueue_in_transaction

from . import correction
from .identity import identity_check
from .models import ANSWER_DAYS, EXPORT_LINK_DAYS, OPEN, Ground, Kind, RightsRequest, Scope, Status


def _tell_member(request: RightsRequest, event: str) -> None:
    from .tasks import send_request_email

    enqueue_in_transaction(send_request_email, request_id=str(request.pk), event=event)


def _refuse_staff(member) -> None:
    if member.is_staff:
        raise ValidationError(
            _("Staff accounts make requests about their own data to the privacy officer directly."),
            code="staff",
        )


def clean_details(member, kind: str, details: dict) -> dict:
    """The fields of a request of ``kind`` from the member's input, or ``ValidationError``
    naming the bad ones. Changes nothing."""
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Choose one of: export, correction, deletion, restriction.")]})
    if kind == Kind.EXPORT:
        if RightsRequest.objects.filter(member=member, kind=Kind.EXPORT, status__in=OPEN).exists():
            raise ValidationError(
                _("Your previous download is still being prepared. Please wait until it is ready."),
                code="export_building",
            )
        return {}
    if kind == Kind.CORRECTION:
        return correction.clean(member, details)
    if kind == Kind.DELETION:
        from .deletion import clean_entries

        return {"entries": clean_entries(member, details.get("entries"))}
    scope = details.get("scope") or ""
    if scope not in Scope.values:
        raise ValidationError({"scope": [_("Choose what to stop: notices, usage_log or all.")]})
    if RightsRequest.objects.in_force_restrictions().filter(member=member, scope=scope).exists():
        raise ValidationError({"scope": [_("This processing is already stopped.")]}, code="already_stopped")
    return {"scope": scope}


def request_submit(
    member, kind: str, *, password: str, identity_code: str, http_request, **details
) -> RightsRequest:
    """Receive a rights request: its input checked first (nothing changes on a mistake), then
    the identity (password and mailed code), then the request stored with its due date. An
    export starts building; a correction freezes its field and a stop of processing is in
    force from now."""
    _refuse_staff(member)
    cleaned = clean_details(member, kind, details)
    identity_check(member, password=password, code=identity_code, http_request=http_request)
    now = clock.now()
    try:
        with transaction.atomic():
            request = RightsRequest.objects.create(
                member=member, kind=kind, received_at=now, due_at=now + timedelta(days=ANSWER_DAYS), **cleaned
            )
            if kind == Kind.EXPORT:
                from .tasks import build_export

                enqueue_in_transaction(build_export, request_id=str(request.pk))
            _tell_member(request, "received")
    except IntegrityError:  # a second export, sent in the same instant as the first
        raise ValidationError(
            _("Your previous download is still being prepared. Please wait until it is ready."),
            code="export_building",
        ) from None
    return request


def _locked(request_id) -> RightsRequest:
    return RightsRequest.objects.select_for_update().get(pk=request_id)


def _open_or_refuse(request: RightsRequest) -> None:
    if not request.is_open:
        raise ValidationError(_("This request has already been answered."), code="answered")


def _handled_by(request: RightsRequest, actor) -> list[str]:
    """The first staff member to act on a request owns it (the fields to save)."""
    if request.handler_id is None and actor is not None:
        request.handler = actor
        return ["handler"]
    return []


def request_take(request_id, *, actor) -> RightsRequest:
    """"Take it": ``actor`` becomes the open request's handler. A leaver's requests go to a
    colleague by the handover (kirakira/accounts/offboarding.py)."""
    if not actor.is_active or not actor.has_perm("privacy.decide_rightsrequest"):
        raise PermissionDenied(_("Your role may not do this."))
    with transaction.atomic():
        request = _locked(request_id)
        _open_or_refuse(request)
        if request.handler_id != actor.pk:
            request.handler = actor
            request.save(update_fields=["handler"])
    return request


def request_refuse(request_id, *, actor, ground: int | None, answer: str) -> RightsRequest:
    """Refuse on one of the policy's grounds ①②③, with an explanation the member receives.
    A refused stop of processing is no longer in force; a refused correction unfreezes."""
    errors = {}
    if ground not in Ground.values:
        errors["ground"] = [_("Choose the ground of the privacy policy (①, ② or ③) the refusal rests on.")]
    if not (answer or "").strip():
        errors["answer"] = [_("Explain the refusal to the member.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request = _locked(request_id)
        _open_or_refuse(request)
        if request.kind == Kind.EXPORT and request.status == Status.BUILDING:
            raise ValidationError(_("The download is already being prepared."), code="building")
        request.status = Status.REFUSED
        request.ground = ground
        request.answer = answer.strip()
        request.decided_at = clock.now()
        request.decided_by = actor
        handled = _handled_by(request, actor)
        request.save(update_fields=["status", "ground", "answer", "decided_at", "decided_by", *handled])
        _tell_member(request, "refused")
    return request


def request_extend(request_id, *, actor, days: int, reason: str) -> RightsRequest:
    """Move the due date, before it passes, with a reason the member is told at once."""
    errors = {}
    if not isinstance(days, int) or not 1 <= days <= 30:
        errors["days"] = [_("Extend by 1 to 30 days.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Explain the extension to the member.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request = _locked(request_id)
        _open_or_refuse(request)
        now = clock.now()
        if request.due_at <= now:
            raise ValidationError(
                _("The due date has passed: an extension must be explained to the member before it."),
                code="overdue",
            )
        request.due_at += timedelta(days=days)
        request.extended_at = now
        request.extension_reason = reason.strip()
        request.reminded_at = None  # remind again 3 days before the new date
        request.save(
            update_fields=["due_at", "extended_at", "extension_reason", "reminded_at", *_handled_by(request, actor)]
        )
        _tell_member(request, "extended")
    return request


def request_complete(request_id, *, actor, answer: str = "", value=None, write: bool = True) -> RightsRequest:
    """Staff carry out a request: a correction's value is written (``value``, or the member's
    own) and its field unfreezes; a deletion deletes what no rule keeps and lists the rest; a
    stop of processing is confirmed (it stays in force until the member lifts it)."""
    with transaction.atomic():
        request = _locked(request_id)
        _open_or_refuse(request)
        if request.kind == Kind.EXPORT:
            raise ValidationError(_("A download is finished by the system, not by staff."), code="export")
        if request.kind == Kind.CORRECTION:
            correction.apply(request, value=value, write=write)
            # Data already provided to a third party (under a law): its recipient is told.
            from kirakira.disclosures.services import corrections_after

            corrections_after(request)
        elif request.kind == Kind.DELETION:
            from .deletion import carry_out

            request.kept = carry_out(request)
        request.status = Status.DONE
        request.answer = (answer or "").strip()
        request.decided_at = clock.now()
        request.decided_by = actor
        handled = _handled_by(request, actor)
        request.save(update_fields=["status", "answer", "decided_at", "decided_by", "kept", *handled])
        _tell_member(request, "done")
    return request


def restriction_lift(member, request_id) -> RightsRequest:
    """The member ends their own stop of processing."""
    with transaction.atomic():
        request = RightsRequest.objects.select_for_update().filter(pk=request_id, member=member).first()
        if request is None or request.kind != Kind.RESTRICTION:
            raise RightsRequest.DoesNotExist()
        if request.status not in (*OPEN, Status.DONE):
            raise ValidationError(_("This stop of processing is no longer in force."), code="not_in_force")
        request.status = Status.LIFTED
        request.lifted_at = clock.now()
        if request.decided_at is None:
            request.decided_at = request.lifted_at
        request.save(update_fields=["status", "lifted_at", "decided_at"])
    return request


def export_progress(request_id, percent: int) -> None:
    RightsRequest.objects.filter(pk=request_id, status__in=OPEN).update(
        status=Status.BUILDING, progress=max(0, min(99, percent))
    )


def export_failed(request_id) -> None:
    """The build failed (its partial file is gone): the request stops blocking a new one and
    the member is told to ask again. Its due date stays, for staff to see."""
    with transaction.atomic():
        request = _locked(request_id)
        if not request.is_open:
            return
        request.status = Status.FAILED
        request.decided_at = clock.now()
        request.save(update_fields=["status", "decided_at"])
        _tell_member(request, "export_failed")


def export_downloaded(request_id) -> None:
    """Count a download (the member's own use of the link, kept with the request)."""
    from django.db.models import F

    RightsRequest.objects.filter(pk=request_id).update(downloads=F("downloads") + 1, last_downloaded_at=clock.now())


def export_ready(request_id, *, file_name: str, file_size: int) -> RightsRequest:
    """The worker finished the file: the link works for ``EXPORT_LINK_DAYS`` days."""
    from . import export_files

    with transaction.atomic():
        request = _locked(request_id)
        if not request.is_open:
            # Answered meanwhile (refused, or closed by a withdrawal): the file must not outlive it.
            transaction.on_commit(lambda: export_files.delete(request))
            return request
        now = clock.now()
        request.status = Status.DONE
        request.progress = 100
        request.file_name = file_name
        request.file_size = file_size
        request.decided_at = now
        request.expires_at = now + timedelta(days=EXPORT_LINK_DAYS)
        request.save(
            update_fields=["status", "progress", "file_name", "file_size", "decided_at", "expires_at"]
        )
        _tell_member(request, "export_ready")
    return request


def requests_close_on_withdrawal(member, now) -> int:
    """Withdrawal answers the member's open requests (everything not kept is deleted anyway):
    each is marked done with that answer, an export's file is deleted, and unused codes go.
    Called in the withdrawal's transaction; returns how many requests it closed."""
    from . import export_files
    from .models import IdentityCode

    IdentityCode.objects.filter(member=member).delete()
    with override(member.language):
        answer = _("Closed: you withdrew from membership.")
    closed = 0
    for request in RightsRequest.objects.select_for_update().filter(member=member).open():
        request.status = Status.DONE
        request.answer = answer
        request.decided_at = now
        request.save(update_fields=["status", "answer", "decided_at"])
        closed += 1
    for request in RightsRequest.objects.filter(member=member, kind=Kind.EXPORT).exclude(file_name=""):
        RightsRequest.objects.filter(pk=request.pk).update(file_name="", file_size=None, expires_at=now)
        transaction.on_commit(lambda request=request: export_files.delete(request))
    return closed


__all__ = [
    "clean_details",
    "export_downloaded",
    "export_failed",
    "export_progress",
    "export_ready",
    "request_complete",
    "requests_close_on_withdrawal",
    "request_extend",
    "request_refuse",
    "request_submit",
    "restriction_lift",
]
