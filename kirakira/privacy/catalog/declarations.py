"""Declarations of personal data, and the catalog that holds them.

Each app's ``privacy.py`` registers its models here::

    catalog.register(
        "orders.Order",
        context=Context.SERVICE,
        subject="member",
        fields=[
            personal("phone", Item.PHONE, purposes=[Purpose.SERVICE_CONTRACT],
                     retention=Retention.CONTRACT_RECORD_5Y, protection=Protection.ENCRYPTED,
                     full=[Role.ACCOUNTING], masked=[Role.CUSTOMER_SERVICE], mask=Mask.LAST4),
        ],
        not_personal=not_personal("id", "status", reason="order state"),
    )

or, for a log whose every column is personal (the usage log), declare the whole model with
``catalog.register_record``. The policy page, the system checks, masking and (later) the
retention sweep, exports and the staff access log all read this one catalog.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from kirakira.common.roles import Role

from .vocabulary import Context, Item, Mask, Protection, Purpose, Retention, RetentionRule


@dataclass(frozen=True)
class PersonalField:
    """One column of personal data, in the policy's terms."""

    field: str
    item: Item
    purposes: tuple[Purpose, ...]
    retention: RetentionRule
    protection: Protection = Protection.PLAIN
    full: frozenset[str] = frozenset()
    masked: frozenset[str] = frozenset()
    mask: Mask = Mask.HIDDEN
    automatic: bool = False  # collected automatically as the service is used (policy C1)
    reveal: frozenset[str] = frozenset()  # roles that see it masked but may reveal it, with a reason
    # Where the rule depends on the row: (field, ((value, rule), ...)); ``retention`` otherwise.
    retention_by: tuple[str, tuple[tuple[str, RetentionRule], ...]] | None = None
    # Filled in when the declaration is registered.
    model_label: str = ""
    context: Context | None = None

    @property
    def rules(self) -> tuple[RetentionRule, ...]:
        """Every retention rule that may apply to this field's values."""
        if self.retention_by is None:
            return (self.retention,)
        extra = [rule for _value, rule in self.retention_by[1] if rule != self.retention]
        return (self.retention, *dict.fromkeys(extra))

    def rule_for(self, instance) -> RetentionRule:
        """The retention rule of this field's value in one row."""
        if self.retention_by is None:
            return self.retention
        path, rules = self.retention_by
        value = instance
        for attribute in path.split("."):  # "consultation.category" follows a relation
            value = getattr(value, attribute)
        return dict(rules).get(str(value), self.retention)

    def visibility(self, role: str) -> str:
        """``"full"``, ``"masked"`` or ``"none"`` for a staff role."""
        if role in self.full:
            return "full"
        if role in self.masked:
            return "masked"
        return "none"


@dataclass(frozen=True)
class NotPersonal:
    fields: tuple[str, ...]
    reason: str


@dataclass
class ModelDeclaration:
    model_label: str  # "app_label.ModelName"
    context: Context
    subject: str | None  # how a row names its data subject: a field ("member") or "pk"
    fields: dict[str, PersonalField] = field(default_factory=dict)
    not_personal: dict[str, str] = field(default_factory=dict)  # field name -> reason
    record: PersonalField | None = None  # a whole-model declaration (every column personal)
    record_items: tuple[Item, ...] = ()
    third_party: bool = False

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def personal_fields(self) -> list[PersonalField]:
        return list(self.fields.values())

    def covers(self, field_name: str) -> bool:
        return self.record is not None or field_name in self.fields or field_name in self.not_personal


class CatalogError(ValueError):
    """A declaration that cannot be registered at all (the system checks report the rest)."""


def personal(
    field_name: str,
    item: Item,
    *,
    purposes: Iterable[Purpose],
    retention: RetentionRule,
    protection: Protection = Protection.PLAIN,
    full: Iterable[str] = (),
    masked: Iterable[str] = (),
    mask: Mask = Mask.HIDDEN,
    automatic: bool = False,
    reveal: Iterable[str] = (),
    retention_by: tuple[str, dict[str, RetentionRule]] | None = None,
) -> PersonalField:
    """``retention_by=("category", {"complaint": Retention.COMPLAINT_RECORD_5Y})`` gives rows
    whose ``category`` is "complaint" that rule, and every other row ``retention``; the field
    may be on a related row ("consultation.category")."""
    return PersonalField(
        field=field_name,
        item=item,
        purposes=tuple(purposes),
        retention=retention,
        protection=protection,
        full=frozenset(str(r) for r in full),
        masked=frozenset(str(r) for r in masked),
        mask=mask,
        automatic=automatic,
        reveal=frozenset(str(r) for r in reveal),
        retention_by=(
            None
            if retention_by is None
            else (retention_by[0], tuple((str(value), rule) for value, rule in retention_by[1].items()))
        ),
    )


def not_personal(*field_names: str, reason: str) -> NotPersonal:
    return NotPersonal(fields=tuple(field_names), reason=reason)


class Catalog:
    def __init__(self):
        self._models: dict[str, ModelDeclaration] = {}
        self.problems: list[str] = []  # duplicate declarations, found while registering

    # --- registering -------------------------------------------------------------------------
    def register(
        self,
        model_label: str,
        *,
        context: Context,
        subject: str | None = None,
        fields: Iterable[PersonalField] = (),
        not_personal: NotPersonal | Iterable[NotPersonal] = (),
        third_party: bool = False,
    ) -> ModelDeclaration:
        declaration = self._declaration(model_label, context, subject, third_party)
        for entry in fields:
            if entry.field in declaration.fields or entry.field in declaration.not_personal:
                self.problems.append(f"{model_label}.{entry.field} is declared twice")
            declaration.fields[entry.field] = _bind(entry, model_label, context)
        groups = [not_personal] if isinstance(not_personal, NotPersonal) else list(not_personal)
        for group in groups:
            for name in group.fields:
                if name in declaration.fields or name in declaration.not_personal:
                    self.problems.append(f"{model_label}.{name} is declared twice")
                declaration.not_personal[name] = group.reason
        return declaration

    def register_record(
        self,
        model_label: str,
        *,
        context: Context,
        subject: str | None,
        items: Iterable[Item],
        purposes: Iterable[Purpose],
        retention: RetentionRule,
        full: Iterable[str] = (),
        masked: Iterable[str] = (),
        automatic: bool = False,
        third_party: bool = False,
    ) -> ModelDeclaration:
        """Declare a model all of whose columns together form one record of personal data."""
        declaration = self._declaration(model_label, context, subject, third_party)
        items = tuple(items)
        if declaration.record is not None:
            self.problems.append(f"{model_label} is declared twice")
        declaration.record = _bind(
            personal(
                "*",
                items[0],
                purposes=purposes,
                retention=retention,
                full=full,
                masked=masked,
                automatic=automatic,
            ),
            model_label,
            context,
        )
        declaration.record_items = items
        return declaration

    def _declaration(self, model_label, context, subject, third_party) -> ModelDeclaration:
        key = model_label.lower()
        if key not in self._models:
            self._models[key] = ModelDeclaration(
                model_label=model_label, context=context, subject=subject, third_party=third_party
            )
        return self._models[key]

    def unregister(self, model_label: str) -> None:
        """For tests that change a declaration and put it back."""
        self._models.pop(model_label.lower(), None)

    # --- querying ----------------------------------------------------------------------------
    def declarations(self) -> list[ModelDeclaration]:
        return list(self._models.values())

    def for_model(self, model: type[models.Model] | str) -> ModelDeclaration | None:
        label = model if isinstance(model, str) else model._meta.label
        return self._models.get(label.lower())

    def entries(self) -> list[PersonalField]:
        """Every personal field, whole-model records included (as field ``"*"``)."""
        out = []
        for declaration in self._models.values():
            out.extend(declaration.fields.values())
            if declaration.record is not None:
                out.append(declaration.record)
        return out

    def by_item(self, item: Item) -> list[PersonalField]:
        return [e for e in self.entries() if e.item == item or item in self.items_of(e)]

    def by_rule(self, rule: RetentionRule) -> list[PersonalField]:
        return [e for e in self.entries() if rule in e.rules]

    def by_context(self, context: Context) -> list[PersonalField]:
        return [e for e in self.entries() if e.context == context]

    def visible_to(self, role: str) -> list[PersonalField]:
        return [e for e in self.entries() if e.visibility(str(role)) != "none"]

    def field(self, model: type[models.Model] | str, field_name: str) -> PersonalField | None:
        declaration = self.for_model(model)
        if declaration is None:
            return None
        return declaration.fields.get(field_name) or declaration.record

    def items_of(self, entry: PersonalField) -> tuple[Item, ...]:
        if entry.field == "*":
            declaration = self.for_model(entry.model_label)
            return declaration.record_items if declaration else (entry.item,)
        return (entry.item,)

    def as_rows(self) -> list[dict]:
        """The catalog as plain data (for ``privacy_catalog --json`` and the policy page)."""
        rows = []
        for entry in sorted(self.entries(), key=lambda e: (e.model_label, e.field)):
            declaration = self.for_model(entry.model_label)
            rows.append(
                {
                    "model": entry.model_label,
                    "field": entry.field,
                    "items": [str(i) for i in self.items_of(entry)],
                    "context": str(entry.context),
                    "purposes": [str(p) for p in entry.purposes],
                    "retention": entry.retention.code,
                    "retention_by": (
                        {
                            "field": entry.retention_by[0],
                            "rules": {value: rule.code for value, rule in entry.retention_by[1]},
                        }
                        if entry.retention_by
                        else None
                    ),
                    "protection": str(entry.protection),
                    "full": sorted(entry.full),
                    "masked": sorted(entry.masked),
                    "mask": str(entry.mask),
                    "automatic": entry.automatic,
                    "reveal": sorted(entry.reveal),
                    "subject": declaration.subject if declaration else None,
                    "third_party": declaration.third_party if declaration else False,
                }
            )
        return rows


def _bind(entry: PersonalField, model_label: str, context: Context) -> PersonalField:
    from dataclasses import replace

    return replace(entry, model_label=model_label, context=context)


catalog = Catalog()

__all__ = [
    "Catalog",
    "CatalogError",
    "Context",
    "Item",
    "Mask",
    "ModelDeclaration",
    "NotPersonal",
    "PersonalField",
    "Protection",
    "Purpose",
    "Retention",
    "Role",
    "catalog",
    "not_personal",
    "personal",
]
