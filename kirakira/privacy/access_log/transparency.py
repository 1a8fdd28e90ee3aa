"""A member's view of the staff access log (policy C10): every access to their own data — when,
by which role, what was done, which items, and the reason — read from the rows that name them
(``StaffAccessSubject``). The member's page and ``GET /api/v1/privacy/access-log`` both read here.

Threat model: the member is shown what was done with their data, never who the staff member is.
A name or login ID would let a member look for, press or harass one employee, and the IP
address, request ID and page of a row describe the staff's own working conditions; none of them
leaves this module (``ACCESS_FIELDS`` does not even load them). Staff appear by the roles they
held at the time and by a pseudonym: an HMAC of their account ID under the privacy keyring's
blind-index key, domain separated from its other uses. It is the same on every row and for every
member, so a member can tell one person's accesses from another's and quote it to the privacy
officer, who can find the account by computing it for each staff account; without the server's
key it cannot be reversed or linked to an account, staff IDs being random UUIDs besides.

The items shown are the catalog's (``catalog.field(...).item``), translated and deduplicated:
a member reads "Account number", never ``orders.Refund.account_number``.
"""

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kirakira.common.roles import ROLE_DECLARATIONS
from kirakira.privacy.catalog import Item, catalog
from kirakira.privacy.crypto.keyring import keyring

from ..models import StaffAccessRecord

Action = StaffAccessRecord.Action

_PSEUDONYM_DOMAIN = b"kirakira staff pseudonym v1\x00"
# Crockford's base-32 alphabet: no I, L, O or U to misread when a member quotes a pseudonym.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PSEUDONYM_LENGTH = 6  # 30 bits: a clash between two staff accounts is out of reach at our size

# The columns a member's view needs; the IP address, request ID and page are never loaded.
ACCESS_FIELDS = ("id", "seq", "occurred_at", "staff", "roles", "action", "fields", "reason")

# What a refusal's short code (``StaffAccessRecord.reason``) means to a member.
REFUSALS = {
    "role": _("Refused: their role does not allow it."),
    "reveal_role": _("Refused: their role may not see this information in full."),
    "reveal_reason": _("Refused: they did not give a sufficient reason to see it in full."),
    # The gate before personal data (kirakira.accounts.gate.selectors).
    "second_factor": _("Refused: they had not completed the checks required before seeing personal data."),
    "no_pledge": _("Refused: they had not completed the checks required before seeing personal data."),
    "pledge": _("Refused: they had not completed the checks required before seeing personal data."),
    "training": _("Refused: they had not completed the checks required before seeing personal data."),
    # Members' rights (kirakira.privacy.rights): a field under correction, a stop of processing.
    "under_correction": _("Refused: the information is under correction at your request."),
    "processing_stopped": _("Refused: you have stopped the processing of your information."),
}
REFUSED_OTHERWISE = _("Refused.")
OTHER_INFORMATION = _("Other information")

_ROLE_LABELS = {declaration.code: declaration.label for declaration in ROLE_DECLARATIONS}
_ITEM_ORDER = {item: position for position, item in enumerate(Item)}


def pseudonym_code(staff_id) -> str:
    """``"7KQ2-M9"``: the same for one staff account everywhere, unlinkable without the key."""
    digest = hmac.digest(keyring().blind_index_key, _PSEUDONYM_DOMAIN + str(staff_id).encode(), "sha256")
    number = int.from_bytes(digest[:8], "big")
    symbols = "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in range(_PSEUDONYM_LENGTH))
    return f"{symbols[:4]}-{symbols[4:]}"


def staff_pseudonym(staff_id) -> str:
    """``"Staff 7KQ2-M9"`` in the active language."""
    return gettext("Staff %(pseudonym)s") % {"pseudonym": pseudonym_code(staff_id)}


@dataclass(frozen=True)
class Label:
    code: str
    label: Promise | str


@dataclass(frozen=True)
class Access:
    """One access as a member sees it. Labels are lazy: they render in the reader's language."""

    id: int
    occurred_at: datetime
    staff: str  # the pseudonym code
    roles: tuple[Label, ...]
    action: str
    action_label: Promise | str
    items: tuple[Label, ...]
    reason: Promise | str
    refused: bool

    @property
    def staff_label(self) -> str:
        return gettext("Staff %(pseudonym)s") % {"pseudonym": self.staff}

    @property
    def role_labels(self) -> list:
        return [role.label for role in self.roles]

    @property
    def item_labels(self) -> list:
        return [item.label for item in self.items]


# --- selectors -----------------------------------------------------------------------------------
def accesses_of(member):
    """The accesses to ``member``'s data, newest first: one query however many rows (the rest is
    computed from the row)."""
    return (
        StaffAccessRecord.objects.filter(subjects__subject_id=member.pk).only(*ACCESS_FIELDS).order_by("-seq")
    )


def access_of(member, seq: int) -> StaffAccessRecord | None:
    """One access to ``member``'s data by its number; ``None`` for one that names someone else
    or does not exist (the caller answers both the same)."""
    return accesses_of(member).filter(seq=seq).first()


# --- presenting ----------------------------------------------------------------------------------
def roles_shown(codes: str) -> tuple[Label, ...]:
    """The roles held at the time, labelled; a role since removed keeps its code."""
    return tuple(Label(code, _ROLE_LABELS.get(code, code)) for code in codes.split(",") if code)


def items_shown(fields: Iterable[str]) -> tuple[Label, ...]:
    """The catalog items of ``"app_label.Model.field"`` names, deduplicated, in the catalog's
    order; a name the catalog no longer declares is "Other information", never the name."""
    items, other = set(), False
    for name in fields:
        model_label, _dot, field_name = str(name).rpartition(".")
        entry = catalog.field(model_label, field_name) if model_label else None
        if entry is None:
            other = True
            continue
        items.update(catalog.items_of(entry))
    shown = [Label(str(item), item.label) for item in sorted(items, key=_ITEM_ORDER.__getitem__)]
    if other:
        shown.append(Label("other", OTHER_INFORMATION))
    return tuple(shown)


def reason_shown(record: StaffAccessRecord):
    if record.action == Action.REFUSED:
        return REFUSALS.get(record.reason, REFUSED_OTHERWISE)
    return record.reason


def access(record: StaffAccessRecord) -> Access:
    return Access(
        id=record.seq,
        occurred_at=record.occurred_at,
        staff=pseudonym_code(record.staff_id),
        roles=roles_shown(record.roles),
        action=record.action,
        action_label=Action(record.action).label if record.action in Action.values else record.action,
        items=items_shown(record.fields or ()),
        reason=reason_shown(record),
        refused=record.action == Action.REFUSED,
    )


def accesses(records: Iterable[StaffAccessRecord]) -> list[Access]:
    return [access(record) for record in records]
