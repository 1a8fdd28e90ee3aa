"""The monthly review of the staff access log (policy C10): for one calendar month in the
site's time zone (``TIME_ZONE``), what each member of staff saw, and what deserves a second look.

The rules, as the privacy officer reads them on the review page:

- **Members** are the data subjects a row names that are not staff accounts (a visitor's
  consultation counts through its own subject ID). A staff account seen by another member of
  staff is counted nowhere here. A refusal shows no data: it is counted apart and in no other
  figure.
- **Outside working hours**: a row whose local time is outside ``ACCESS_REVIEW_WORKING_HOURS``
  ("09:00-19:00", the end excluded) or on a day not in ``ACCESS_REVIEW_WORKING_DAYS``
  ("mon-fri"). Public holidays are not known here: an access on one is listed only by its hour.
- **Volume over 3× the median**: a staff member's daily volume is the number of distinct
  members they saw that local day. Their median is taken over the days they worked that month,
  a day worked being one with at least one row of theirs (a refusal included). Days with no row
  are days off and do not count: counting them as zero would put the median of anyone who works
  fewer than half the month's days at zero and flag every day they worked. A day is flagged when
  its volume is more than three times that median.
- **No order or consultation to handle**: a row's member is the staff member's work when one of
  the roles the staff member held at the time of the row (the row's own ``roles``) handles
  something of that member that was open in the month:

  - an order, for the roles that work on orders (those declaring ``orders.work_on_order`` or
    ``orders.record_payment``: customer service, accounting). An order was open in the month
    when it was placed before the month ended and was not finished before it began: its status
    is not completed or cancelled, or one of its events (a payment recorded or reversed, a
    cancellation, a refund paid, a step of the work) happened on or after the month's first day;
    or a refund to the member is still to be paid;
  - a consultation routed to the role (``kirakira.consultations.routing.ROUTES``: questions and
    proposals to customer service, complaints to customer service and the privacy officer,
    personal-information matters to the privacy roles) opened before the month ended and not
    closed before it began.

  Every other member a row names is listed, with the number of rows and the first and last
  time. A role that handles neither orders nor consultations (the administrator) has every
  member it sees listed: that is for the reviewer to explain, not for this module to excuse.

Cost: a month can hold tens of thousands of rows naming hundreds of thousands of members. The
figures are a fixed number of queries whatever that number: the per-member counts are
aggregated in the database, the per-row flags computed in one pass over the month's rows read as
tuples (``values_list().iterator()``), never as model instances: loading instances would also
make the reviewer's request look like an access to every one of them.
"""

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, IntegerField, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate

from kirakira.common import clock
from kirakira.common.roles import ROLE_DECLARATIONS, Role

from ..models import AccessReview, StaffAccessRecord, StaffAccessSubject
from .transparency import pseudonym_code

Action = StaffAccessRecord.Action

# The actions that show data, in the order the review page lists them.
SEEING_ACTIONS = tuple(action for action in Action.values if action != Action.REFUSED)
FLAGGED_ACTIONS = (Action.REVEAL, Action.DOWNLOAD)
SPIKE_FACTOR = 3
# Permissions that make a role's work the orders themselves (not merely reading them).
ORDER_WORK_PERMISSIONS = frozenset({"orders.work_on_order", "orders.record_payment"})

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --- Settings ------------------------------------------------------------------------------------


def parse_working_hours(spec: str) -> tuple[time, time]:
    """ "09:00-19:00" -> (09:00, 19:00). A start after the end is a night shift ("22:00-06:00")."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", spec or "")
    if not match:
        raise ImproperlyConfigured(f'ACCESS_REVIEW_WORKING_HOURS must look like "09:00-19:00", not {spec!r}.')
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ImproperlyConfigured(f"ACCESS_REVIEW_WORKING_HOURS has a time that does not exist: {spec!r}.")
    start, end = time(h1, m1), (time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2))
    if start == end:
        raise ImproperlyConfigured("ACCESS_REVIEW_WORKING_HOURS starts and ends at the same time.")
    return start, end


def parse_working_days(spec: str) -> frozenset[int]:
    """ "mon-fri" -> {0, 1, 2, 3, 4} (Monday is 0); "mon,wed,sat" and "mon-fri,sat" too."""
    days: set[int] = set()
    for part in (spec or "").lower().replace(" ", "").split(","):
        bounds = part.split("-")
        if len(bounds) not in (1, 2) or not all(name in DAY_NAMES for name in bounds):
            raise ImproperlyConfigured(
                f'ACCESS_REVIEW_WORKING_DAYS must look like "mon-fri" or "mon,tue,sat", not {spec!r}.'
            )
        first, last = DAY_NAMES.index(bounds[0]), DAY_NAMES.index(bounds[-1])
        day = first
        days.add(day)
        while day != last:  # "fri-mon" goes round the weekend
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


@dataclass(frozen=True)
class WorkingTime:
    start: time
    end: time
    days: frozenset[int]

    @classmethod
    def from_settings(cls) -> "WorkingTime":
        start, end = parse_working_hours(settings.ACCESS_REVIEW_WORKING_HOURS)
        return cls(start, end, parse_working_days(settings.ACCESS_REVIEW_WORKING_DAYS))

    def covers(self, local: datetime) -> bool:
        moment = local.time()
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= moment < self.end
        # A night shift belongs to the day it started on.
        if moment >= self.start:
            return local.weekday() in self.days
        return moment < self.end and (local.weekday() - 1) % 7 in self.days

    def hours(self) -> str:
        return settings.ACCESS_REVIEW_WORKING_HOURS.strip()


@checks.register("privacy")
def check_working_time(app_configs=None, **kwargs):
    try:
        WorkingTime.from_settings()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc),
                hint="Set it in the environment (see the README's access review section).",
                id="kirakira.privacy.E030",
            )
        ]
    return []


# --- Months --------------------------------------------------------------------------------------


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first moment and the next month's, in the site's time zone."""
    tz = zone()
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=tz)


def parse_month(value: str | None) -> date | None:
    """ "2026-04" -> 2026-04-01; None for anything else."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (value or "").strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 9999 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def current_month() -> date:
    today = clock.now().astimezone(zone()).date()
    return today.replace(day=1)


def previous_month(month: date | None = None) -> date:
    month = month or current_month()
    return (month - timedelta(days=1)).replace(day=1)


def next_month(month: date) -> date:
    return (month + timedelta(days=31)).replace(day=1)


def month_is_over(month: date) -> bool:
    return clock.now() >= month_bounds(month)[1]


# --- What the month holds ------------------------------------------------------------------------


@dataclass
class Row:
    """One access-log row as the review lists it."""

    seq: int
    occurred_at: datetime  # local time
    staff_id: object
    action: str
    roles: str
    model: str
    object_id: str
    fields: list
    reason: str
    people: int  # data subjects the row names (members and staff accounts)

    @property
    def action_label(self) -> str:
        return str(Action(self.action).label)


@dataclass
class SpikeDay:
    staff_id: object
    day: date
    members: int
    median: float


@dataclass
class UnhandledMember:
    """A member a staff member saw with no order or consultation of theirs to handle."""

    staff_id: object
    subject_id: object
    roles: str
    rows: int
    first: datetime
    last: datetime


@dataclass
class StaffMonth:
    staff_id: object
    login_id: str = ""
    name: str = field(default="", repr=False)
    roles: set = field(default_factory=set)  # every role code the staff member held in a row
    rows: int = 0
    refusals: int = 0
    members: int = 0
    by_action: dict = field(default_factory=dict)  # action -> distinct members
    reveals: int = 0
    downloads: int = 0
    outside_hours: int = 0
    by_hour: list = field(default_factory=lambda: [0] * 24)  # rows per local hour
    daily: dict = field(default_factory=dict)  # each day worked -> distinct members
    median: float = 0.0
    spike_days: list = field(default_factory=list)
    unhandled_members: int = 0

    @property
    def pseudonym(self) -> str:
        """How members see this staff member on their access page: the reviewer can answer a
        member who quotes it."""
        return pseudonym_code(self.staff_id)

    @property
    def is_officer(self) -> bool:
        return Role.PRIVACY_OFFICER in self.roles

    @property
    def part(self) -> str:
        return AccessReview.Part.OFFICER if self.is_officer else AccessReview.Part.STAFF

    @property
    def action_counts(self) -> list[tuple[str, str, int]]:
        return [
            (action, str(Action(action).label), self.by_action.get(action, 0)) for action in SEEING_ACTIONS
        ]


@dataclass
class MonthReview:
    month: date
    start: datetime
    end: datetime
    working: WorkingTime
    staff: list[StaffMonth]
    reveals_and_downloads: list[Row]
    outside_hours: list[Row]
    spikes: list[SpikeDay]
    unhandled: list[UnhandledMember]
    last_seq: int = 0

    def staff_of(self, staff_id) -> StaffMonth:
        return self._by_id[staff_id]

    def __post_init__(self):
        self._by_id = {entry.staff_id: entry for entry in self.staff}

    def part_staff(self, part: str) -> set:
        """The staff members whose accesses one part of the month's mark covers."""
        return {entry.staff_id for entry in self.staff if entry.part == part}

    def part_rows(self, part: str) -> int:
        return sum(entry.rows for entry in self.staff if entry.part == part)


def _month_rows(start, end):
    return StaffAccessRecord.objects.filter(occurred_at__gte=start, occurred_at__lt=end)


def _member_subjects(start, end):
    """The month's (subject, row) pairs that show a member's data: no refusals, no staff."""
    staff_ids = get_user_model()._base_manager.filter(is_staff=True).values("pk")
    return (
        StaffAccessSubject.objects.filter(record__occurred_at__gte=start, record__occurred_at__lt=end)
        .exclude(record__action=Action.REFUSED)
        .exclude(subject_id__in=staff_ids)
    )


def order_work_roles() -> frozenset[str]:
    return frozenset(d.code for d in ROLE_DECLARATIONS if d.permissions & ORDER_WORK_PERMISSIONS)


def handled_subjects(start, end) -> dict[str, set]:
    """Role code -> the data subjects with something open in [start, end) that the role handles
    (the rule in this module's docstring). Three queries."""
    from kirakira.consultations.models import Consultation
    from kirakira.consultations.routing import ROUTES
    from kirakira.orders.models import Order, OrderStatus, Refund, RefundStatus

    finished = [OrderStatus.COMPLETED, OrderStatus.CANCELLED]
    with_orders = set(
        Order.objects.filter(created_at__lt=end)
        .filter(~Q(status__in=finished) | Q(events__occurred_at__gte=start))
        .values_list("member_id", flat=True)
        .distinct()
    )
    with_orders |= set(
        Refund.objects.filter(status=RefundStatus.DUE, created_at__lt=end).values_list("member_id", flat=True)
    )
    handled: dict[str, set] = defaultdict(set)
    for role in order_work_roles():
        handled[role] |= with_orders
    consultations = (
        Consultation.objects.filter(created_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .values_list("data_subject_id", "category")
        .distinct()
    )
    for subject_id, category in consultations:
        for role in ROUTES.get(category, ()):
            handled[role].add(subject_id)
    return handled


def month_review(*, month: date, working: WorkingTime | None = None) -> MonthReview:
    """Everything the review page and its CSV show for ``month`` (its first day), in a fixed
    number of queries."""
    working = working or WorkingTime.from_settings()
    start, end = month_bounds(month)
    tz = zone()
    staff: dict[object, StaffMonth] = {}
    days_worked: dict[object, set] = defaultdict(set)
    flagged: list[Row] = []
    outside: list[Row] = []
    last_seq = 0

    people = (
        StaffAccessSubject.objects.filter(record=OuterRef("pk"))
        .order_by()
        .values("record")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        _month_rows(start, end)
        .annotate(people=Coalesce(Subquery(people, output_field=IntegerField()), 0))
        .order_by("seq")
        .values_list(
            "seq",
            "occurred_at",
            "staff_id",
            "action",
            "roles",
            "model",
            "object_id",
            "fields",
            "reason",
            "people",
        )
    )
    # One pass over the month's rows.
    for seq, occurred_at, staff_id, action, roles, model, object_id, fields, reason, count in rows.iterator(
        chunk_size=2000
    ):
        last_seq = max(last_seq, seq)
        local = occurred_at.astimezone(tz)
        entry = staff.get(staff_id)
        if entry is None:
            entry = staff[staff_id] = StaffMonth(staff_id=staff_id)
        entry.rows += 1
        entry.roles.update(code for code in roles.split(",") if code)
        entry.by_hour[local.hour] += 1
        days_worked[staff_id].add(local.date())
        if action == Action.REFUSED:
            entry.refusals += 1
            continue
        row = None
        if action in FLAGGED_ACTIONS:
            row = Row(seq, local, staff_id, action, roles, model, object_id, fields or [], reason, count)
            flagged.append(row)
            if action == Action.REVEAL:
                entry.reveals += 1
            else:
                entry.downloads += 1
        if not working.covers(local):
            entry.outside_hours += 1
            outside.append(
                row or Row(seq, local, staff_id, action, roles, model, object_id, fields or [], reason, count)
            )

    # Bounded by the last row read above, so that every figure is of the same rows.
    members = _member_subjects(start, end).filter(record__seq__lte=last_seq)
    for staff_id, action, n in (
        members.values_list("record__staff_id", "record__action")
        .annotate(n=Count("subject_id", distinct=True))
        .order_by()
    ):
        if staff_id in staff:
            staff[staff_id].by_action[action] = n
    for staff_id, n in (
        members.values_list("record__staff_id").annotate(n=Count("subject_id", distinct=True)).order_by()
    ):
        if staff_id in staff:
            staff[staff_id].members = n
    daily: dict[object, dict] = defaultdict(dict)
    for staff_id, day, n in (
        members.annotate(day=TruncDate("record__occurred_at", tzinfo=tz))
        .values_list("record__staff_id", "day")
        .annotate(n=Count("subject_id", distinct=True))
        .order_by()
    ):
        daily[staff_id][day] = n

    spikes: list[SpikeDay] = []
    for staff_id, entry in staff.items():
        entry.daily = {day: daily[staff_id].get(day, 0) for day in sorted(days_worked[staff_id])}
        entry.median = float(statistics.median(entry.daily.values())) if entry.daily else 0.0
        for day, volume in entry.daily.items():
            if volume > SPIKE_FACTOR * entry.median:
                entry.spike_days.append(day)
                spikes.append(SpikeDay(staff_id, day, volume, entry.median))

    handled = handled_subjects(start, end)
    covered_by_roles: dict[str, set] = {}
    unhandled: list[UnhandledMember] = []
    unhandled_by_staff: dict[object, set] = defaultdict(set)
    pairs = (
        members.values_list("record__staff_id", "record__roles", "subject_id")
        .annotate(rows=Count("record_id"), first=Min("record__occurred_at"), last=Max("record__occurred_at"))
        .order_by("record__staff_id", "first")
    )
    for staff_id, roles, subject_id, count, first, last in pairs.iterator(chunk_size=2000):
        if staff_id not in staff:
            continue
        covered = covered_by_roles.get(roles)
        if covered is None:
            covered = covered_by_roles[roles] = set().union(
                *(handled.get(code, set()) for code in roles.split(","))
            )
        if subject_id not in covered:
            unhandled.append(
                UnhandledMember(staff_id, subject_id, roles, count, first.astimezone(tz), last.astimezone(tz))
            )
            unhandled_by_staff[staff_id].add(subject_id)
    for staff_id, subjects in unhandled_by_staff.items():
        staff[staff_id].unhandled_members = len(subjects)

    for pk, login_id, name in (
        get_user_model()._base_manager.filter(pk__in=list(staff)).values_list("pk", "login_id", "name")
    ):
        staff[pk].login_id, staff[pk].name = login_id, name

    return MonthReview(
        month=month,
        start=start,
        end=end,
        working=working,
        staff=sorted(staff.values(), key=lambda entry: entry.login_id),
        reveals_and_downloads=flagged,
        outside_hours=outside,
        spikes=sorted(spikes, key=lambda spike: (staff[spike.staff_id].login_id, spike.day)),
        unhandled=unhandled,
        last_seq=last_seq,
    )


@dataclass
class PartCoverage:
    """What one part of a month's mark covers: whose rows, how many, up to which."""

    staff: set = field(default_factory=set)
    rows: int = 0
    last_seq: int = 0


def month_parts(*, month: date) -> dict[str, PartCoverage]:
    """The month's two parts: the officer's (every staff member who held the privacy officer's
    role in any row of the month) and everyone else's. One query."""
    start, end = month_bounds(month)
    combos = list(
        _month_rows(start, end)
        .values_list("staff_id", "roles")
        .annotate(n=Count("pk"), last=Max("seq"))
        .order_by()
    )
    officers = {staff_id for staff_id, roles, _n, _last in combos if Role.PRIVACY_OFFICER in roles.split(",")}
    parts = {part: PartCoverage() for part in AccessReview.Part.values}
    for staff_id, _roles, n, last in combos:
        part = parts[AccessReview.Part.OFFICER if staff_id in officers else AccessReview.Part.STAFF]
        part.staff.add(staff_id)
        part.rows += n
        part.last_seq = max(part.last_seq, last)
    return parts


def subjects_of_rows(seqs) -> dict[int, set]:
    """The data subjects each listed row names (seq -> subject IDs), in one query."""
    named: dict[int, set] = defaultdict(set)
    for seq, subject_id in StaffAccessSubject.objects.filter(record__seq__in=list(seqs)).values_list(
        "record__seq", "subject_id"
    ):
        named[seq].add(subject_id)
    return named


def marks(*, month: date) -> dict[str, dict]:
    """The month's marks by part, as plain values (who, when, note, what they covered)."""
    return {
        mark["part"]: mark
        for mark in AccessReview.objects.filter(month=month).values(
            "part",
            "reviewed_by_id",
            "reviewed_by__login_id",
            "reviewed_at",
            "note",
            "record_count",
            "last_seq",
        )
    }


def recent_marks(*, before: date, months: int = 12) -> list[dict]:
    """The last ``months`` months up to ``before`` with which of their parts are marked."""
    first = before
    for _ in range(months - 1):
        first = previous_month(first)
    parts: dict[date, set] = defaultdict(set)
    for month, part in AccessReview.objects.filter(month__gte=first, month__lte=before).values_list(
        "month", "part"
    ):
        parts[month].add(part)
    out = []
    month = before
    for _ in range(months):
        out.append({"month": month, "parts": parts.get(month, set())})
        month = previous_month(month)
    return out
