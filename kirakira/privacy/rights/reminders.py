"""The reminder of due dates: once per request, 3 days before it is due, every active member of
the privacy roles is told which requests are near their due date."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.tasks import email_send_once

from .models import REMINDER_DAYS, RightsRequest


def privacy_staff():
    return (
        get_user_model()
        .objects.filter(
            is_active=True, is_staff=True, groups__name__in=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF]
        )
        .distinct()
    )


def remind_due(now=None) -> int:
    """Remind privacy staff of the open requests due within ``REMINDER_DAYS`` days that were
    not reminded of yet; returns how many requests. Safe to run twice."""
    from . import emails

    now = now or clock.now()
    # One transaction: a send that fails leaves the requests unreminded, for the next hour's run
    # (staff already written to in it may then get the reminder twice; none is lost).
    with transaction.atomic():
        due = list(
            RightsRequest.objects.select_for_update()
            .open()
            .filter(reminded_at__isnull=True, due_at__lte=now + timedelta(days=REMINDER_DAYS))
            .order_by("due_at")
        )
        if not due:
            return 0
        for staff in privacy_staff():
            email_send_once(
                kind="privacy.rights_reminder",
                ids=(staff.pk, int(now.timestamp())),
                send=lambda staff=staff: emails.send_staff_reminder(staff, due),
            )
        RightsRequest.objects.filter(pk__in=[r.pk for r in due]).update(reminded_at=now)
    return len(due)
