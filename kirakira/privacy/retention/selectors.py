"""Reads for the retention back office: the ledger's counts, the forecast of what falls due, and
the members a legal hold can name.

The forecast counts with one aggregate query per disposal, whatever the number of rows: each
figure (30, 90 and 365 days, each of the next twelve months) is a filtered count over the
rows that fall due within the year.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kirakira.accounts.normalization import normalize_login_id
from kirakira.common import clock
from kirakira.privacy.catalog.vocabulary import Retention, RetentionRule

from . import rules
from .models import DisposalCount, DisposalRun, RegistrationMatch, RetainedRecord

HORIZONS = (30, 90, 365)  # days
MONTHS = 12
# Counted as disposed of in a run's total; "held" rows were due and kept.
DISPOSING = (DisposalCount.Method.DELETED, DisposalCount.Method.MOVED, DisposalCount.Method.KEY_DESTROYED)


# --- names ------------------------------------------------------------------------------------


def rule_of(code: str) -> RetentionRule | None:
    try:
        return Retention.get(code)
    except KeyError:  # a rule removed since the run
        return None


def rule_label(code: str) -> str:
    rule = rule_of(code)
    return str(rule.label) if rule is not None else code


def model_name(label: str) -> str:
    """What the ledger calls a model label: the model's plural name, and for separate storage
    ("privacy.RetainedRecord:orders.Order") the kind of record kept there."""
    base, _sep, source = label.partition(":")
    if source:
        return _("%(records)s in separate storage") % {"records": kind_name(source, plural=True)}
    try:
        return str(apps.get_model(base)._meta.verbose_name_plural)
    except (LookupError, ValueError):  # a model removed since the run
        return label


def kind_name(source: str, *, plural: bool = False) -> str:
    """The kind of a record in separate storage (its ``source``): "order", and for a member's
    own row "membership record", which is what separate storage keeps of it."""
    if source == "accounts.User":
        return _("membership records") if plural else _("membership record")
    try:
        opts = apps.get_model(source)._meta
    except (LookupError, ValueError):
        return source
    return str(opts.verbose_name_plural if plural else opts.verbose_name)


# --- the ledger -------------------------------------------------------------------------------


def runs_with_totals(queryset):
    """Runs with ``disposed``: how many records each disposed of (kept ones not counted)."""
    return queryset.annotate(
        disposed=Coalesce(Sum("counts__count", filter=Q(counts__method__in=DISPOSING)), 0)
    )


@dataclass(frozen=True)
class CountRow:
    rule: str
    rule_label: str
    basis: str
    model: str
    model_name: str
    method: str
    method_label: str
    count: int
    oldest: datetime | None
    newest: datetime | None


def run_counts(*, run: DisposalRun) -> list[CountRow]:
    rows = []
    for count in DisposalCount.objects.filter(run=run).order_by("rule", "model", "method"):
        rule = rule_of(count.rule)
        rows.append(
            CountRow(
                rule=count.rule,
                rule_label=rule_label(count.rule),
                basis=str(rule.basis) if rule is not None else "",
                model=count.model,
                model_name=model_name(count.model),
                method=count.method,
                method_label=str(count.get_method_display()),
                count=count.count,
                oldest=count.oldest,
                newest=count.newest,
            )
        )
    return rows


# --- legal holds ------------------------------------------------------------------------------


def hold_subject(*, identifier: str) -> uuid.UUID | None:
    """The member a hold names: a live member by login ID, or a withdrawn one by the ID their
    records carry in separate storage. None when neither (staff accounts are not members)."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    try:
        former = uuid.UUID(identifier)
    except ValueError:
        former = None
    if former is not None:
        # A login ID never has the form of a UUID (4 to 30 of a-z 0-9 _ . -).
        return former if RetainedRecord.objects.filter(subject_id=former).exists() else None
    User = get_user_model()
    return (
        User._base_manager.filter(
            login_id=normalize_login_id(identifier), withdrawn_at__isnull=True, is_staff=False
        )
        .values_list("pk", flat=True)
        .first()
    )


def holds_with_members(queryset):
    """Holds with ``member_login_id``: the login ID of a live member (None for a former one)."""
    User = get_user_model()
    live = User._base_manager.filter(pk=OuterRef("subject_id"), withdrawn_at__isnull=True)
    return queryset.annotate(member_login_id=Subquery(live.values("login_id")[:1]))


# --- separate storage -------------------------------------------------------------------------


def registration_matches(*, retained: RetainedRecord) -> list[RegistrationMatch]:
    """New accounts registered with the address of this membership record, oldest first."""
    return list(RegistrationMatch.objects.filter(retained=retained).order_by("matched_at", "pk"))


# --- the forecast -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastRow:
    key: str
    rule: RetentionRule
    model: str
    model_name: str
    event: str
    within: tuple[int, ...]  # per HORIZONS
    by_month: tuple[int, ...]  # per month of Forecast.months


@dataclass(frozen=True)
class Forecast:
    now: datetime
    months: tuple[datetime, ...]  # the local start of each month shown (the first: this month)
    rows: tuple[ForecastRow, ...]
    not_forecast: tuple[rules.Disposal, ...]  # no clock: disposed of when their event happens

    @property
    def within(self) -> tuple[int, ...]:
        return tuple(sum(row.within[i] for row in self.rows) for i in range(len(HORIZONS)))

    @property
    def by_month(self) -> tuple[int, ...]:
        return tuple(sum(row.by_month[i] for row in self.rows) for i in range(len(self.months)))


@dataclass(frozen=True)
class _Window:
    """The moments that bound each figure: ``horizons`` (now + 30, 90, 365 days), and ``edges``,
    now and the start of each coming month (bucket i holds what falls due after edges[i] and
    by edges[i + 1])."""

    now: datetime
    horizons: tuple[datetime, ...]
    edges: tuple[datetime, ...]

    @property
    def until(self) -> datetime:
        return max(self.horizons[-1], self.edges[-1])


def _window(now: datetime) -> _Window:
    local = timezone.localtime(now)
    zone = timezone.get_current_timezone()
    edges = [now]
    for step in range(1, MONTHS + 1):
        months = local.month - 1 + step
        edges.append(datetime(local.year + months // 12, months % 12 + 1, 1, tzinfo=zone))
    return _Window(
        now=now,
        horizons=tuple(now + timedelta(days=days) for days in HORIZONS),
        edges=tuple(edges),
    )


def _counts(field: str, window: _Window, cutoff: Callable[[datetime], datetime]) -> dict:
    """Filtered counts of the rows whose ``field`` falls, through ``cutoff``, in each horizon
    and each month."""
    counts = {}
    for index, horizon in enumerate(window.horizons):
        counts[f"within_{index}"] = Count("pk", filter=Q(**{f"{field}__lte": cutoff(horizon)}))
    for index in range(MONTHS):
        low, high = cutoff(window.edges[index]), cutoff(window.edges[index + 1])
        counts[f"month_{index}"] = Count("pk", filter=Q(**{f"{field}__gt": low, f"{field}__lte": high}))
    return counts


def _row(disposal, figures: dict, *, model: str | None = None, rule: RetentionRule | None = None, name=None):
    model = model or disposal.model._meta.label
    return ForecastRow(
        key=disposal.key,
        rule=rule or disposal.rule,
        model=model,
        model_name=name or model_name(model),
        event=str(disposal.event),
        within=tuple(figures[f"within_{i}"] or 0 for i in range(len(HORIZONS))),
        by_month=tuple(figures[f"month_{i}"] or 0 for i in range(MONTHS)),
    )


def _by_start(disposal, window: _Window) -> list[ForecastRow]:
    """A disposal whose rows fall due ``rule`` (and ``after``) past their ``start``."""
    rows = disposal.not_yet_due(window.now, window.until)
    return [_row(disposal, rows.aggregate(**_counts(disposal.start, window, disposal.cutoff)))]


def _retained(disposal, window: _Window) -> list[ForecastRow]:
    """Separate storage: each record carries its own rule and the moment it goes
    (``dispose_after``), so it is counted by that moment, per rule and kind of record."""
    rows = RetainedRecord.objects.filter(dispose_after__gt=window.now, dispose_after__lte=window.until)
    grouped = (
        rows.order_by()
        .values("rule", "source")
        .annotate(**_counts("dispose_after", window, lambda moment: moment))
        .order_by("rule", "source")
    )
    found = []
    for figures in grouped:
        rule = rule_of(figures["rule"]) or disposal.rule
        found.append(
            _row(disposal, figures, model=f"{RetainedRecord._meta.label}:{figures['source']}", rule=rule)
        )
    return found


def _withdrawn_members(disposal, window: _Window) -> list[ForecastRow]:
    """A withdrawn member's data key is destroyed (and the emptied account deleted) once the
    last of their records in separate storage is gone: counted by that record's moment."""
    User = get_user_model()
    last_kept = (
        RetainedRecord.objects.filter(subject_id=OuterRef("pk"))
        .order_by("-dispose_after")
        .values("dispose_after")[:1]
    )
    rows = (
        User._base_manager.filter(withdrawn_at__isnull=False)
        .annotate(last_kept=Subquery(last_kept))
        .filter(last_kept__gt=window.now, last_kept__lte=window.until)
    )
    figures = rows.aggregate(**_counts("last_kept", window, lambda moment: moment))
    return [_row(disposal, figures, name=_("withdrawn members' accounts and data keys"))]


# The disposals that carry themselves out (``custom``), each with how its forecast is counted.
# A custom disposal missing here is listed as not forecast (a test requires every one here).
CUSTOM_FORECASTS: dict[str, Callable] = {
    "usage.UsageRecord:usage_log_6m": _by_start,  # by time ranges, but due by ``occurred_at``
    "privacy.StaffAccessRecord:staff_access_2y": _by_start,  # likewise
    "privacy.RetainedRecord:withdrawn_member_5y": _retained,
    "accounts.User:withdrawn": _withdrawn_members,
    "privacy.RightsRequest:export_files": _by_start,  # files deleted when their link expires
}


def retention_forecast(*, now: datetime | None = None) -> Forecast:
    """What falls due after ``now``: within 30, 90 and 365 days, and in each of the next twelve
    months, per rule and model. Legal holds are not applied: a held record is counted when it
    falls due, and kept while the hold lasts."""
    now = now or clock.now()
    window = _window(now)
    found: list[ForecastRow] = []
    not_forecast = []
    for disposal in rules.disposals():
        if disposal.with_parent is not None:
            continue  # goes with its parent, counted there
        if disposal.custom is not None:
            forecast = CUSTOM_FORECASTS.get(disposal.key)
            if forecast is None:
                not_forecast.append(disposal)
            else:
                found.extend(forecast(disposal, window))
        elif disposal.start is None:
            not_forecast.append(disposal)
        else:
            found.extend(_by_start(disposal, window))
    found.sort(key=lambda row: (str(row.rule.label), row.model_name))
    return Forecast(
        now=now,
        months=tuple(timezone.localtime(edge) for edge in window.edges[:-1]),
        rows=tuple(found),
        not_forecast=tuple(not_forecast),
    )
