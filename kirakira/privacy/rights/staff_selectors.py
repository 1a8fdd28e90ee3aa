"""Reads for privacy staff's work on rights requests: the list in order of urgency, the officer's
desk (what is past or near its due date), and a member's earlier requests."""

from datetime import timedelta

from django.db.models import Case, DateTimeField, F, IntegerField, Value, When

from kirakira.common import clock

from .models import OPEN, REMINDER_DAYS, RightsRequest

VIEW_PERMISSION = "privacy.view_rightsrequest"
DECIDE_PERMISSION = "privacy.decide_rightsrequest"

# Open requests first, the nearest due date first; then the answered ones, the latest first.
URGENCY = (
    Case(When(status__in=OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()).asc(),
    Case(When(status__in=OPEN, then=F("due_at")), default=None, output_field=DateTimeField()).asc(
        nulls_last=True
    ),
    F("decided_at").desc(nulls_last=True),
)


def desk_requests(user, now=None) -> list[RightsRequest]:
    """The open requests past their due date or due within ``REMINDER_DAYS`` days, the most
    urgent first; none for a user who may not see requests."""
    if not user.has_perm(VIEW_PERMISSION):
        return []
    now = now or clock.now()
    return list(
        RightsRequest.objects.open()
        .filter(due_at__lte=now + timedelta(days=REMINDER_DAYS))
        .order_by("due_at")
    )


def open_count(user) -> int:
    return RightsRequest.objects.open().count() if user.has_perm(VIEW_PERMISSION) else 0


def member_history(request: RightsRequest) -> list[RightsRequest]:
    """The member's other requests, the latest first."""
    return list(
        RightsRequest.objects.filter(member_id=request.member_id)
        .exclude(pk=request.pk)
        .order_by("-received_at")
    )
