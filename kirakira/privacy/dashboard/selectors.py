"""The privacy officer's dashboard, read: one figure per duty of the policy, each with the list
it comes from. Counts and dates only: no member is named, so opening it is not an access to
anyone's data (each list it links to logs its own)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from kirakira.breaches import clocks as legal_clocks
from kirakira.common import clock
from kirakira.consultations.selectors import officer_desk
from kirakira.privacy.access_log import review
from kirakira.privacy.keys.models import KeyRotation
from kirakira.privacy.models import AccessReview, PolicyVersion
from kirakira.privacy.policy import checks
from kirakira.privacy.policy import selectors as policy_selectors
from kirakira.privacy.retention.selectors import retention_forecast
from kirakira.privacy.rights.models import RightsRequest
from kirakira.schedule.jobs import SCHEDULE
from kirakira.schedule.models import ScheduledJob

# Days left before a rights request is due: the chart's bars after "overdue".
DAYS_LEFT = ((0, 3), (3, 7), (7, 14), (14, None))


@dataclass
class Bucket:
    label: str
    count: int


@dataclass
class Dashboard:
    now: datetime
    requests: list[Bucket]
    requests_open: int
    forecast: object
    clocks: dict[str, int]
    incidents_open: list[dict]
    review_month: object
    review_parts: dict
    review_flags: dict[str, int]
    desk_waiting: int
    jobs: list[dict]
    rotations: list[KeyRotation]
    warnings: list
    policy_in_force: PolicyVersion | None
    policy_coming: PolicyVersion | None
    policy_notice: object = None
    versions: list = field(default_factory=list)


def _bucket_label(low, high) -> str:
    if high is None:
        return _("%(days)d days or more") % {"days": low}
    return _("%(low)d–%(high)d days") % {"low": low, "high": high - 1}


def requests_by_days_left(now) -> list[Bucket]:
    """Open rights requests by whole days left before they are due (overdue first)."""
    days_left = [
        (due_at - now) // timedelta(days=1)
        for due_at in RightsRequest.objects.open().values_list("due_at", flat=True)
    ]
    buckets = [Bucket(_("overdue"), sum(1 for days in days_left if days < 0))]
    for low, high in DAYS_LEFT:
        count = sum(1 for days in days_left if days >= low and (high is None or days < high))
        buckets.append(Bucket(_bucket_label(low, high), count))
    return buckets


def incidents_with_clocks(now) -> tuple[dict[str, int], list[dict]]:
    """Clocks still to answer, by state, and the incidents they belong to."""
    counts = {"overdue": 0, "due_soon": 0, "running": 0}
    open_incidents = []
    for incident, waiting in legal_clocks.pending(now):
        for running in waiting:
            counts[running.state(now)] += 1
        open_incidents.append(
            {"incident": incident, "next": min(waiting, key=lambda c: c.due_at), "pending": len(waiting)}
        )
    return counts, open_incidents


def _review_flags(month) -> dict[str, int]:
    month_review = review.month_review(month=month)
    return {
        "outside_hours": len(month_review.outside_hours),
        "spikes": len(month_review.spikes),
        "unhandled": len(month_review.unhandled),
    }


def _jobs() -> list[dict]:
    rows = {row.name: row for row in ScheduledJob.objects.all()}
    return [{"job": job, "row": rows.get(job.name)} for job in SCHEDULE]


def _rotations() -> list[KeyRotation]:
    latest = []
    for kind in KeyRotation.Kind.values:
        row = KeyRotation.objects.filter(kind=kind).order_by("-started_at").first()
        if row is not None:
            latest.append(row)
    return latest


def dashboard(user, now=None) -> Dashboard:
    now = now or clock.now()
    requests = requests_by_days_left(now)
    clock_counts, open_incidents = incidents_with_clocks(now)
    month = review.previous_month()
    return Dashboard(
        now=now,
        requests=requests,
        requests_open=sum(bucket.count for bucket in requests),
        forecast=retention_forecast(now=now),
        clocks=clock_counts,
        incidents_open=open_incidents,
        review_month=month,
        review_parts={part: part in review.marks(month=month) for part in AccessReview.Part.values},
        review_flags=_review_flags(month),
        desk_waiting=officer_desk(user).count(),
        jobs=_jobs(),
        rotations=_rotations(),
        warnings=[
            message for message in checks.check_promises() if message.id.startswith("kirakira.policy.W")
        ],
        policy_in_force=policy_selectors.in_force(),
        policy_coming=policy_selectors.coming(),
        policy_notice=policy_selectors.current_notice(),
    )
