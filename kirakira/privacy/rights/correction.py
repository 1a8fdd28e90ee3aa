"""Correction requests: which fields a member may ask to have corrected (those of their order,
payment, refund, cancellation and consultation records the catalog declares), checking what
they name, and writing the corrected value.

What a member can change themselves — their name and email address on my page, the phone
number of an open order, the bank details of a refund still to be paid — is changed there, not
requested here.
"""

import json

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kirakira.privacy.catalog import Context, Protection, catalog
from kirakira.privacy.catalog.declarations import ModelDeclaration, PersonalField

from . import freeze
from .models import RightsRequest

VALUE_MAX = 2000
# Records corrected by a new entry that reverses the wrong one, never by changing it.
APPEND_ONLY = frozenset({"orders.Payment"})
# Fields whose value is checked and written in one canonical form wherever it is entered (named
# by path: the privacy core imports no app): a corrected value goes through the same cleaning.
CLEANERS = {("orders.Order", "phone"): "kirakira.orders.normalization.clean_phone"}
_CONTEXTS = (Context.SERVICE, Context.CONSULTATION)


def correctable() -> dict[str, tuple[ModelDeclaration, dict[str, PersonalField]]]:
    """{model label: (its declaration, {field: entry})} for every record a member may ask to
    have corrected; read from the catalog, so a new declaration is correctable without code."""
    found = {}
    for declaration in catalog.declarations():
        if declaration.context not in _CONTEXTS or not declaration.subject or declaration.record is not None:
            continue
        if declaration.model_label.startswith("privacy."):
            continue  # the requests themselves: what the member wrote is answered, not corrected
        model = declaration.model
        fields = {
            name: entry
            for name, entry in declaration.fields.items()
            if entry.protection != Protection.ONE_WAY
            and not entry.automatic
            # A file's bytes are not corrected by typing: the member sends the right file instead.
            and not isinstance(model._meta.get_field(name), models.BinaryField)
        }
        if fields:
            found[declaration.model_label] = (declaration, fields)
    return found


def self_service(row: models.Model, field: str) -> str:
    """Where the member changes this field themselves ("" if they cannot)."""
    label = row._meta.label
    if label == "orders.Order" and field == "phone" and row.status not in ("completed", "cancelled"):
        return _("the order's page (its phone number can be changed while the order is open)")
    if label == "orders.Refund" and field in {
        "bank_name",
        "branch",
        "account_type",
        "account_number",
        "account_holder",
    }:
        if row.status == "due":
            return _("the order's page (the refund account can be changed until the refund is paid)")
    return ""


def _row(member, label: str, target_id: str):
    declaration, _fields = correctable()[label]
    model = declaration.model
    try:
        return model._base_manager.filter(pk=target_id, **{declaration.subject: member.pk}).first()
    except (ValidationError, ValueError):
        return None


def clean(member, details: dict) -> dict:
    label = str(details.get("target") or "")
    target_id = str(details.get("target_id") or "")
    field = str(details.get("target_field") or "")
    wrong = str(details.get("wrong_value") or "").strip()
    right = str(details.get("right_value") or "").strip()
    errors: dict[str, list] = {}
    targets = correctable()
    if label not in targets:
        errors["target"] = [_("There is no such kind of record, or its data cannot be corrected by request.")]
    elif field not in targets[label][1]:
        errors["target_field"] = [_("This record has no such field that can be corrected by request.")]
    if not wrong:
        errors["wrong_value"] = [_("Say what is wrong.")]
    elif len(wrong) > VALUE_MAX:
        errors["wrong_value"] = [_("Please keep it within %(max)d characters.") % {"max": VALUE_MAX}]
    if not right:
        errors["right_value"] = [_("Say what is right.")]
    elif len(right) > VALUE_MAX:
        errors["right_value"] = [_("Please keep it within %(max)d characters.") % {"max": VALUE_MAX}]
    if "target" not in errors:
        row = _row(member, label, target_id)
        if row is None:
            errors["target_id"] = [_("You have no such record.")]
        elif "target_field" not in errors:
            where = self_service(row, field)
            if where:
                errors["target_field"] = [_("You can change this yourself, on %(where)s.") % {"where": where}]
            elif freeze.is_frozen(label, row.pk, field):
                errors["target_field"] = [_("A correction of this field is already under way.")]
    if errors:
        raise ValidationError(errors)
    return {
        "target": label,
        "target_id": str(row.pk),
        "target_field": field,
        "wrong_value": wrong,
        "right_value": right,
    }


def _python_value(field: models.Field, text):
    if isinstance(field, models.JSONField):
        if isinstance(text, (list, dict)):
            return text
        lines = [line.strip() for line in str(text).splitlines() if line.strip()]
        try:
            return json.loads(text) if str(text).lstrip().startswith(("[", "{")) else lines
        except ValueError:
            return lines
    return field.to_python(text)


def apply(request: RightsRequest, *, value=None, write: bool = True) -> None:
    """Write the corrected value (``value``, or the member's ``right_value``) into the record.
    ``write=False`` when staff corrected it in the record's own page (a payment record, which
    is corrected by a reversing entry, never changed). The freeze lifts with the request."""
    if not write:
        return
    if request.target in APPEND_ONLY:
        raise ValidationError(
            {
                "value": [
                    _(
                        "A payment record is never changed: record the reversing payment and the right one, "
                        "then mark the request done as corrected in the record's own page."
                    )
                ]
            },
            code="append_only",
        )
    declaration, fields = correctable().get(request.target, (None, {}))
    if declaration is None or request.target_field not in fields:
        raise ValidationError(
            _("The record named in this request can no longer be corrected here."), code="gone"
        )
    model = declaration.model
    row = model._base_manager.select_for_update().filter(pk=request.target_id).first()
    if row is None:
        raise ValidationError(_("The record named in this request no longer exists."), code="gone")
    field = model._meta.get_field(request.target_field)
    try:
        new = _python_value(field, request.right_value if value is None else value)
        cleaner = CLEANERS.get((request.target, field.name))
        if cleaner is not None:
            new = import_string(cleaner)(new)
        field.clean(new, row)
    except ValidationError as exc:
        raise ValidationError({"value": exc.messages}) from None
    except (TypeError, ValueError):
        raise ValidationError({"value": [_("This value does not fit the field.")]}) from None
    setattr(row, field.attname, new)
    # A blind index of the field (an order's phone_index) is recomputed on save: write it too.
    indexes = [f.name for f in model._meta.concrete_fields if getattr(f, "source", None) == field.name]
    row.save(update_fields=[field.name, *indexes])
    freeze.forget(row)
