"""Everything the privacy policy page says, built from the catalog and the settings.

The template only lays this out; every item, purpose, period and access rule on the page
comes from the declarations that the rest of the code obeys, so the two cannot drift apart.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.utils.text import capfirst
from django.utils.translation import ngettext, pgettext

from kirakira.common.contact import in_language, phone_for_language
from kirakira.common.roles import ROLE_DECLARATIONS, PolicyGroup
from kirakira.privacy.catalog import Context, Item, Protection, Retention, catalog
from kirakira.privacy.catalog.vocabulary import Mask, Purpose

from . import capabilities, operator

# The policy's three collection headings, in its order; then what the software adds.
CONTEXT_ORDER = [Context.MEMBERSHIP, Context.SERVICE, Context.CONSULTATION, Context.SECURITY]
ITEM_ORDER = list(Item)
PURPOSE_ORDER = list(Purpose)
GROUP_ORDER = list(PolicyGroup)


@dataclass
class CollectionSection:
    context: Context
    items: list[str] = field(default_factory=list)
    automatic_items: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)


@dataclass
class RetentionRow:
    code: str
    label: str
    items: list[str]
    period: str
    starts: str
    basis: str


def _ordered(values, order) -> list:
    seen = []
    for value in sorted(set(values), key=order.index):
        seen.append(value)
    return seen


def _labels(values) -> list[str]:
    return [str(v.label) for v in values]


def collection_sections() -> list[CollectionSection]:
    sections = []
    for context in CONTEXT_ORDER:
        entries = catalog.by_context(context)
        if not entries:
            continue
        manual, automatic, purposes = [], [], []
        for entry in entries:
            (automatic if entry.automatic else manual).extend(catalog.items_of(entry))
            purposes.extend(entry.purposes)
        manual_items = _ordered(manual, ITEM_ORDER)
        automatic_items = [i for i in _ordered(automatic, ITEM_ORDER) if i not in manual_items]
        sections.append(
            CollectionSection(
                context=context,
                items=_labels(manual_items),
                automatic_items=_labels(automatic_items),
                purposes=_labels(_ordered(purposes, PURPOSE_ORDER)),
            )
        )
    return sections


def retention_rows() -> list[RetentionRow]:
    rows = []
    for rule in Retention.all():
        entries = catalog.by_rule(rule)
        if not entries:
            continue
        items = _ordered([i for e in entries for i in catalog.items_of(e)], ITEM_ORDER)
        rows.append(
            RetentionRow(
                code=rule.code,
                label=str(rule.label),
                items=_labels(items),
                period=rule.period_label,
                starts=str(rule.starts) if rule.total_months else "",
                basis=str(rule.basis),
            )
        )
    return rows


@dataclass
class PurposeMetRow:
    items: list[str]
    event: str


def purpose_met_rows() -> list[PurposeMetRow]:
    """For the rule "until the purpose is met": which items go on which event, from the
    executable disposals (kirakira/privacy/retention), so the page says what the sweep does."""
    from kirakira.privacy.retention import rules

    rule = Retention.UNTIL_PURPOSE_MET
    by_event: dict[str, list] = {}
    for disposal in rules.disposals():
        declaration = catalog.for_model(disposal.model_label)
        if disposal.rule != rule or declaration is None:
            continue
        entries = list(declaration.fields.values()) + ([declaration.record] if declaration.record else [])
        # A disposal may end rows before their declared rule applies (a visitor's consultation
        # never confirmed goes before it could ever be closed): then all its items go.
        ruled = [e for e in entries if rule in e.rules] or entries
        items = [i for e in ruled for i in catalog.items_of(e)]
        by_event.setdefault(str(disposal.event), []).extend(items)
    return [
        PurposeMetRow(items=_labels(_ordered(items, ITEM_ORDER)), event=event)
        for event, items in by_event.items()
        if items
    ]


# --- who on the staff sees what (管理的対策 ①) ----------------------------------------------------
@dataclass
class RoleColumn:
    code: str
    label: str
    group: str  # the policy's letter: a, b or c


@dataclass
class AccessCell:
    role: str
    level: str  # "full", "masked", "reveal" (masked, revealable with a reason) or "none"
    mask: str  # the mask's code when masked or revealable, else ""
    text: str

    @property
    def code(self) -> str:
        """What the cell says, for machines: ``full``, ``masked:last4``, ``reveal:last4``, ``none``."""
        return f"{self.level}:{self.mask}" if self.mask else self.level


@dataclass
class AccessRow:
    item_code: str
    item: str
    where: list[str]  # the records that hold the item with this access, in the reader's words
    entries: list[str]  # "app_label.Model.field", for tests and auditors
    cells: list[AccessCell]


def role_columns() -> list[RoleColumn]:
    """Every declared role, grouped as the policy groups them (a, b, c)."""
    placed = sorted(
        (d for d in ROLE_DECLARATIONS if d.policy_group is not None),
        key=lambda d: GROUP_ORDER.index(d.policy_group),
    )
    return [RoleColumn(code=d.code, label=str(d.label), group=str(d.policy_group)) for d in placed]


def role_groups(columns: list[RoleColumn]) -> list[dict]:
    """The policy's groups over the role columns, for the table's first header row."""
    groups = []
    for column in columns:
        if groups and groups[-1]["letter"] == column.group:
            groups[-1]["span"] += 1
        else:
            groups.append(
                {"letter": column.group, "label": str(PolicyGroup(column.group).label), "span": 1}
            )
    return groups


def access_of(entry, role: str) -> tuple[str, str]:
    """(level, mask) of one catalog entry for one role, exactly as the back office applies it."""
    level = entry.visibility(role)
    if level == "masked":
        return ("reveal" if role in entry.reveal else "masked"), str(entry.mask)
    return level, ""


def _cell_text(level: str, mask: str) -> str:
    if level == "full":
        return str(pgettext("access", "In full"))
    if level == "none":
        return str(pgettext("access", "Not shown"))
    mask_label = str(Mask(mask).label)
    if level == "reveal":
        return str(pgettext("access", "Masked (%(mask)s); revealed in full only with a stated reason")) % {
            "mask": mask_label
        }
    return str(pgettext("access", "Masked (%(mask)s)")) % {"mask": mask_label}


def _where(entry) -> str:
    model = apps.get_model(entry.model_label)
    if entry.field == "*":
        return str(capfirst(model._meta.verbose_name))
    return f"{capfirst(model._meta.verbose_name)}: {model._meta.get_field(entry.field).verbose_name}"


def role_access() -> list[AccessRow]:
    """One row per item and way of access: where the same item is held with different access
    (the account's email in full for customer service, a new address awaiting confirmation
    masked), each way gets its row, so no role is shown more or less than the back office gives.
    One-way hashes (passwords, lookup indexes) are left out: nobody can read them."""
    columns = role_columns()
    rows = []
    for item in ITEM_ORDER:
        groups: dict[tuple, list] = {}
        for entry in catalog.entries():
            if entry.protection == Protection.ONE_WAY or item not in catalog.items_of(entry):
                continue
            key = tuple(access_of(entry, column.code) for column in columns)
            groups.setdefault(key, []).append(entry)
        for key, entries in groups.items():
            rows.append(
                AccessRow(
                    item_code=item.value,
                    item=str(item.label),
                    where=sorted({_where(e) for e in entries}),
                    entries=sorted(f"{e.model_label}.{e.field}" for e in entries),
                    cells=[
                        AccessCell(role=column.code, level=level, mask=mask, text=_cell_text(level, mask))
                        for column, (level, mask) in zip(columns, key, strict=True)
                    ],
                )
            )
    return rows


def encrypted_items() -> list[str]:
    """The items stored encrypted: an item all of whose stored values are encrypted is named
    alone; one that is encrypted in some records only is named with those records, so that the
    page never says "name" is encrypted when the account's name is stored plain."""
    result = []
    for item in ITEM_ORDER:
        entries = [
            e
            for e in catalog.entries()
            if e.field != "*" and e.item == item and e.protection != Protection.ONE_WAY
        ]
        encrypted = [e for e in entries if e.protection == Protection.ENCRYPTED]
        if not encrypted:
            continue
        if len(encrypted) == len(entries):
            result.append(str(item.label))
        else:
            where = pgettext("list separator", ", ").join(sorted({_where(e) for e in encrypted}))
            result.append(str(pgettext("encrypted item", "%(item)s (%(where)s)")) % {"item": item.label, "where": where})
    return result


def lockout() -> dict | None:
    """The lockout's figures, as django-axes is configured (None without the lockout)."""
    if not capabilities.provided("login_lockout"):
        return None
    from axes.helpers import get_cool_off

    minutes = max(1, int(get_cool_off().total_seconds() // 60))
    return {
        "failures": settings.AXES_FAILURE_LIMIT,
        "minutes": ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes},
    }




def officer() -> dict:
    """The privacy officer's contact, shown on the policy page and the consultation pages: the
    name in the page's script where one is set, the phone as the reader would dial it."""
    return {
        "name": in_language("PRIVACY_OFFICER_NAME"),
        "department": in_language("PRIVACY_OFFICER_DEPARTMENT"),
        "email": settings.PRIVACY_OFFICER_EMAIL,
        "phone": phone_for_language(settings.PRIVACY_OFFICER_PHONE),
    }


def studio() -> dict:
    return {
        "name": settings.STUDIO_NAME,
        "address": in_language("STUDIO_ADDRESS"),
        "representative": in_language("STUDIO_REPRESENTATIVE"),
        "officer": officer(),
    }


def cookie_rows() -> list[dict]:
    """The cookies the site can set (the cookie registry fills this in)."""
    from kirakira.privacy.catalog.cookies import cookies

    return [
        {
            "name": c.name,
            "purpose": str(c.purpose),
            "category": str(c.category.label),
            "lifetime": str(c.lifetime_label),
            "party": pgettext("cookie party", "First party")
            if c.first_party
            else pgettext("cookie party", "Third party"),
        }
        for c in cookies()
    ]


def policy_context() -> dict:
    """The data of the policy text in the active language. ``cap`` says which capabilities the
    running code provides: every statement about one is printed only under ``cap.<code>``."""
    return {
        "studio": studio(),
        "collection": collection_sections(),
        "retention": retention_rows(),
        "purpose_met": purpose_met_rows(),
        "role_columns": role_columns(),
        "role_groups": role_groups(role_columns()),
        "access": role_access(),
        "encrypted_items": encrypted_items(),
        "lockout": lockout(),
        "cap": capabilities.snapshot(),
        "operator_general": operator.statements(operator.GENERAL),
        "operator_technical": operator.statements(operator.TECHNICAL),
        "operator_administrative": operator.statements(operator.ADMINISTRATIVE),
        "cookies": cookie_rows(),
    }
