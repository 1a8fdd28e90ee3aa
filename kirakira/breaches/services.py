"""Recording an incident, answering its clocks, and telling the affected members."""

import secrets
from functools import partial

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kirakira.accounts.normalization import normalize_login_id
from kirakira.common import clock
from kirakira.common.tasks import enqueue_in_transaction
from kirakira.common.validation import collect
from kirakira.disclosures.services import REFERENCE_ALPHABET, members_by_login_id, required_text
from kirakira.privacy.access_log.services import Action, record
from kirakira.privacy.crypto.fields import is_destroyed
from kirakira.privacy.models import StaffAccessRecord

from . import clocks as legal_clocks
from . import selectors
from .models import AffectedMember, BreachIncident, BreachNotice, ClockDone, PublicNotice

PERMISSION = "breaches.record_breachincident"


def _check(actor):
    if not actor.is_active or not actor.is_staff or not actor.has_perm(PERMISSION):
        raise PermissionDenied(_("Your role may not do this."))


def _items(items) -> list[str]:
    chosen = list(dict.fromkeys(str(item) for item in items or ()))
    if not chosen:
        raise ValidationError(_("Choose the items that were exposed."), code="required")
    unknown = [item for item in chosen if item not in selectors.exposable_items()]
    if unknown:
        raise ValidationError(
            _("These are not items of the catalog: %(items)s") % {"items": ", ".join(unknown)}
        )
    return chosen


def _staff_account(login_id):
    login_id = normalize_login_id(login_id or "")
    if not login_id:
        raise ValidationError(_("Give the login ID of the staff account whose accesses are the scope."))
    # A former staff member's account too (offboarding ends its staff status): the log keeps
    # what it accessed.
    account = (
        get_user_model()
        .objects.filter(login_id=login_id)
        .filter(Q(is_staff=True) | Q(pk__in=StaffAccessRecord.objects.values("staff_id")))
        .first()
    )
    if account is None:
        raise ValidationError(_("No staff account has this login ID."), code="unknown")
    return account


def incident_record(
    *,
    actor,
    detected_at,
    began_at=None,
    description,
    cause,
    items,
    keys_exposed=False,
    only_stored_copy=False,
    scope,
    window_start=None,
    window_end=None,
    login_ids=(),
    staff_login_id="",
    measures,
    member_advice,
) -> BreachIncident:
    """Record an incident and the members it affects, computed from its scope. Every problem
    is reported at once (``ValidationError`` by field); nothing is stored then."""
    _check(actor)
    now = clock.now()
    errors: dict[str, list] = {}
    if detected_at is None:
        errors["detected_at"] = [_("Give when the incident was detected.")]
    elif detected_at > now:
        errors["detected_at"] = [_("The detection cannot be in the future.")]
    if began_at is not None and detected_at is not None and began_at > detected_at:
        errors["began_at"] = [_("The incident cannot have begun after it was detected.")]
    description = collect(
        errors,
        "description",
        partial(required_text, required=_("Describe what happened."), maximum=4000, multiline=True),
        description,
    )
    if cause not in BreachIncident.Cause.values:
        errors["cause"] = [_("Choose the cause.")]
    items = collect(errors, "items", _items, items)
    measures = collect(
        errors,
        "measures",
        partial(
            required_text, required=_("Say what the company does about it."), maximum=4000, multiline=True
        ),
        measures,
    )
    member_advice = collect(
        errors,
        "member_advice",
        partial(required_text, required=_("Say what the members can do."), maximum=4000, multiline=True),
        member_advice,
    )
    members, staff = None, None
    if scope not in BreachIncident.Scope.values:
        errors["scope"] = [_("Choose how the affected members are found.")]
    elif scope == BreachIncident.Scope.LIST:
        found = collect(errors, "login_ids", members_by_login_id, login_ids)
        members = None if found is None else {member.pk for member in found}
    else:
        if window_start is None or window_end is None:
            errors["window_start"] = [_("Give the start and the end of the time window.")]
        elif window_start > window_end:
            errors["window_end"] = [_("The window must end after it starts.")]
        if scope == BreachIncident.Scope.ACCESS_LOG:
            staff = collect(errors, "staff_login_id", _staff_account, staff_login_id)
    if errors:
        raise ValidationError(errors)

    if scope == BreachIncident.Scope.WINDOW:
        members = selectors.members_in_window(items, window_start, window_end)
        if not members:
            raise ValidationError(
                {
                    "window_start": [
                        _(
                            "No member had records of these items in this window: check the window and the items."
                        )
                    ]
                }
            )
    elif scope == BreachIncident.Scope.ACCESS_LOG:
        members = selectors.members_accessed_by(staff, window_start, window_end)
        if not members:
            raise ValidationError(
                {
                    "staff_login_id": [
                        _(
                            "This account accessed no member's data in this window: check the account and the window."
                        )
                    ]
                }
            )
    # Data the site showed (to a staff account, or through a page) was read decrypted.
    only_stored_copy = bool(only_stored_copy) and scope != BreachIncident.Scope.ACCESS_LOG
    with transaction.atomic():
        incident = BreachIncident.objects.create(
            reference="B" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(9)),
            detected_at=detected_at,
            began_at=began_at,
            description=description,
            cause=cause,
            items=items,
            keys_exposed=bool(keys_exposed),
            only_stored_copy=only_stored_copy,
            scope=scope,
            window_start=window_start if scope != BreachIncident.Scope.LIST else None,
            window_end=window_end if scope != BreachIncident.Scope.LIST else None,
            staff_account=staff,
            measures=measures,
            member_advice=member_advice,
            affected_count=len(members),
            protected=selectors.is_protected(items, bool(keys_exposed), only_stored_copy),
            recorded_by=actor,
        )
        AffectedMember.objects.bulk_create(
            [AffectedMember(incident=incident, member_id=pk) for pk in sorted(members, key=str)],
            batch_size=1000,
        )
    return incident


def clock_done(*, incident: BreachIncident, kind: str, actor, note: str = "") -> ClockDone:
    """Record that a report was filed (or the notices sent, which ``notices_send`` records)."""
    _check(actor)
    applicable = {c.kind: c for c in legal_clocks.clocks(incident)}
    if kind not in applicable:
        raise ValidationError(_("There is no such clock."), code="unknown")
    if kind == legal_clocks.NOTIFY_MEMBERS:
        # Answered only by sending the notices (notices_send), never by a mark.
        raise ValidationError(_("The members' clock is answered by sending the notices."), code="by_notices")
    if not applicable[kind].applies:
        raise ValidationError(_("This clock does not apply to the incident."), code="not_required")
    note = (note or "").strip()[:500]
    with transaction.atomic():
        BreachIncident.objects.select_for_update().get(pk=incident.pk)
        if ClockDone.objects.filter(incident=incident, kind=kind).exists():
            raise ValidationError(_("This clock is already recorded as answered."), code="done")
        return ClockDone.objects.create(incident=incident, kind=kind, done_by=actor, note=note)


def _reachable(member) -> bool:
    return bool(
        member.is_active
        and member.withdrawn_at is None
        and member.email_confirmed_at is not None
        and member.email
        and not is_destroyed(member.email)
    )


NOTICE_BATCH = 500


def notices_send(*, incident: BreachIncident, actor) -> dict[str, int]:
    """Create the notice of every affected member (shown on their page and by the API), queue
    the email to each who can be reached, publish the public notice for 30 days when some
    cannot, and record the members' clock as answered. In batches, each its own transaction
    (an incident can concern thousands of members): a run stopped midway is finished by the
    next, and members notified before are not notified twice."""
    _check(actor)
    emailed = unreachable = 0
    while True:
        done = _notices_batch(incident, actor)
        if done is None:
            break
        emailed, unreachable = emailed + done[0], unreachable + done[1]
    with transaction.atomic():
        BreachIncident.objects.select_for_update().get(pk=incident.pk)
        total_unreachable = BreachNotice.objects.filter(incident=incident, reachable=False).count()
        if total_unreachable and not PublicNotice.objects.filter(incident=incident).exists():
            PublicNotice.objects.create(incident=incident, unreachable_count=total_unreachable)
        if not ClockDone.objects.filter(incident=incident, kind=legal_clocks.NOTIFY_MEMBERS).exists():
            ClockDone.objects.create(
                incident=incident,
                kind=legal_clocks.NOTIFY_MEMBERS,
                done_by=actor,
                note=_("%(emailed)d emailed, %(unreachable)d by the public notice")
                % {"emailed": emailed, "unreachable": unreachable},
            )
    return {"emailed": emailed, "unreachable": unreachable}


def _notices_batch(incident, actor) -> tuple[int, int] | None:
    """The notices of the next affected members not notified yet: (emailed, unreachable), or
    None when every affected member has one."""
    from .tasks import send_notice_email

    with transaction.atomic():
        BreachIncident.objects.select_for_update().get(pk=incident.pk)
        members = list(
            get_user_model()
            ._base_manager.filter(pk__in=AffectedMember.objects.filter(incident=incident).values("member_id"))
            .exclude(pk__in=BreachNotice.objects.filter(incident=incident).values("member_id"))
            .order_by("pk")[:NOTICE_BATCH]
        )
        if not members:
            return None
        notices = BreachNotice.objects.bulk_create(
            [
                BreachNotice(incident=incident, member=member, reachable=_reachable(member))
                for member in members
            ]
        )
        # One access-log row for the batch: the notices name these members (bulk_create writes
        # no row of its own).
        record(
            actor=actor,
            action=Action.ADD,
            model=BreachNotice,
            object_id=incident.pk,
            fields=["breaches.BreachNotice.*"],
            subjects=[member.pk for member in members],
        )
        for notice in notices:
            if notice.reachable:
                enqueue_in_transaction(send_notice_email, notice_id=str(notice.pk))
        emailed = sum(1 for notice in notices if notice.reachable)
    return emailed, len(notices) - emailed


def notice_emailed(notice_id) -> None:
    BreachNotice.objects.filter(pk=notice_id, emailed_at__isnull=True).update(emailed_at=clock.now())
