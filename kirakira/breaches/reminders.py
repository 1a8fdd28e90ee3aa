"""The schedule's look at the incidents' clocks: the privacy roles are mailed once when a clock
has a day left, and once when it has run out, until what it asks is recorded as done."""

import logging

from django.db import IntegrityError, transaction

from kirakira.common import clock
from kirakira.common.tasks import email_send_once
from kirakira.privacy.rights.reminders import privacy_staff

from . import clocks as legal_clocks
from .models import ClockReminder

logger = logging.getLogger("kirakira.breaches")


def remind_due(now=None) -> int:
    """Mail the reminders due now; returns how many (clock, stage) reminders went out."""
    from . import emails

    now = now or clock.now()
    sent = 0
    for incident, waiting in legal_clocks.pending(now):
        for running in waiting:
            stage = {"due_soon": "soon", "overdue": "overdue"}.get(running.state(now))
            if (
                stage is None
                or ClockReminder.objects.filter(incident=incident, kind=running.kind, stage=stage).exists()
            ):
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
                continue  # a run at the same moment reminded of it
            except Exception as exc:  # noqa: BLE001 - one failed mail must not stop the other clocks
                # Rolled back with its delivery rows: the next hour's run sends it again, so staff
                # mailed before the failure may get it twice; none goes without. (The error's
                # class only: an SMTP refusal's text names the address.)
                logger.error("breach clock reminder not sent: %s", type(exc).__name__)
                continue
            sent += 1
    return sent
