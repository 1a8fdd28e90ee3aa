"""The permission-change log: every grant, change and removal of a staff member's access.

What is recorded: a role (group) added to or removed from an account, and the ``is_staff``,
``is_superuser`` and ``is_active`` flags set or cleared (a member's account deactivated by staff
included; only a member closing their own account is not a change of access anyone gave); with
who did it, to whom, old and new value, when, the request's ID and client address, and — when the
change waited for approval (a role request) — who asked for it.
Kept three years (``Retention.PERMISSION_CHANGE_3Y``), append-only (``PermissionChange``
refuses updates, and deletion within the period), listed read-only for the privacy roles.

Design. The threat is a change of rights that leaves no trace, so recording cannot depend on
the path taken: the back office, a service, ``createsuperuser``, ``loaddata`` and a shell
``save()`` must all be seen. The hooks are therefore model signals, not calls in each service:

- ``pre_save`` on the user model reads the stored flags (one query, skipped when
  ``update_fields`` names none of them) and ``post_save`` writes one row per flag that changed;
- ``m2m_changed`` on ``User.groups`` writes one row per role actually added or removed, from
  either side of the relation (``user.groups.add`` and ``group.user_set.add``); ``set()`` and
  ``clear()`` arrive as removals and additions.
- ``m2m_changed`` on ``User.user_permissions`` refuses every addition, from either side: a
  permission is given through a role or not at all (``User.has_perm`` reads only the roles'
  groups, so a row slipped in through the table itself would still grant nothing).

The actor comes from a context variable: ``PermissionChangeMiddleware`` puts the request there
(the signed-in user, resolved only when a row is written, so the API's token authentication is
seen too), and ``acting(actor)`` lets a service name its actor explicitly (and
``acting(approver, requested_by=requester)`` the person who asked). With neither, the change
came from the server itself and the row says "server command".

The same hooks refuse a change of one's own roles, staff or superuser status (and, on a staff
account, active status) made by that same user, in a request or under ``acting``: the back
office never offers it, and this stops a crafted request on any other path.

Rows are written in the caller's transaction: the back office and every service change access
under ``transaction.atomic``, and ``m2m`` changes always run in one. A bare ``save()`` outside
any transaction (Django's ``createsuperuser``, the shell) runs in autocommit, where the row
follows its change in the next statement. Bulk ``QuerySet.update()`` and writes to the
through table bypass model signals: nothing in Kirakira changes access that way.
"""

import contextlib
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kirakira.common.client_ip import client_ip

from ..models import PermissionChange

FLAGS = ("is_staff", "is_active", "is_superuser")
SERVER_COMMAND = gettext_lazy("server command")  # how the log names a change nobody signed in made


@dataclass
class _Source:
    request: object = None
    actor: object = None  # an explicit actor (``acting``); else the request's signed-in user
    request_id: str = ""
    requested_by: object = None  # who asked for the change the actor approved

    def who(self):
        if self.actor is not None:
            return self.actor
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None

    def ip(self):
        return client_ip(self.request) if self.request is not None else None


_source: ContextVar[_Source | None] = ContextVar("kirakira_permission_change_source", default=None)


def _current() -> _Source:
    return _source.get() or _Source()


def current_request_id() -> str:
    """The ID of the request being served ("" outside one): the staff access log names it too."""
    return _current().request_id


class PermissionChangeMiddleware:
    """Makes the request (its user, address and a request ID) known to the permission-change
    log for the length of the request. Placed after ``AuthenticationMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _source.set(_Source(request=request, request_id=uuid.uuid4().hex))
        try:
            return self.get_response(request)
        finally:
            _source.reset(token)


@contextlib.contextmanager
def acting(actor, *, requested_by=None):
    """Record changes made inside the block as ``actor``'s, asked for by ``requested_by`` if
    given (the request's address and ID, if there is a request, are kept)."""
    outer = _current()
    token = _source.set(
        _Source(request=outer.request, actor=actor, request_id=outer.request_id, requested_by=requested_by)
    )
    try:
        yield
    finally:
        _source.reset(token)


def _by_the_subject(subject_id) -> bool:
    """Whether the change is made by a signed-in person (or a service's actor) on their own
    account; never for the server itself (a command, the shell)."""
    source = _current()
    if source.request is None and source.actor is None:
        return False
    actor = source.who()
    return actor is not None and actor.pk == subject_id


def _refuse_own_change(subject_id) -> None:
    if _by_the_subject(subject_id):
        raise PermissionDenied(_("Nobody may change their own roles or access."))


def _write(*, subject_id, what, old, new, role="") -> PermissionChange:
    source = _current()
    actor = source.who()
    return PermissionChange.objects.create(
        subject_id=subject_id,
        actor_id=actor.pk if actor is not None else None,
        requested_by_id=source.requested_by.pk if source.requested_by is not None else None,
        what=what,
        role=role,
        old_value=old,
        new_value=new,
        request_id=source.request_id,
        ip_address=source.ip(),
    )


# --- the flags ------------------------------------------------------------------------------
_BEFORE = "_kirakira_flags_before_save"


def _watched(update_fields) -> bool:
    return update_fields is None or bool(set(update_fields) & set(FLAGS))


def _changed_flags(before: dict, instance) -> list[str]:
    changed = [flag for flag in FLAGS if before[flag] != getattr(instance, flag)]
    ever_privileged = before["is_staff"] or instance.is_staff or before["is_superuser"] or instance.is_superuser
    if not ever_privileged and _by_the_subject(instance.pk):
        # A member closing their own account gives or takes nobody's access (and is theirs to do).
        changed = [flag for flag in changed if flag != "is_active"]
    return changed


def _before_user_save(sender, instance, raw=False, using=None, update_fields=None, **kwargs):
    if not _watched(update_fields):
        return
    stored = None
    if not instance._state.adding:
        stored = sender._base_manager.using(using).filter(pk=instance.pk).values(*FLAGS).first()
    # A new account starts as an active member: what it is created as is what is granted.
    before = stored or {"is_staff": False, "is_active": True, "is_superuser": False}
    if _changed_flags(before, instance):
        _refuse_own_change(instance.pk)
    instance.__dict__[_BEFORE] = before


def _after_user_save(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    before = instance.__dict__.pop(_BEFORE, None)
    if before is None:
        return
    for flag in _changed_flags(before, instance):
        _write(subject_id=instance.pk, what=flag, old=before[flag], new=getattr(instance, flag))


# --- the roles ------------------------------------------------------------------------------
_PENDING = "_kirakira_pending_role_changes"


def _memberships(through, instance, reverse, pk_set):
    """(user ID, group ID) pairs on the changing side that exist now, among ``pk_set`` (all of
    the instance's when None)."""
    own, other = ("group_id", "user_id") if reverse else ("user_id", "group_id")
    rows = through._default_manager.filter(**{own: instance.pk})
    if pk_set is not None:
        rows = rows.filter(**{f"{other}__in": pk_set})
    return list(rows.values_list("user_id", "group_id"))


def _pairs(instance, reverse, pk_set):
    return [(instance.pk, pk) if not reverse else (pk, instance.pk) for pk in pk_set]


def _groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action in ("pre_add", "pre_remove", "pre_clear"):
        if action == "pre_add":
            pairs = _pairs(instance, reverse, pk_set or ())  # Django passes only the new ones
        else:
            pairs = _memberships(sender, instance, reverse, pk_set if action == "pre_remove" else None)
        for user_id in {user_id for user_id, _group_id in pairs}:
            _refuse_own_change(user_id)
        instance.__dict__.setdefault(_PENDING, []).append((action, pairs))
    elif action in ("post_add", "post_remove", "post_clear"):
        pending = instance.__dict__.get(_PENDING) or []
        if not pending:
            return
        _action, pairs = pending.pop()
        names = dict(Group.objects.filter(pk__in={g for _u, g in pairs}).values_list("pk", "name"))
        added = action == "post_add"
        for user_id, group_id in pairs:
            _write(
                subject_id=user_id,
                what=PermissionChange.What.ROLE,
                old=not added,
                new=added,
                role=names.get(group_id, str(group_id)),
            )


# --- direct permissions ---------------------------------------------------------------------
class DirectPermissionRefused(PermissionDenied):
    """A permission given to an account directly, not through a role."""


def _user_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action == "pre_add" and pk_set:
        raise DirectPermissionRefused(
            _(
                "Permissions are given to staff only through their roles (kirakira.common.roles); "
                "a permission given to an account directly is refused. Give the account a role instead."
            )
        )


def connect(user_model) -> None:
    pre_save.connect(_before_user_save, sender=user_model, dispatch_uid="kirakira.permchange.pre_save")
    post_save.connect(_after_user_save, sender=user_model, dispatch_uid="kirakira.permchange.post_save")
    m2m_changed.connect(
        _groups_changed, sender=user_model.groups.through, dispatch_uid="kirakira.permchange.groups"
    )
    m2m_changed.connect(
        _user_permissions_changed,
        sender=user_model.user_permissions.through,
        dispatch_uid="kirakira.permchange.user_permissions",
    )


def actor_label(change: PermissionChange) -> str:
    """Who made a change, as the log shows it (and who asked for it, when it was approved)."""
    if change.actor_id is None:
        return str(SERVER_COMMAND) if not change.request_id else _("not signed in")
    if change.requested_by_id is not None:
        return _("%(approver)s, approving a request by %(requester)s") % {
            "approver": change.actor,
            "requester": change.requested_by,
        }
    return str(change.actor)
