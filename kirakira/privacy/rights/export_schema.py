"""The JSON Schema (draft 2020-12) of an export's ``data.json``, shipped beside it in the ZIP.

Generated from the same plan as the export itself (``export.plan()``, read from the catalog),
so a new declaration changes the schema and the data together. Each model's rows are closed
objects (``additionalProperties: false``): a column the plan does not name fails validation.
A field that can be under correction may be ``null``, and then is named in the row's
``under_correction``.
"""

from django.db import models
from django.utils.translation import gettext

from kirakira.privacy.crypto.fields import EncryptedJSONField

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://kirakira.example/schemas/export-data-1.json"
_INTEGERS = (models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField)


def _type(model_field) -> dict:
    """The JSON type of a model field's value as ``export`` writes it."""
    if isinstance(model_field, EncryptedJSONField | models.JSONField):
        return {}
    if getattr(model_field, "encrypts", False):
        return {"type": "string"}
    if model_field.is_relation:
        return _type(model_field.target_field)
    if isinstance(model_field, models.BooleanField):
        return {"type": "boolean"}
    if isinstance(model_field, _INTEGERS):
        return {"type": "integer"}
    if isinstance(model_field, models.FloatField):
        return {"type": "number"}
    if isinstance(model_field, models.DateTimeField):
        return {"type": "string", "format": "date-time"}
    if isinstance(model_field, models.DateField):
        return {"type": "string", "format": "date"}
    if isinstance(model_field, models.UUIDField):
        return {"type": "string", "format": "uuid"}
    if isinstance(model_field, models.BinaryField):
        return {"type": "string", "contentEncoding": "base64"}
    return {"type": "string"}  # text, decimals, IP addresses


def _nullable(schema: dict) -> dict:
    if "type" not in schema:
        return schema  # any JSON value, null included
    return {**schema, "type": [schema["type"], "null"]}


def _column(column) -> dict:
    model_field = column.field
    if column.kind == "file":
        schema = {
            "type": "string",
            "description": gettext("The file's path in this ZIP (attachments/<id>/<name>)."),
        }
    elif column.kind == "person":
        schema = {
            "type": "string",
            "description": gettext(
                "Your own ID, or a staff member's pseudonym (as on your access-log page)."
            ),
        }
    else:
        schema = _type(model_field)
    schema = {**schema, "title": str(model_field.verbose_name)}
    if model_field.null or column.freezable or column.kind == "file":
        schema = _nullable(schema)
    return schema


def _section(section) -> dict:
    from .export import extra_field

    properties = {column.name: _column(column) for column in section.columns}
    for name, path in section.extras:
        target = extra_field(section.model, path)
        properties[name] = {**_nullable(_type(target)), "title": str(target.verbose_name)}
    required = list(properties)
    freezable = [column.name for column in section.columns if column.freezable]
    if freezable:
        properties["under_correction"] = {
            "type": "array",
            "items": {"enum": freezable},
            "minItems": 1,
            "uniqueItems": True,
            "description": gettext(
                "Fields under correction at your request: left out (null) until corrected."
            ),
        }
    return {
        "type": "object",
        "title": str(section.name),
        "properties": {
            "name": {"type": "string"},
            "context": {"type": "string"},
            "context_label": {"type": "string"},
            "items": {"type": "array", "items": {"type": "string"}},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": False,
                },
            },
        },
        "required": ["name", "context", "context_label", "items", "rows"],
        "additionalProperties": False,
    }


_STRINGS = {"type": "array", "items": {"type": "string"}}


def _access() -> dict:
    return {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "occurred_at": {"type": "string", "format": "date-time"},
            "staff": {"type": "string", "description": gettext("The staff member's pseudonym.")},
            "roles": _STRINGS,
            "role_labels": _STRINGS,
            "action": {"type": "string"},
            "action_label": {"type": "string"},
            "items": _STRINGS,
            "item_labels": _STRINGS,
            "reason": {"type": "string"},
            "refused": {"type": "boolean"},
        },
        "required": [
            "id",
            "occurred_at",
            "staff",
            "roles",
            "role_labels",
            "action",
            "action_label",
            "items",
            "item_labels",
            "reason",
            "refused",
        ],
        "additionalProperties": False,
    }


_CONSENT = {
    "type": "object",
    "properties": {
        "consent_id": {"type": "string"},
        "choice": {"type": "string"},
        "policy_version": {"type": ["integer", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
    },
    "required": ["consent_id", "choice", "created_at"],
}


def schema(sections=None) -> dict:
    """The schema of data.json for ``sections`` (by default the plan as the catalog is now)."""
    from .export import FORMAT, FORMAT_VERSION, plan

    sections = plan() if sections is None else sections
    definitions = {section.label: _section(section) for section in sections}
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": gettext("Everything Kirakira holds about you"),
        "description": gettext(
            "data.json of your download: your records grouped by kind (records), the accesses of "
            "staff to your data (staff_access_log), and provisions of your data to third parties "
            "(disclosures). Times are in UTC (ISO 8601), amounts in whole yen."
        ),
        "type": "object",
        "properties": {
            "format": {"const": FORMAT},
            "version": {"const": FORMAT_VERSION},
            "generated_at": {"type": "string", "format": "date-time"},
            "language": {"type": "string"},
            "request": {
                "type": "object",
                "properties": {"id": {"type": "string", "format": "uuid"}, "reference": {"type": "string"}},
                "required": ["id", "reference"],
                "additionalProperties": False,
            },
            "member": {"type": "string", "format": "uuid"},
            "records": {
                "type": "object",
                "properties": {label: {"$ref": f"#/$defs/{label}"} for label in definitions},
                "required": list(definitions),
                "additionalProperties": False,
            },
            "staff_access_log": {"type": "array", "items": {"$ref": "#/$defs/staff_access"}},
            "consents": {
                "type": "array",
                "items": {"$ref": "#/$defs/consent"},
                "description": gettext(
                    "Cookie choices are recorded under a random ID only your browser holds, never linked "
                    "to your account: this list stays empty."
                ),
            },
            "disclosures": {
                "type": "array",
                "items": {"type": "object"},
                "description": gettext(
                    "Provisions of your data required by law: who asked, under which law, when, which items, "
                    "exactly what was provided, and the corrections told to the recipient."
                ),
            },
        },
        "required": [
            "format",
            "version",
            "generated_at",
            "language",
            "request",
            "member",
            "records",
            "staff_access_log",
            "consents",
            "disclosures",
        ],
        "additionalProperties": False,
        "$defs": {**definitions, "staff_access": _access(), "consent": _CONSENT},
    }
