"""The schedule's look at the incidents' clocks: the privacy roles are mailed once when a clock
has a day left, and once when it has run out, until what it asks is recorded as done."""

from django.db import IntegrityError, transaction

from kirakira.common import clock
from kirakira.common.tasks import email_send_once
from kirakira.privacy.rights.reminders import privacy_staff

from . import clocks as legal_clocks
from .models import BreachIncident, ClockReminder


def remind_due(now=None) -> int:
    """Mail the reminders due now; returns how many (clock, stage) reminders went out."""
    from . import emails

    now = now or clock.now()
    sent = 0
    # An incident's clocks run out within 60 days of its detection.
    horizon = now - legal_clocks.LONGEST - legal_clocks.SOON
    for incident in BreachIncident.objects.filter(detected_at__gte=horizon).prefetch_related("clocks_done"):
        for running in legal_clocks.clocks(incident):
            state = running.state(now)
            stage = {"due_soon": "soon", "overdue": "overdue"}.get(state)
            if stage is None:
                continue
            try:
                with transaction.atomic():
                    ClockReminder.objects.create(
                        incident=incident, kind=running.kind, stage=stage, sent_at=now
                    )
                    for staff in privacy_staff():
                        email_send_once(
                            kind="breaches.clock_reminder",
                            ids=(
                                incident.pk,
                                staff.pk,
                                legal_clocks.ORDER.index(running.kind),
                                int(stage == "overdue"),
                            ),
                            send=lambda staff=staff, incident=incident, running=running, stage=stage: (
                                emails.send_clock_reminder(staff, incident, running, stage)
                            ),
                        )
            except IntegrityError:
                continue  # reminded before (or by a run at the same moment)
            sent += 1
    return sent
