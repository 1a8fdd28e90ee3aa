"""Offboarding a staff member (policy C10: "secure handover of work", "responsibility after
leaving made clear"; promises P63–P64).

What it does, in one transaction, from the back office's offboarding page on a staff account
(whoever may change staff accounts, ``accounts.change_user``: the administrator):

1. every open consultation and rights request the leaver handles (their ``handler``) goes to a
   named colleague: an active staff member, not the leaver, whose roles the item is routed to
   (a consultation's category, ``consultations.routing.ROUTES``; a rights request: the roles that
   answer them, ``privacy.decide_rightsrequest``);
2. the leaver's acknowledgement of continuing confidentiality is recorded: the version of the
   exit pledge (``staff_gate.ExitPledge``, published by the privacy officer) they signed, and the
   day they signed it;
3. the account is deactivated through the one writer of access (``staff.access_change``): the
   permission-change log records it, and every browser session and API token of the account ends;
4. an append-only record (``staff_gate.Offboarding`` with its ``handovers``) says who left, when,
   to whom their work went, what they signed, and who did it.

The acknowledgement is recorded by the administrator as signed on paper, with the date, rather
than clicked by the leaver on a page: the leaver signs it at the exit interview, where their
access is usually taken away, and asking them to log in again afterwards would keep an account
alive for the sake of a click (and a leaver who has gone cannot click at all). The software
records which text they signed, when, and who says so; the paper is the signature.

Threat model: work of a leaver that nobody owns any more (a complaint or a rights request that
runs past its legal deadline because its handler has gone), a handover to someone who cannot
see it (it would stay unanswered, or widen access), and an account that keeps its logins after
the person has left. The ordinary account page refuses to deactivate a staff member who still
handles open work (``UserAdmin``), so the handover cannot be skipped.

Rows are locked in one order — the accounts involved (the leaver and the chosen colleagues, by
key), then the leaver's open items — so that two offboardings, or an offboarding and a "take
it", cannot interleave: an item that became the leaver's meanwhile is found under the lock and
asks for a colleague of its own.
"""

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kirakira.accounts.gate.models import ExitPledge, HandoverKind, Offboarding, OffboardingHandover
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.consultations.models import Consultation
from kirakira.consultations.models import Status as ConsultationStatus
from kirakira.consultations.routing import ROUTES
from kirakira.privacy.rights.models import OPEN as RIGHTS_OPEN
from kirakira.privacy.rights.models import RightsRequest

from . import services, staff
from .models import User

CHANGE_PERMISSION = staff.CHANGE_PERMISSION
RIGHTS_PERMISSION = "privacy.decide_rightsrequest"
CONSULTATION_OPEN = (ConsultationStatus.OPEN, ConsultationStatus.ANSWERED)


@dataclass(frozen=True)
class OpenItem:
    """One open consultation or rights request of the leaver, as the page lists it."""

    kind: str  # HandoverKind
    pk: str
    reference: str
    label: str  # the consultation's category or the request's kind
    status: str
    routed_to: frozenset[str]  # the roles that may take it over

    @property
    def field(self) -> str:
        """The name of its colleague field on the page (and of its errors)."""
        return f"{self.kind}_{self.pk}"


def _rights_roles() -> frozenset[str]:
    app_label, codename = RIGHTS_PERMISSION.split(".")
    return frozenset(
        Group.objects.filter(
            name__in=Role.values, permissions__codename=codename, permissions__content_type__app_label=app_label
        ).values_list("name", flat=True)
    )


def _consultations(leaver):
    return Consultation.objects.filter(handler=leaver, status__in=CONSULTATION_OPEN).order_by("created_at", "pk")


def _rights_requests(leaver):
    return RightsRequest.objects.filter(handler=leaver, status__in=RIGHTS_OPEN).order_by("due_at", "pk")


def _items(consultations, rights_requests) -> list[OpenItem]:
    items = [
        OpenItem(
            HandoverKind.CONSULTATION,
            str(c.pk),
            c.reference,
            str(c.get_category_display()),
            str(c.get_status_display()),
            ROUTES[c.category],
        )
        for c in consultations
    ]
    if rights_requests:
        answering = _rights_roles()
        items += [
            OpenItem(
                HandoverKind.RIGHTS_REQUEST,
                str(r.pk),
                r.reference,
                str(r.get_kind_display()),
                str(r.get_status_display()),
                answering,
            )
            for r in rights_requests
        ]
    return items


# --- reads ---------------------------------------------------------------------------------------
def open_items(leaver) -> list[OpenItem]:
    """The open consultations and rights requests ``leaver`` handles (two queries, three with
    rights requests)."""
    return _items(list(_consultations(leaver)), list(_rights_requests(leaver)))


def has_open_items(leaver) -> bool:
    return _consultations(leaver).exists() or _rights_requests(leaver).exists()


def colleagues(leaver) -> list[User]:
    """The staff accounts a leaver's work may go to: active, not the leaver (each item then asks
    for its own roles)."""
    return list(
        User.objects.filter(is_staff=True, is_active=True, withdrawn_at__isnull=True)
        .exclude(pk=leaver.pk)
        .prefetch_related("groups")
        .order_by("login_id")
    )


def roles_held(user) -> frozenset[str]:
    """The account's roles as stored now (from a prefetch when there is one)."""
    return frozenset(group.name for group in user.groups.all() if group.name in Role.values)


def candidates(item: OpenItem, people) -> list[User]:
    """Those of ``people`` whose roles ``item`` is routed to."""
    return [person for person in people if roles_held(person) & item.routed_to]


def current_exit_pledge() -> ExitPledge | None:
    return ExitPledge.objects.order_by("-number").first()


def records_of(user):
    """The offboarding records of an account, the latest first, with their handovers."""
    return (
        Offboarding.objects.filter(leaver=user)
        .select_related("completed_by", "exit_pledge")
        .prefetch_related("handovers__to_staff")
        .order_by("-completed_at", "-pk")
    )


# --- checks ----------------------------------------------------------------------------------
def _colleague_error(item: OpenItem, colleague, leaver) -> str | None:
    reference = {"reference": item.reference}
    if colleague is None:
        return _("Choose the colleague who takes over %(reference)s.") % reference
    if colleague.pk == leaver.pk:
        return _("%(reference)s cannot be handed to the leaving staff member themself.") % reference
    if not colleague.is_staff or colleague.withdrawn_at is not None:
        return _("%(reference)s can only be handed to a staff account.") % reference
    if not colleague.is_active:
        return (
            _("The colleague chosen for %(reference)s is deactivated; choose an active colleague.") % reference
        )
    if not roles_held(colleague) & item.routed_to:
        roles = ", ".join(str(Role(code).label) for code in sorted(item.routed_to)) or "-"
        if item.kind == HandoverKind.CONSULTATION:
            return _(
                "%(reference)s is a consultation of the kind “%(category)s”, which is routed to %(roles)s; the "
                "colleague chosen holds none of these roles."
            ) % {**reference, "category": item.label, "roles": roles}
        return _(
            "%(reference)s is a rights request, which only %(roles)s answer; the colleague chosen holds none of "
            "these roles."
        ) % {**reference, "roles": roles}
    return None


def _pledge_errors(pledge_number, signed_on, leaver, errors: dict) -> ExitPledge | None:
    pledge = None
    if not ExitPledge.objects.exists():
        errors["exit_pledge"] = [
            _(
                "No exit pledge is published yet: the privacy officer publishes one (Staff gate › Exit pledges) "
                "before anyone can be offboarded."
            )
        ]
    else:
        try:
            pledge = ExitPledge.objects.filter(number=int(pledge_number)).first()
        except (TypeError, ValueError):
            pledge = None
        if pledge is None:
            errors["exit_pledge"] = [_("Choose the version of the exit pledge the leaving staff member signed.")]
    if not isinstance(signed_on, date):
        errors["signed_on"] = [_("Enter the day the leaving staff member signed the exit pledge.")]
    elif signed_on > timezone.localdate(clock.now()):
        errors["signed_on"] = [_("The exit pledge cannot have been signed in the future.")]
    elif pledge is not None and signed_on < timezone.localdate(pledge.published_at):
        errors["signed_on"] = [
            _("This version of the exit pledge was published on %(date)s; it cannot have been signed before.")
            % {"date": date_format(timezone.localdate(pledge.published_at))}
        ]
    elif signed_on < timezone.localdate(leaver.date_joined):
        errors["signed_on"] = [_("The exit pledge cannot have been signed before the account was created.")]
    return pledge


_UNKNOWN = object()  # a value that is no account's key: "choose a colleague from the list"


def _account_key(value):
    if value in (None, ""):
        return None
    try:
        return User._meta.pk.to_python(getattr(value, "pk", value))
    except (TypeError, ValueError, ValidationError):
        return _UNKNOWN


def _colleague_ids(handovers: dict) -> dict:
    return {field: _account_key(value) for field, value in handovers.items()}


# --- the write -------------------------------------------------------------------------------
def offboarding_complete(
    *, leaver_id, handovers: dict, exit_pledge: int | str | None, signed_on, actor
) -> Offboarding:
    """Hand every open item of the leaver to the colleague named for it (``handovers``: an
    item's ``OpenItem.field`` -> the colleague's account key), record the exit pledge signed on
    ``signed_on``, deactivate the account (its logins end, the permission-change log records it)
    and write the offboarding record. All or nothing; ``ValidationError`` with every problem by
    field (the items' fields, ``exit_pledge``, ``signed_on``), ``PermissionDenied`` for an actor
    who may not change staff accounts or who is the leaver."""
    if not actor.is_active or not actor.is_staff or not actor.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied(_("Your role may not do this."))
    wanted = _colleague_ids(handovers or {})
    with transaction.atomic():
        leaver_key = _account_key(leaver_id)
        keys = {leaver_key, *(pk for pk in wanted.values() if pk is not None and pk is not _UNKNOWN)}
        keys.discard(_UNKNOWN)
        accounts = {user.pk: user for user in User.objects.select_for_update().filter(pk__in=keys).order_by("pk")}
        leaver = accounts.get(leaver_key)
        if leaver is None:
            raise ValidationError(_("This account does not exist."), code="not_found")
        if leaver.pk == actor.pk:
            raise PermissionDenied(_("Nobody may change their own roles or access."))
        if not leaver.is_staff:
            raise ValidationError(_("Only staff accounts are offboarded."), code="not_staff")
        if not leaver.is_active:
            raise ValidationError(_("This account is already deactivated."), code="inactive")
        consultations = list(_consultations(leaver).select_for_update())
        rights_requests = list(_rights_requests(leaver).select_for_update())
        items = _items(consultations, rights_requests)
        people = {pk: user for pk, user in accounts.items() if pk != leaver.pk}
        errors: dict[str, list] = {}
        chosen = {}
        for item in items:
            pk = wanted.get(item.field)
            colleague = None if pk is None else people.get(pk, leaver if pk == leaver.pk else False)
            # (a key of no account, or not a key at all: ``False``)
            if colleague is False:
                errors[item.field] = [
                    _("Choose a colleague from the list for %(reference)s.") % {"reference": item.reference}
                ]
                continue
            problem = _colleague_error(item, colleague, leaver)
            if problem:
                errors[item.field] = [problem]
            else:
                chosen[item.field] = colleague
        pledge = _pledge_errors(exit_pledge, signed_on, leaver, errors)
        if errors:
            raise ValidationError(errors)

        record = Offboarding.objects.create(
            leaver=leaver, completed_by=actor, exit_pledge=pledge, exit_pledge_signed_on=signed_on
        )
        rows = {f"{HandoverKind.CONSULTATION}_{c.pk}": c for c in consultations}
        rows |= {f"{HandoverKind.RIGHTS_REQUEST}_{r.pk}": r for r in rights_requests}
        for item in items:
            row, colleague = rows[item.field], chosen[item.field]
            row.handler = colleague
            row.save(update_fields=["handler"])
            OffboardingHandover.objects.create(
                offboarding=record, kind=item.kind, object_id=item.pk, reference=item.reference, to_staff=colleague
            )
        # Through the one writer of access: the permission-change log's row, in this transaction;
        # the account's save ends its logins, and they are ended here again in so many words.
        staff.access_change(user_id=leaver.pk, actor=actor, is_active=False)
        services.member_logins_end(user=leaver)
    return record
