"""Reads for the register of provisions: what can be provided, a member's values of the items
asked for, and the provisions a member is told of."""

from django.db.models import Prefetch
from django.utils import timezone

from kirakira.common import clock
from kirakira.privacy.catalog import Protection
from kirakira.privacy.rights.selectors import kinds

from .models import CorrectionNotice, DisclosedData


def _fields():
    """(kind, declared field) for every field of a member's records, except one-way hashes."""
    for kind in kinds():
        if kind.model._meta.app_label == "disclosures":
            continue
        for entry in kind.personal_fields():
            if entry.protection != Protection.ONE_WAY:
                yield kind, entry


def providable_items() -> list[str]:
    """The catalog's items held in a field of a member's records, in the catalog's order."""
    return list(dict.fromkeys(str(entry.item) for _kind, entry in _fields()))


def _plain(value):
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


def values_of(member, items) -> list[dict]:
    """The member's values of these items, each with the record and field it comes from."""
    wanted = set(items)
    out = []
    for kind, entry in _fields():
        if str(entry.item) not in wanted:
            continue
        for row in kind.rows(member.pk).order_by("pk"):
            out.append(
                {
                    "record": kind.label,
                    "id": str(row.pk),
                    "field": entry.field,
                    "item": str(entry.item),
                    "value": _plain(getattr(row, entry.field)),
                }
            )
    return out


def current_value(label: str, pk: str, field: str):
    from django.apps import apps

    model = apps.get_model(label)
    row = model._base_manager.filter(pk=pk).first()
    return _plain(getattr(row, field)) if row is not None else None


def told(member, now=None) -> list[DisclosedData]:
    """The provisions of the member's data they may be told of today (none whose telling a law
    forbids until a later date)."""
    today = timezone.localdate(now or clock.now())
    return list(
        DisclosedData.objects.filter(member=member)
        .exclude(withheld_until__gt=today)
        .select_related("disclosure")
        .prefetch_related(Prefetch("corrections", CorrectionNotice.objects.select_related("sent").order_by("created_at")))
        .order_by("-disclosure__recorded_at")
    )


def correction_letter(notice) -> str:
    """The notice to the recipient, to send with their reference: which provided value was
    wrong, and what it is now."""
    from django.apps import apps
    from django.utils import formats
    from django.utils.translation import gettext as _

    disclosure = notice.data.disclosure
    model = apps.get_model(notice.record)
    field = model._meta.get_field(notice.field)
    lines = [
        _("To: %(recipient)s") % {"recipient": disclosure.recipient},
        _("Correction of personal data provided on %(date)s (our reference %(reference)s, yours %(theirs)s)")
        % {
            "date": formats.date_format(timezone.localtime(disclosure.recorded_at), "DATE_FORMAT"),
            "reference": disclosure.reference,
            "theirs": disclosure.request_reference or "-",
        },
        "",
        _(
            "Part of the personal data we provided at your request was incorrect and has been corrected "
            "at the request of the person concerned. Please correct it in your records."
        ),
        "",
        _("Record: %(record)s %(id)s") % {"record": model._meta.verbose_name, "id": notice.record_id},
        _("Field: %(field)s") % {"field": field.verbose_name},
        _("Corrected value: %(value)s") % {"value": notice.corrected_value},
    ]
    return "\n".join(lines)


def told_rows(member, now=None) -> list[dict]:
    """The member's provisions as their export and My data give them: who asked, under which
    law, when, which items, exactly what was provided, and the corrections told to the recipient."""
    from kirakira.privacy.catalog import Item

    rows = []
    for data in told(member, now):
        disclosure = data.disclosure
        rows.append(
            {
                "reference": disclosure.reference,
                "recipient": disclosure.recipient,
                "legal_basis": disclosure.legal_basis,
                "request_reference": disclosure.request_reference,
                "requested_on": disclosure.requested_on.isoformat(),
                "provided_at": disclosure.recorded_at.isoformat(),
                "items": list(disclosure.items),
                "item_labels": [str(Item(item).label) for item in disclosure.items],
                "values": data.values,
                "corrections": [
                    {
                        "record": notice.record,
                        "field": notice.field,
                        "created_at": notice.created_at.isoformat(),
                        "sent_at": notice.sent.sent_at.isoformat() if hasattr(notice, "sent") else None,
                    }
                    for notice in data.corrections.all()
                ],
            }
        )
    return rows
