"""Reads of the breach register: which members an incident affects, whether what was exposed
was protected by encryption, the clocks, and the notices a member or a visitor may read."""

from django.contrib.auth import get_user_model
from django.db.models import DateTimeField

from kirakira.common import clock
from kirakira.privacy.catalog import Protection, catalog
from kirakira.privacy.models import StaffAccessSubject
from kirakira.privacy.rights.selectors import kinds

from . import clocks as legal_clocks
from .models import BreachNotice, PublicNotice

# The field that says when a row came to be, where a model has one: a row created after the
# window ended did not exist in it. (A model without one counts every row it holds now.)
CREATED_FIELDS = ("created_at", "date_joined", "placed_at", "occurred_at", "recorded_at", "requested_at")


def exposable_items() -> list[str]:
    """The catalog's items held for members, in the catalog's order (the form's choices)."""
    seen = []
    for kind in kinds():
        for entry in kind.declaration.fields.values():
            seen.append(str(entry.item))
        seen.extend(str(item) for item in kind.declaration.record_items)
    return list(dict.fromkeys(seen))


def _kinds_holding(items: set[str]):
    for kind in kinds():
        declared = {str(entry.item) for entry in kind.declaration.fields.values()}
        declared |= {str(item) for item in kind.declaration.record_items}
        if declared & items:
            yield kind


def _created_field(model) -> str | None:
    for name in CREATED_FIELDS:
        field = next((f for f in model._meta.get_fields() if f.name == name), None)
        if isinstance(field, DateTimeField):
            return name
    return None


def _members_only(ids) -> set:
    return set(
        get_user_model()._base_manager.filter(pk__in=list(ids), is_staff=False).values_list("pk", flat=True)
    )


def members_in_window(items, start, end) -> set:
    """Members with a record of any of ``items`` that existed between ``start`` and ``end``:
    created by ``end`` and still held at ``start`` (a record disposed of before the window is
    gone from the database, so it is not counted)."""
    found = set()
    for kind in _kinds_holding(set(items)):
        rows = kind.model._base_manager.all()
        created = _created_field(kind.model)
        if created is not None and end is not None:
            rows = rows.filter(**{f"{created}__lte": end})
        found.update(
            rows.exclude(**{f"{kind.lookup}__isnull": True}).values_list(kind.lookup, flat=True).distinct()
        )
    return _members_only(found)


def members_accessed_by(staff, start, end) -> set:
    """Members named in the staff access log by one staff account's accesses in the window."""
    from kirakira.privacy.models import StaffAccessRecord

    # A refused access showed nothing.
    rows = StaffAccessSubject.objects.filter(record__staff=staff).exclude(
        record__action=StaffAccessRecord.Action.REFUSED
    )
    if start is not None:
        rows = rows.filter(record__occurred_at__gte=start)
    if end is not None:
        rows = rows.filter(record__occurred_at__lte=end)
    return _members_only(rows.values_list("subject_id", flat=True).distinct())


def is_protected(items, keys_exposed: bool, only_stored_copy: bool = True) -> bool:
    """Whether what was exposed was only the stored copy (not data the site showed decrypted),
    every field that holds an exposed item is stored encrypted with the member's own key (or
    only as a one-way hash), and no key was exposed with it."""
    if keys_exposed or not only_stored_copy or not items:
        return False
    wanted = set(items)
    for declaration in catalog.declarations():
        for entry in declaration.fields.values():
            if str(entry.item) in wanted and entry.protection == Protection.PLAIN:
                return False
        if declaration.record is not None and wanted & {str(i) for i in declaration.record_items}:
            if declaration.record.protection == Protection.PLAIN:
                return False
    return True


def clocks_of(incident):
    return legal_clocks.clocks(incident)


def notices_for(member) -> list[BreachNotice]:
    """The incident notices to this member, newest first."""
    return list(BreachNotice.objects.filter(member=member).select_related("incident").order_by("-created_at"))


def public_notices(now=None) -> list[PublicNotice]:
    return list(PublicNotice.objects.shown(now or clock.now()).select_related("incident"))


def notice_content(incident) -> dict:
    """What the law asks a notice to say (APPI rules art. 10, PIPA art. 34): which data, when
    and how, what the member can do, what the company does, whom to contact; in the active
    language."""
    from kirakira.privacy.catalog import Item
    from kirakira.privacy.policy.content import officer

    return {
        "incident": incident,
        "items": [str(Item(item).label) for item in incident.items],
        "cause": incident.get_cause_display(),
        "officer": officer(),
    }


def notice_count(member) -> int:
    return BreachNotice.objects.filter(member=member).count()
