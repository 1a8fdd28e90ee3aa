"""Writing the staff access log: one row per staff request that loaded someone's data (the
middleware), and explicit rows for what loading cannot tell — a reveal and its reason, the fields
a change touched, a download, a refusal. Every row is written in the transaction of what it
records: if the row cannot be written, the action fails with it."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from kirakira.common.client_ip import UNKNOWN_ADDRESS, client_ip
from kirakira.common.roles import roles_of
from kirakira.privacy.audit.permissions import current_request_id
from kirakira.privacy.catalog import Item, catalog

from ..models import StaffAccessRecord
from . import chain, collector

Action = StaffAccessRecord.Action


@dataclass
class Description:
    """What a staff page says it shows, for the request's implicit row (set by the back office's
    admin mixin; without it the row lists every personal field of the loaded models that the
    viewer's roles may see)."""

    action: str = Action.VIEW
    model: str = ""
    object_id: str = ""
    fields: list[str] = field(default_factory=list)


def describe(request, *, action: str, model, object_id="", fields: Iterable[str] = ()) -> None:
    label = model if isinstance(model, str) else model._meta.label
    request._kirakira_access = Description(
        action=action,
        model=label,
        object_id=str(object_id or ""),
        fields=[f"{label}.{name}" if "." not in name else name for name in fields],
    )


def _is_staff(user) -> bool:
    return user is not None and user.is_authenticated and user.is_staff


def visible_fields(user, model_label: str) -> list[str]:
    """The personal fields of a model that the user's roles see at all, as "label.field"."""
    declaration = catalog.for_model(model_label)
    if declaration is None:
        return []
    roles = roles_of(user)
    entries = declaration.personal_fields() + ([declaration.record] if declaration.record else [])
    return [
        f"{declaration.model._meta.label}.{entry.field}"
        for entry in entries
        if any(entry.visibility(role) != "none" for role in roles)
    ]


def _address(request) -> str | None:
    if request is None:
        return None
    address = client_ip(request)
    return None if address == UNKNOWN_ADDRESS else address


def _short_key(object_id) -> str:
    key = str(object_id or "")
    return key if len(key) <= 64 else ""  # no key of the project's models is longer


def _path(request) -> str:
    return request.path[:300] if request is not None else ""


def record(
    *,
    actor,
    action: str,
    request=None,
    model="",
    object_id="",
    fields: Iterable[str] = (),
    subjects: Iterable = (),
    reason: str = "",
) -> StaffAccessRecord:
    """Appends one row; inside the caller's transaction when there is one."""
    label = model if isinstance(model, str) else model._meta.label
    subjects = set(subjects)
    row = StaffAccessRecord(
        staff=actor,
        roles=",".join(sorted(roles_of(actor))),
        ip_address=_address(request),
        request_id=current_request_id(),
        action=action,
        model=label,
        object_id=_short_key(object_id),
        fields=sorted(set(fields)),
        reason=reason,
        path=_path(request),
    )
    collection = collector.current()
    if collection is not None:
        collection.paused += 1
    try:
        # No savepoint of its own: a row that cannot be written fails the caller's transaction,
        # and with it what the row records.
        with transaction.atomic(savepoint=False):
            written = chain.append(row, subjects)
    finally:
        if collection is not None:
            collection.paused -= 1
    if collection is not None:
        collection.forget(subjects)
    return written


def _key_is_a_credential(model) -> bool:
    """Sessions and API tokens are keyed by the credential itself (the session key, the token's
    digest): the log names the kind of record and whose it is, never that key."""
    declaration = catalog.for_model(model)
    return declaration is not None and Item.SESSION in declaration.record_items


def record_instance(*, actor, action: str, instance, request=None, fields: Iterable[str] = (), reason=""):
    """A row about one record: its subject named from the catalog's subject path."""
    subject = subject_of(instance)
    label = instance._meta.label
    return record(
        actor=actor,
        action=action,
        request=request,
        model=label,
        object_id="" if _key_is_a_credential(type(instance)) else instance.pk,
        fields=[f"{label}.{name}" for name in fields],
        subjects=[subject] if subject is not None and subject != actor.pk else [],
        reason=reason,
    )


def subject_of(instance):
    path = collector.subject_path(type(instance))
    if path is None:
        return None
    if path.attname is not None:
        return getattr(instance, path.attname)
    return type(instance)._base_manager.filter(pk=instance.pk).values_list(path.lookup, flat=True).first()


def record_refusal(
    request, *, why: str, model="", object_id="", subjects: Iterable = ()
) -> StaffAccessRecord | None:
    """A staff member refused personal data (no second factor, pledge or training; a role that
    may not; a reveal without a reason), naming the members concerned when they are known, so
    that they see the attempt too."""
    user = getattr(request, "user", None)
    if not _is_staff(user):
        return None
    request._kirakira_refusal_recorded = True
    return record(
        actor=user,
        action=Action.REFUSED,
        request=request,
        model=model,
        object_id=object_id,
        subjects=[subject for subject in subjects if subject is not None and subject != user.pk],
        reason=why,
    )


REFUSED_BY_ROLE = "role"  # the reason of a 403 the page itself gave


def record_request(request, collection: collector.Collection, status: int) -> StaffAccessRecord | None:
    """The request's implicit row: every subject whose rows it loaded and no explicit row named;
    or, for a refused page (403) not already recorded, the refusal."""
    loaded = collection.resolve()
    subjects = set().union(*loaded.values()) if loaded else set()
    if status == 403 and not getattr(request, "_kirakira_refusal_recorded", False):
        label = getattr(getattr(request, "_kirakira_access", None), "model", "")
        return record(
            actor=request.user,
            action=Action.REFUSED,
            request=request,
            model=label or (max(loaded, key=lambda key: len(loaded[key])) if loaded else ""),
            subjects=subjects,
            reason=REFUSED_BY_ROLE,
        )
    if not subjects:
        return None
    description = getattr(request, "_kirakira_access", None) or Description()
    model = description.model or max(loaded, key=lambda label: len(loaded[label]))
    fields = list(description.fields)
    for label in loaded:
        if not description.fields or label != description.model:
            fields += visible_fields(request.user, label)
    return record(
        actor=request.user,
        action=description.action,
        request=request,
        model=model,
        object_id=description.object_id,
        fields=fields,
        subjects=subjects,
    )
