"""Reads of the staff gate: the current pledge, and which step a staff member still misses."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django_otp import user_has_device

from kirakira.common import clock

from .models import TRAINING_VALID_MONTHS, PledgeAcceptance, SecurityPledge, TrainingRecord, add_months

# The steps, in the order the gate asks for them (also the ``why`` of a refusal).
SECOND_FACTOR = "second_factor"
NO_PLEDGE = "no_pledge"
PLEDGE = "pledge"
TRAINING = "training"


def today() -> date:
    return timezone.localdate(clock.now())


def training_cutoff() -> date:
    """A record completed on this day or earlier no longer counts."""
    return add_months(today(), -TRAINING_VALID_MONTHS)


def current_pledge() -> SecurityPledge | None:
    return SecurityPledge.objects.order_by("-number").first()


def latest_training(user) -> TrainingRecord | None:
    return TrainingRecord.objects.filter(staff=user).order_by("-completed_on", "-entered_at").first()


def has_second_factor(user) -> bool:
    """Whether the account has a confirmed device (else it must enrol first)."""
    return user_has_device(user, confirmed=True)


def missing_step(user) -> str | None:
    """The first step of the gate that ``user`` (a signed-in staff member, through
    ``OTPMiddleware``) has not passed, or ``None``. One query once the second factor is passed."""
    if not user.is_verified():
        return SECOND_FACTOR
    latest = SecurityPledge.objects.order_by("-number").values("pk")[:1]
    state = (
        get_user_model()
        ._default_manager.filter(pk=user.pk)
        .annotate(
            pledge_id=Subquery(latest),
            accepted=Exists(PledgeAcceptance.objects.filter(staff=OuterRef("pk"), pledge=Subquery(latest))),
            trained=Exists(
                TrainingRecord.objects.filter(staff=OuterRef("pk"), completed_on__gt=training_cutoff())
            ),
        )
        .values("pledge_id", "accepted", "trained")
        .first()
    )
    if state is None or state["pledge_id"] is None:
        return NO_PLEDGE
    if not state["accepted"]:
        return PLEDGE
    if not state["trained"]:
        return TRAINING
    return None
