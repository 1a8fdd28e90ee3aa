"""Everything the privacy policy page says, built from the catalog and the settings.

The template only lays this out; every item, purpose, period and access rule on the page
comes from the declarations that the rest of the code obeys, so the two cannot drift apart.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import get_language, pgettext

from kirakira.common.roles import Role
from kirakira.privacy.catalog import Context, Item, Protection, Retention, catalog
from kirakira.privacy.catalog.vocabulary import Purpose

from . import measures

# The policy's three collection headings, in its order; then what the software adds.
CONTEXT_ORDER = [Context.MEMBERSHIP, Context.SERVICE, Context.CONSULTATION, Context.SECURITY]
ITEM_ORDER = list(Item)
PURPOSE_ORDER = list(Purpose)
# The policy's grouping of staff with access (管理的対策 ①): a. customer-facing staff,
# b. the privacy officer and privacy staff, c. others whose work requires it.
ROLE_GROUPS = [
    ("a", [Role.CUSTOMER_SERVICE]),
    ("b", [Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF]),
    ("c", [Role.ACCOUNTING, Role.ADMINISTRATOR]),
]


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


@dataclass
class RoleAccess:
    group: str
    role: str
    full: list[str]
    masked: list[str]


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


def role_access() -> list[RoleAccess]:
    rows = []
    for group, roles in ROLE_GROUPS:
        for role in roles:
            full = _ordered(
                [i for e in catalog.entries() if e.visibility(role) == "full" for i in catalog.items_of(e)],
                ITEM_ORDER,
            )
            masked = _ordered(
                [i for e in catalog.entries() if e.visibility(role) == "masked" for i in catalog.items_of(e)],
                ITEM_ORDER,
            )
            masked = [i for i in masked if i not in full]
            rows.append(
                RoleAccess(group=group, role=str(role.label), full=_labels(full), masked=_labels(masked))
            )
    return rows


def encrypted_items() -> list[str]:
    items = [e.item for e in catalog.entries() if e.protection == Protection.ENCRYPTED]
    return _labels(_ordered(items, ITEM_ORDER))


def _in_language(setting: str) -> str:
    """A setting in the active language (``STUDIO_ADDRESS_EN``...), falling back to Japanese."""
    language = (get_language() or "ja")[:2]
    localized = getattr(settings, f"{setting}_{language.upper()}", "") if language in ("en", "ko") else ""
    return localized or getattr(settings, setting)


def officer() -> dict:
    """The privacy officer's contact, shown on the policy page and the consultation pages."""
    return {
        "name": settings.PRIVACY_OFFICER_NAME,
        "department": _in_language("PRIVACY_OFFICER_DEPARTMENT"),
        "email": settings.PRIVACY_OFFICER_EMAIL,
        "phone": settings.PRIVACY_OFFICER_PHONE,
    }


def studio() -> dict:
    return {
        "name": settings.STUDIO_NAME,
        "address": _in_language("STUDIO_ADDRESS"),
        "representative": settings.STUDIO_REPRESENTATIVE,
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
    """The data of the policy text in the active language."""
    return {
        "studio": studio(),
        "collection": collection_sections(),
        "retention": retention_rows(),
        "access": role_access(),
        "measures": measures.measures(encrypted_items()),
        "cookies": cookie_rows(),
    }
