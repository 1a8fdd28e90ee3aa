"""The frozen state (policy C7): "if a customer asks for an error in their personal information
to be corrected, that information is not used or provided until the correction is complete."

A field is frozen while a correction request naming it (record, row, field) is open. Every
reader of personal data asks here: staff pages show ``FROZEN`` instead of the value, exports and
notices leave the value out, and a use of it (a reveal, a send) is refused and recorded in the
staff access log. Lookups for many rows are one query (``frozen_map``); a row's answer is kept
on the instance, so a page asks once per row at most.
"""

from collections.abc import Iterable

from django.db.models import Model
from django.utils.functional import lazy
from django.utils.translation import gettext

from .models import RightsRequest

FROZEN = lazy(lambda: gettext("under correction"), str)()
_ON_INSTANCE = "_kk_frozen_fields"


class FieldFrozen(Exception):
    """A use of a field under correction, refused."""

    def __init__(self, label: str, field: str):
        super().__init__(f"{label}.{field} is under correction")
        self.label = label
        self.field = field


def _label(model_or_label) -> str:
    if isinstance(model_or_label, str):
        return model_or_label
    return model_or_label._meta.label


def frozen_map(model_or_label, pks: Iterable) -> dict[str, set[str]]:
    """{row's pk as text: its frozen fields}, for the rows that have any; one query."""
    keys = [str(pk) for pk in pks]
    if not keys:
        return {}
    found: dict[str, set[str]] = {}
    rows = RightsRequest.objects.open_corrections().filter(target=_label(model_or_label), target_id__in=keys)
    for target_id, field in rows.values_list("target_id", "target_field"):
        found.setdefault(target_id, set()).add(field)
    return found


def annotate(instances: Iterable[Model]) -> None:
    """Look up, in one query per model, the frozen fields of these rows and keep them on each."""
    by_model: dict[type, list[Model]] = {}
    for instance in instances:
        by_model.setdefault(type(instance), []).append(instance)
    for model, rows in by_model.items():
        found = frozen_map(model, [row.pk for row in rows])
        for row in rows:
            setattr(row, _ON_INSTANCE, frozenset(found.get(str(row.pk), ())))


def frozen_fields(instance: Model) -> frozenset[str]:
    known = getattr(instance, _ON_INSTANCE, None)
    if known is None:
        known = frozenset(frozen_map(type(instance), [instance.pk]).get(str(instance.pk), ()))
        setattr(instance, _ON_INSTANCE, known)
    return known


def is_frozen(instance_or_label, pk=None, field: str = "") -> bool:
    """``is_frozen(order, field="phone")`` or ``is_frozen("orders.Order", order_id, "phone")``."""
    if isinstance(instance_or_label, Model):
        return field in frozen_fields(instance_or_label)
    return field in frozen_map(instance_or_label, [pk]).get(str(pk), set())


def shown(instance: Model, field: str):
    """The value as any reader other than the member sees it: ``FROZEN`` while under correction."""
    if field in frozen_fields(instance):
        return FROZEN
    return getattr(instance, field)


def refuse_use(instance: Model, field: str, *, request=None, why: str = "under_correction") -> None:
    """Raise ``FieldFrozen`` if the field is under correction, recording the refused use in the
    staff access log when a staff member made it."""
    if field not in frozen_fields(instance):
        return
    if request is not None:
        from kirakira.privacy.access_log.services import record_refusal, subject_of

        record_refusal(
            request,
            why=why,
            model=instance._meta.label,
            object_id=str(instance.pk),
            subjects=[subject_of(instance)],
        )
    raise FieldFrozen(instance._meta.label, field)


def forget(instance: Model) -> None:
    """Drop the kept answer (after a correction opens or closes)."""
    instance.__dict__.pop(_ON_INSTANCE, None)
