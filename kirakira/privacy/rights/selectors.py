"""Everything Kirakira holds about a member, as the member sees it (policy C7, "My data"): the
page ``privacy:my_data``, ``GET /api/v1/privacy/my-data`` and the deletion of particular data
(``deletion.py``) all read here.

Generated from the catalog: every declaration that names a data subject is a section, every
personal field (or whole-model record) an item, so a new declaration appears here without new
code. Each value carries the date it will be disposed of, read from the retention clocks
(``retention.rules``): the disposal of the value's rule for its model (or, for rows that go with
another's, the parent's clock), applied to the row's own start. A row whose clock has not
started (an open order: its contract has not ended) is "not yet started", in the rule's words.

The number of queries depends on the catalog, never on how many rows the member has: each
section is one query for its rows (at most ``ROW_LIMIT``, the latest ``LOG_ROWS`` of a log),
one per clock that needs a condition or an annotation of another table, and one for the
totals of a section with more rows than it shows.

Left out: one-way hashes (``Protection.ONE_WAY``), credentials (password hashes, session keys,
token digests) and anything staff-only (``WITHHELD``, ``MEMBER_ROWS``).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Count, F, Max, Min, Q
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_lazy

from kirakira.common import clock
from kirakira.privacy.access_log.collector import subject_path
from kirakira.privacy.catalog import Context, Protection, catalog
from kirakira.privacy.catalog.declarations import ModelDeclaration, PersonalField
from kirakira.privacy.catalog.vocabulary import RetentionRule
from kirakira.privacy.crypto.fields import BlindIndexField, EncryptedBinaryField
from kirakira.privacy.retention import rules as retention_rules

from . import correction
from .models import RightsRequest

LOG_ROWS = 20  # rows shown of a log (a record collected automatically, such as the usage log)
ROW_LIMIT = 200  # rows shown of any other kind of record; the download holds them all

# Declarations with a data subject that are not shown to the member, and why. A legal hold is
# placed for an investigation or a dispute; telling its subject could obstruct it, which the
# policy's ground ① (the law's special provisions) covers. Its effect is not hidden: a
# deletion under a hold is refused by staff citing that ground.
WITHHELD = {"privacy.LegalHold"}
# Shown in a section of their own ("Provision of your data to third parties", the disclosures
# app's selectors.told), where a provision a law forbids telling is left out until its date; a
# record of what was provided is not deleted or corrected on request (the register is the proof
# of what left the company: a wrong value provided is corrected at its source, and the recipient
# told).
ELSEWHERE = {"disclosures.DisclosedData", "disclosures.CorrectionNotice"}
# An incident's notices to the member are on their notices page (/notices/, and the API's
# privacy/notices), which My data links; the register that proves they were told is not
# deleted on request.
ELSEWHERE |= {"breaches.AffectedMember", "breaches.BreachNotice"}

# Rows of a kind that are not the member's to see: staff's internal notes on a consultation,
# which the member's own consultation pages never show either.
MEMBER_ROWS = {
    "consultations.Message": Q(is_internal=False),
    "consultations.Attachment": Q(message__is_internal=False),
}

# Columns of whole-model records that are credentials or keyed hashes: never shown, not even
# to their owner (a session key or a token's digest logs in whoever holds it).
_SECRET_NAMES = frozenset(
    {
        "password",
        "session_key",
        "session_data",
        "digest",
        "token_key",
        "salt",
        "key",
        "secret",
        "hash",
        "prev_hash",
    }
)
_SECRET_SUFFIXES = ("_digest", "_hash", "_secret", "_key")

_EMPTY = (None, "", [], {})

# The column that dates a row, the first the model has (else the clock's start).
_DATE_FIELDS = (
    "created_at",
    "occurred_at",
    "received_at",
    "recorded_at",
    "cancelled_at",
    "acknowledged_at",
    "matched_at",
    "created",
    "date_joined",
    "last_seen_at",
    "last_used_at",
)


# --- what the page and the API show ----------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    period_label: str
    starts: str
    basis: str
    months: int

    @classmethod
    def of(cls, rule: RetentionRule) -> "Rule":
        return cls(
            code=rule.code,
            label=str(rule.label),
            period_label=str(rule.period_label),
            starts=str(rule.starts),
            basis=str(rule.basis),
            months=rule.total_months,
        )


@dataclass(frozen=True)
class DisposalDate:
    """When one value goes: ``at`` once its clock has started, else the rule's words."""

    rule: Rule
    at: datetime | None
    event: str  # what starts the clock, in the policy's words ("the contract ends: ...")

    @property
    def started(self) -> bool:
        return self.at is not None

    @property
    def words(self) -> str:
        """ "5 years from the end of the contract"; for a rule without a period, its event."""
        return rule_words(self.rule, self.event)

    @property
    def text(self) -> str:
        if self.at is not None:
            return formats.date_format(timezone.localtime(self.at), "DATE_FORMAT")
        if self.rule.months:
            return gettext("Not yet started: %(words)s") % {"words": self.words}
        return gettext("When %(event)s") % {"event": self.words}


def rule_words(rule: Rule, event: str = "") -> str:
    """How long a rule keeps data whose clock has not started: "5 years from the end of the
    contract"; a rule without a period ("until the purpose is met") is told by its event."""
    if rule.months:
        # Translators: a retention period and when it starts, e.g. "5 years" "from the end of the contract".
        return gettext("%(period)s %(starts)s") % {"period": rule.period_label, "starts": rule.starts}
    return event or rule.period_label


@dataclass(frozen=True)
class Item:
    """One catalog entry of a section: a personal field, or the whole-model record."""

    entry: str  # the deletion key ("orders.Order.note", or the model's label)
    field: str  # the field's name, "*" for a whole-model record
    label: str  # the field's verbose name, or the record's items
    items: tuple[str, ...]  # the policy's items (labels)
    purposes: tuple[str, ...]
    rules: tuple[Rule, ...]
    protection: str


@dataclass(frozen=True)
class Value:
    name: str  # the column
    value: object  # JSON-ready (None for a file)
    text: str  # as the page shows it
    disposal: DisposalDate | None
    under_correction: bool = False
    correction_url: str = ""  # a correction request prefilled for this value
    change_url: str = ""  # where the member changes it themselves
    change_where: str = ""


@dataclass
class Record:
    id: str  # "" when the row's key is a secret (a session key, a token digest)
    reference: str  # the row's reference, or its parent's ("the order K7..." of a payment)
    date: datetime | None
    values: list[Value]
    disposal: DisposalDate | None  # the row's (the rule most of its values follow)

    @property
    def date_text(self) -> str:
        return _format(self.date)


@dataclass
class Section:
    """One kind of record the member has: its items, the rows shown and the totals."""

    entry: str  # the model's label, the deletion key of the whole kind
    model_label: str
    title: str
    context: str
    items: list[Item]
    columns: list[tuple[str, str]]  # (name, label) of the values of each record
    records: list[Record]
    count: int
    oldest: datetime | None
    newest: datetime | None
    earliest_disposal: DisposalDate | None
    is_log: bool
    reference_label: str = ""
    date_label: str = ""
    link: str = ""  # a page of its own (the staff access log)
    link_label: str = ""

    @property
    def truncated(self) -> bool:
        return self.count > len(self.records)

    @property
    def oldest_text(self) -> str:
        return _format(self.oldest)

    @property
    def newest_text(self) -> str:
        return _format(self.newest)


@dataclass
class Group:
    context: str
    label: str
    sections: list[Section]


@dataclass
class MyData:
    generated_at: datetime
    groups: list[Group]
    disclosures: list[dict] = field(default_factory=list)  # the disclosures app's told_rows

    def sections(self) -> list[Section]:
        return [section for group in self.groups for section in group.sections]

    def entries(self) -> set[str]:
        """Every deletion key this member's data offers."""
        keys = set()
        for section in self.sections():
            keys.add(section.entry)
            keys.update(item.entry for item in section.items)
        return keys


# --- the catalog, seen from one member -------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """A declaration whose rows name members, with how to find one member's rows."""

    declaration: ModelDeclaration
    model: type[models.Model]
    lookup: str  # from the model to the member's ID ("member", "token__user", "pk")

    @property
    def label(self) -> str:
        return self.declaration.model_label

    def rows(self, member_id):
        rows = self.model._base_manager.filter(**{self.lookup: member_id})
        only = MEMBER_ROWS.get(self.label)
        return rows.filter(only) if only is not None else rows

    def personal_fields(self) -> list[PersonalField]:
        """The declared fields shown to the member: no one-way hashes, no relations."""
        out = []
        for entry in self.declaration.fields.values():
            if entry.protection == Protection.ONE_WAY:
                continue
            try:
                model_field = self.model._meta.get_field(entry.field)
            except FieldDoesNotExist:  # the catalog's system checks report a declared field that is gone
                continue
            if model_field.is_relation:
                continue
            out.append(entry)
        return out

    def record_columns(self) -> list[models.Field]:
        """The columns of a whole-model record shown to the member."""
        if self.declaration.record is None:
            return []
        subject = self.lookup.split("__")[0]
        user_model = get_user_model()
        columns = []
        for model_field in self.model._meta.concrete_fields:
            if model_field.primary_key or model_field.name == subject or _is_secret(model_field):
                continue
            if isinstance(model_field, models.UUIDField):  # an identifier tells the member nothing
                continue
            if model_field.is_relation:
                # Another row means something to the member only through its reference; staff
                # and unreferenced rows (a token's digest) are left out.
                if model_field.related_model is user_model or not _reference_field(model_field.related_model):
                    continue
            columns.append(model_field)
        return columns

    def offered_fields(self) -> list[str]:
        """The fields the deletion form offers alone: those a request can empty (a rule "until the
        purpose is met" may apply), not a choice or a list of the service's own."""
        from kirakira.privacy.catalog.vocabulary import Clock as RuleClock

        offered = []
        for name in self.deletion_fields():
            model_field = self.model._meta.get_field(name)
            if model_field.choices or isinstance(model_field, models.JSONField):
                continue
            if any(rule.clock == RuleClock.PURPOSE_MET for rule in self.declaration.fields[name].rules):
                offered.append(name)
        return offered

    def deletion_fields(self) -> list[str]:
        """Personal fields that can be emptied alone (the others go with their row)."""
        return [
            entry.field
            for entry in self.personal_fields()
            if _blankable(self.model._meta.get_field(entry.field))
        ]


def kinds() -> list[Kind]:
    """Every declaration whose rows can be a member's, in the catalog's order."""
    found = []
    for declaration in catalog.declarations():
        if not declaration.subject or declaration.model_label in WITHHELD | ELSEWHERE:
            continue
        try:
            model = declaration.model
        except LookupError:
            continue
        path = subject_path(model)
        if path is None:
            continue
        found.append(Kind(declaration=declaration, model=model, lookup=path.lookup))
    return found


def kind_of(label: str) -> Kind | None:
    return next((kind for kind in kinds() if kind.label.lower() == label.lower()), None)


def _is_secret(model_field: models.Field) -> bool:
    name = model_field.name
    return (
        isinstance(model_field, BlindIndexField) or name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)
    )


def _blankable(model_field: models.Field) -> bool:
    return not model_field.primary_key and (model_field.blank or model_field.null)


def _reference_field(model) -> str:
    names = {f.name for f in model._meta.concrete_fields}
    return next((name for name in ("reference", "number") if name in names), "")


def _reference_path(model, depth: int = 3) -> str | None:
    """The path from ``model`` to a row with a reference ("" for itself, "order", "message__
    consultation"), through forward relations to other than the user model."""
    if _reference_field(model) or isinstance(getattr(model, "reference", None), property):
        return ""
    if depth == 0:
        return None
    user_model = get_user_model()
    for model_field in model._meta.concrete_fields:
        if not model_field.is_relation or model_field.related_model in (user_model, model):
            continue
        if _reference_field(model_field.related_model):
            return model_field.name
    for model_field in model._meta.concrete_fields:
        if not model_field.is_relation or model_field.related_model in (user_model, model):
            continue
        deeper = _reference_path(model_field.related_model, depth - 1)
        if deeper:
            return f"{model_field.name}__{deeper}"
    return None


def _relation_path(model, target, depth: int = 3) -> str | None:
    """Forward relations from ``model`` to ``target`` ("" when they are the same)."""
    if model is target:
        return ""
    if depth == 0:
        return None
    for model_field in model._meta.concrete_fields:
        if model_field.is_relation and model_field.related_model is target:
            return model_field.name
    for model_field in model._meta.concrete_fields:
        if not model_field.is_relation or model_field.related_model is model:
            continue
        deeper = _relation_path(model_field.related_model, target, depth - 1)
        if deeper:
            return f"{model_field.name}__{deeper}"
    return None


def _date_path(kind: Kind, clocks) -> str:
    names = {f.name for f in kind.model._meta.concrete_fields}
    own = next((name for name in _DATE_FIELDS if name in names), "")
    if own:
        return own
    for candidates in clocks.values():
        for found in candidates:
            if found.kind == "direct":
                return found.path
    return ""


# --- retention clocks --------------------------------------------------------------------------
@dataclass
class Clock:
    """How the rows of one kind read one of its disposals' clock.

    ``direct``: the start is a column of the row or of a related row, read with the row.
    ``mapped``: the start needs the disposal's condition or annotations (an order's end of
    contract): one query of the rows it applies to, {row key: start}. ``none``: no clock (the
    disposal runs on an event: withdrawal)."""

    rule: RetentionRule
    event: str
    kind: str
    path: str = ""  # direct: the start's path from the row; mapped: the path to the keyed row
    root: object = None  # mapped: the disposal whose rows are keyed
    after: timedelta = timedelta(0)
    starts: dict = field(default_factory=dict)
    index: int = 0

    @property
    def attribute(self) -> str:
        return f"kk_clock_{self.index}"

    def start_of(self, row):
        if self.kind == "direct":
            return getattr(row, self.attribute if "__" in self.path else self.path, None)
        if self.kind == "mapped":
            return self.starts.get(getattr(row, self.attribute, None) if self.path else row.pk)
        return None

    def due(self, rule: RetentionRule, start) -> datetime | None:
        if start is None:
            return None
        if not isinstance(start, datetime):  # a date column: the start of that day
            start = timezone.make_aware(datetime.combine(start, datetime.min.time()))
        return rule.due(start + self.after)


def _by_key() -> dict[str, retention_rules.Disposal]:
    return {disposal.key: disposal for disposal in retention_rules.disposals()}


def clocks_of(kind: Kind, rules: set[RetentionRule], counter: list[int]) -> dict[RetentionRule, list[Clock]]:
    """For each rule the kind's values may follow, the clocks of its disposals (no query)."""
    registry = _by_key()
    found: dict[RetentionRule, list[Clock]] = {}
    for disposal in retention_rules.for_model(kind.label):
        if disposal.rule not in rules:
            continue
        root, path = disposal, ""
        if disposal.with_parent is not None:
            root = registry.get(disposal.with_parent)
            path = _relation_path(kind.model, root.model) if root is not None else None
        counter[0] += 1
        clock_ = Clock(rule=disposal.rule, event=str(disposal.event), kind="none", index=counter[0])
        if root is not None and path is not None and root.start is not None:
            clock_.after = root.after() if root.after is not None else timedelta(0)
            start_is_column = root.start in {f.name for f in root.model._meta.concrete_fields}
            if root.where is None and root.annotations is None and start_is_column:
                clock_.kind, clock_.path = "direct", f"{path}__{root.start}" if path else root.start
            else:
                clock_.kind, clock_.path = "mapped", path
                clock_.root = root
        found.setdefault(disposal.rule, []).append(clock_)
    return found


def _read_mapped(clocks: dict[RetentionRule, list[Clock]], rows) -> None:
    """One query per mapped clock: the start of each row its disposal applies to."""
    for candidates in clocks.values():
        for found in candidates:
            if found.kind != "mapped":
                continue
            root = found.root
            keyed = root.model._base_manager.all()
            if root.annotations is not None:
                keyed = keyed.annotate(**root.annotations())
            if root.where is not None:
                keyed = keyed.filter(root.condition())
            keyed = keyed.filter(pk__in=rows.values(found.path or "pk"))
            found.starts = dict(keyed.values_list("pk", root.start))


def _annotate(rows, clocks: dict[RetentionRule, list[Clock]]):
    extra = {}
    for candidates in clocks.values():
        for found in candidates:
            if found.kind == "direct" and "__" in found.path:
                extra[found.attribute] = F(found.path)
            elif found.kind == "mapped" and found.path:
                extra[found.attribute] = F(found.path)
    return rows.annotate(**extra) if extra else rows


def disposal_for(rule: RetentionRule, clocks: dict[RetentionRule, list[Clock]], row) -> DisposalDate:
    candidates = clocks.get(rule, [])
    for found in candidates:
        at = found.due(rule, found.start_of(row))
        if at is not None:
            return DisposalDate(rule=Rule.of(rule), at=at, event=found.event)
    event = candidates[0].event if candidates else ""
    return DisposalDate(rule=Rule.of(rule), at=None, event=event)


# --- values ----------------------------------------------------------------------------------
def _format(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, (list, tuple)):
        return ", ".join(_format(v) for v in value) if value else "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_format(v)}" for k, v in value.items()) if value else "—"
    return str(value)


def _json(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _shown(row, model_field: models.Field):
    """(JSON value, text) of one column of a row."""
    if isinstance(model_field, (EncryptedBinaryField, models.BinaryField)):
        size = getattr(row, "size", None)
        return None, (
            gettext("A file (%(size)s)") % {"size": filesizeformat(size)}
            if size is not None
            else gettext("A file")
        )
    if model_field.is_relation:
        value = getattr(row, f"kk_ref_{model_field.name}", None)
        return _json(value), _format(value)
    value = getattr(row, model_field.attname)
    if model_field.name.endswith("_yen") and isinstance(value, int):
        from kirakira.common.templatetags.kirakira import yen

        return _json(value), yen(value)  # an amount as the member writes it: 12,345円, ¥12,345
    if model_field.choices and not isinstance(value, (list, dict)):
        return _json(value), str(dict(model_field.flatchoices).get(value, value)) if value not in (
            None,
            "",
        ) else "—"
    return _json(value), _format(value)


def _rule_of(entry: PersonalField, row) -> RetentionRule:
    if entry.retention_by is None:
        return entry.retention
    path, by_value = entry.retention_by
    value = getattr(row, f"kk_rb_{entry.field}" if "." in path else path, None)
    return dict(by_value).get(str(value), entry.retention)


def _self_service(row, kind: Kind, name: str, correctable: dict) -> tuple[str, str]:
    """(URL, words) of the page where the member changes this value themselves."""
    if kind.model is get_user_model() and name in ("name", "email"):
        return reverse("accounts:mypage"), gettext("my page")
    where = correction.self_service(row, name) if kind.label in correctable else ""
    if not where:
        return "", ""
    if kind.label == "orders.Order":
        return reverse("orders:detail", args=[row.pk]), where
    order_id = getattr(row, "order_id", None)
    if order_id is not None:
        return reverse("orders:refund_account", args=[order_id]), where
    return "", where


def _correction_url(label: str, row, name: str) -> str:
    query = urlencode({"target": label, "target_id": str(row.pk), "target_field": name})
    return f"{reverse('privacy:correction_request')}?{query}"


def frozen_of(member) -> set[tuple[str, str, str]]:
    """(record, row, field) of every value the member has asked to have corrected, still open."""
    rows = RightsRequest.objects.open_corrections().filter(member=member)
    return set(rows.values_list("target", "target_id", "target_field"))


# --- building a section ----------------------------------------------------------------------
def _items(kind: Kind) -> list[Item]:
    declaration = kind.declaration
    items = []
    deletable = set(kind.deletion_fields())
    for entry in kind.personal_fields():
        items.append(
            Item(
                entry=f"{kind.label}.{entry.field}" if entry.field in deletable else kind.label,
                field=entry.field,
                label=str(kind.model._meta.get_field(entry.field).verbose_name),
                items=tuple(str(item.label) for item in catalog.items_of(entry)),
                purposes=tuple(str(purpose.label) for purpose in entry.purposes),
                rules=tuple(Rule.of(rule) for rule in entry.rules),
                protection=str(entry.protection),
            )
        )
    record = declaration.record
    if record is not None:
        labels = tuple(str(item.label) for item in catalog.items_of(record))
        items.append(
            Item(
                entry=kind.label,
                field="*",
                label=", ".join(labels),
                items=labels,
                purposes=tuple(str(purpose.label) for purpose in record.purposes),
                rules=(Rule.of(record.retention),),
                protection=str(record.protection),
            )
        )
    return items


def _rules_of(kind: Kind) -> set[RetentionRule]:
    found = set()
    for entry in kind.personal_fields():
        found.update(entry.rules)
    if kind.declaration.record is not None:
        found.add(kind.declaration.record.retention)
    return found


def section_of(kind: Kind, member, frozen: set, counter: list[int]) -> Section | None:
    """The member's rows of one kind, or ``None`` when they have none."""
    model = kind.model
    declaration = kind.declaration
    record_entry = declaration.record
    is_log = record_entry is not None and record_entry.automatic
    limit = LOG_ROWS if is_log else ROW_LIMIT
    clocks = clocks_of(kind, _rules_of(kind), counter)
    base = kind.rows(member.pk)
    date_path = _date_path(kind, clocks)

    fields = kind.personal_fields()
    reference_path = _reference_path(model)
    # The row's date and reference have columns of their own.
    shown_apart = {date_path, (reference_path or "").split("__")[0]}
    columns = [column for column in kind.record_columns() if column.name not in shown_apart]
    rows = _annotate(base, clocks)
    extra = {}
    if reference_path:
        reference_name = _reference_field(_follow(model, reference_path))
        extra["kk_reference"] = F(f"{reference_path}__{reference_name}")
    for entry in fields:
        if entry.retention_by is not None and "." in entry.retention_by[0]:
            extra[f"kk_rb_{entry.field}"] = F(entry.retention_by[0].replace(".", "__"))
    for column in columns:
        if column.is_relation:
            extra[f"kk_ref_{column.name}"] = F(f"{column.name}__{_reference_field(column.related_model)}")
    if date_path and "__" in date_path:
        extra["kk_date"] = F(date_path)
    if extra:
        rows = rows.annotate(**extra)
    binary = [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, (EncryptedBinaryField, models.BinaryField))
    ]
    if binary:
        rows = rows.defer(*binary)
    ordering = [f"-{date_path}", "-pk"] if date_path else ["-pk"]
    shown = list(rows.order_by(*ordering)[: limit + 1])
    if not shown:
        return None
    _read_mapped(clocks, base)

    correctable = correction.correctable()
    records = []
    for row in shown[:limit]:
        records.append(_record(kind, row, fields, columns, clocks, frozen, date_path, correctable))

    count, oldest, newest, earliest = len(shown), None, None, None
    if len(shown) > limit:
        totals = base.aggregate(
            n=Count("pk"), **({"oldest": Min(date_path), "newest": Max(date_path)} if date_path else {})
        )
        count, oldest, newest = totals["n"], totals.get("oldest"), totals.get("newest")
        earliest = _earliest(kind, base, clocks)
    else:
        dates = [record.date for record in records if record.date is not None]
        oldest, newest = (min(dates), max(dates)) if dates else (None, None)
        started = [r.disposal for r in records if r.disposal is not None and r.disposal.started]
        earliest = min(started, key=lambda d: d.at) if started else None

    reference_label = ""
    if reference_path is not None:
        reference_label = str(_follow(model, reference_path)._meta.verbose_name)
    date_label = ""
    if date_path:
        date_label = str(_follow_field(model, date_path).verbose_name)
    title = title_of(kind)
    return Section(
        entry=kind.label,
        model_label=kind.label,
        title=title,
        context=str(declaration.context),
        items=_items(kind),
        columns=[(entry.field, str(model._meta.get_field(entry.field).verbose_name)) for entry in fields]
        + [(column.name, str(column.verbose_name)) for column in columns],
        records=records,
        count=count,
        oldest=oldest,
        newest=newest,
        earliest_disposal=earliest,
        is_log=is_log,
        reference_label=reference_label,
        date_label=date_label,
    )


def _follow(model, path: str):
    for name in [p for p in path.split("__") if p]:
        model = model._meta.get_field(name).related_model
    return model


def _follow_field(model, path: str) -> models.Field:
    *relations, last = path.split("__")
    return _follow(model, "__".join(relations))._meta.get_field(last)


def _earliest(kind: Kind, base, clocks) -> DisposalDate | None:
    """The first disposal date among all the rows of a kind with more rows than are shown."""
    rule = kind.declaration.record.retention if kind.declaration.record is not None else None
    if rule is None:
        return None
    best = None
    for found in clocks.get(rule, []):
        if found.kind == "direct":
            first = base.aggregate(first=Min(found.path))["first"]
        elif found.kind == "mapped":
            first = min(found.starts.values(), default=None)
        else:
            continue
        at = found.due(rule, first)
        if at is not None and (best is None or at < best.at):
            best = DisposalDate(rule=Rule.of(rule), at=at, event=found.event)
    return best


def _record(
    kind: Kind, row, fields, columns, clocks, frozen: set, date_path: str, correctable: dict
) -> Record:
    label = kind.label
    values = []
    disposals = []
    fields_correctable = correctable.get(label, (None, {}))[1]
    for entry in fields:
        model_field = kind.model._meta.get_field(entry.field)
        rule = _rule_of(entry, row)
        disposal = disposal_for(rule, clocks, row)
        disposals.append(disposal)
        value, text = _shown(row, model_field)
        under_correction = (label, str(row.pk), entry.field) in frozen
        change_url, change_where = _self_service(row, kind, entry.field, correctable)
        correction_url = ""
        # A correction of a value there is: an empty one has nothing to correct.
        if (
            entry.field in fields_correctable
            and not change_where
            and not under_correction
            and value not in _EMPTY
        ):
            correction_url = _correction_url(label, row, entry.field)
        values.append(
            Value(
                name=entry.field,
                value=value,
                text=text,
                disposal=disposal,
                under_correction=under_correction,
                correction_url=correction_url,
                change_url=change_url if not under_correction else "",
                change_where=change_where if not under_correction else "",
            )
        )
    if kind.declaration.record is not None:
        disposal = disposal_for(kind.declaration.record.retention, clocks, row)
        disposals.append(disposal)
        for column in columns:
            value, text = _shown(row, column)
            values.append(Value(name=column.name, value=value, text=text, disposal=None))
    main = _main(disposals)
    reference = getattr(row, "kk_reference", None)
    if reference is None and _reference_path(kind.model) == "":
        reference = getattr(row, _reference_field(kind.model) or "reference", None)
    row_date = None
    if date_path:
        row_date = getattr(row, "kk_date" if "__" in date_path else date_path, None)
    secret_key = _is_secret(kind.model._meta.pk) or not isinstance(
        kind.model._meta.pk, (models.UUIDField, models.AutoField, models.BigAutoField, models.IntegerField)
    )
    return Record(
        id="" if secret_key else str(row.pk),
        reference=str(reference) if reference is not None else "",
        date=row_date,
        values=values,
        disposal=main,
    )


def _main(disposals: list[DisposalDate]) -> DisposalDate | None:
    """The disposal most of a row's values follow (the first of them on a tie)."""
    if not disposals:
        return None
    counts = defaultdict(int)
    for disposal in disposals:
        counts[disposal] += 1
    return max(disposals, key=lambda d: counts[d])


# --- presenters: kinds shown better through their own module ---------------------------------
def _staff_accesses(section: Section, member) -> None:
    """The staff access log about the member, as its own page shows it (roles, a pseudonym,
    never a name)."""
    from kirakira.privacy.access_log import transparency

    rule = catalog.for_model("privacy.StaffAccessSubject").record.retention
    accesses = transparency.accesses(transparency.accesses_of(member)[:LOG_ROWS])
    event = next((r.disposal.event for r in section.records if r.disposal is not None), None)
    section.columns = [
        ("staff", gettext("Who")),
        ("roles", gettext("Roles")),
        ("action", gettext("What they did")),
        ("items", gettext("Information")),
        ("reason", gettext("Reason")),
    ]
    section.records = []
    for access in accesses:
        disposal = DisposalDate(rule=Rule.of(rule), at=rule.due(access.occurred_at), event=event or "")
        section.records.append(
            Record(
                id=str(access.id),
                reference=str(access.id),
                date=access.occurred_at,
                values=[
                    Value(name="staff", value=access.staff, text=access.staff_label, disposal=None),
                    Value(
                        name="roles",
                        value=[label.code for label in access.roles],
                        text=", ".join(str(r) for r in access.role_labels) or "—",
                        disposal=None,
                    ),
                    Value(name="action", value=access.action, text=str(access.action_label), disposal=None),
                    Value(
                        name="items",
                        value=[label.code for label in access.items],
                        text=", ".join(str(i) for i in access.item_labels) or "—",
                        disposal=None,
                    ),
                    Value(
                        name="reason", value=str(access.reason), text=str(access.reason) or "—", disposal=None
                    ),
                ],
                disposal=disposal,
            )
        )
    section.reference_label = gettext("No.")
    section.link = reverse("privacy:access_log")
    section.link_label = gettext("Staff access to your information")


PRESENTERS = {"privacy.StaffAccessSubject": _staff_accesses}
# The rows naming the member in the staff access log are the member's view of that log.
TITLES = {"privacy.StaffAccessSubject": gettext_lazy("staff access to your information")}


# --- the selectors -----------------------------------------------------------------------------
def my_data(member, now=None) -> MyData:
    """Everything held about ``member``, by the policy's collection contexts."""
    now = now or clock.now()
    frozen = frozen_of(member)
    counter = [0]
    by_context: dict[str, list[Section]] = defaultdict(list)
    for kind in kinds():
        section = section_of(kind, member, frozen, counter)
        if section is None:
            continue
        presenter = PRESENTERS.get(kind.label)
        if presenter is not None:
            presenter(section, member)
        by_context[section.context].append(section)
    groups = [
        Group(context=context.value, label=str(context.label), sections=by_context[context.value])
        for context in Context
        if by_context.get(context.value)
    ]
    return MyData(generated_at=now, groups=groups)


def held_kinds(member) -> list[Kind]:
    """The kinds of record the member has rows of (one small query each)."""
    return [kind for kind in kinds() if kind.rows(member.pk).exists()]


def title_of(kind: Kind) -> str:
    """What the member calls a kind of record: its plural name, or a name of its own."""
    if kind.model is get_user_model():
        return gettext("your account")
    if kind.label in TITLES:
        return str(TITLES[kind.label])
    return str(kind.model._meta.verbose_name_plural)


def entry_label(kind: Kind, field_name: str | None = None) -> str:
    title = title_of(kind)
    title = title[:1].upper() + title[1:]
    if field_name is None:
        return title
    return gettext("%(kind)s: %(field)s") % {
        "kind": title,
        "field": kind.model._meta.get_field(field_name).verbose_name,
    }


__all__ = [
    "LOG_ROWS",
    "ROW_LIMIT",
    "WITHHELD",
    "DisposalDate",
    "Group",
    "Item",
    "Kind",
    "MyData",
    "Record",
    "Rule",
    "Section",
    "Value",
    "held_kinds",
    "kind_of",
    "kinds",
    "my_data",
]
