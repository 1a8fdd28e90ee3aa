"""Test helpers for the staff gate.

Most tests are about what a role may see, not about the gate: there a staff member who logs in
(``client.force_login``, the back-office login form, a real browser) gets what the gate asks
for at that moment, the way Django's test client skips the CSRF check. The root ``conftest.py``
does this for every test not marked ``real_gate``; the gate's own tests are so marked."""

import contextlib

from django.contrib.auth.signals import user_logged_in
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kirakira.common import clock

from . import selectors
from .models import PledgeAcceptance, SecurityPledge, TrainingRecord

_DISPATCH_UID = "kirakira.accounts.gate.testing.pass_the_gate"


def publish_test_pledge(*, by, number: int | None = None) -> SecurityPledge:
    number = number or ((selectors.current_pledge().number + 1) if selectors.current_pledge() else 1)
    return SecurityPledge.objects.create(
        number=number,
        text_ja=f"誓約書 第{number}版",
        text_en=f"Security pledge version {number}",
        text_ko=f"보안 서약서 {number}판",
        published_at=clock.now(),
        published_by=by,
    )


def give_pledge_and_training(user) -> None:
    """``user`` accepts the current pledge (one is published if there is none) and has a
    training record completed today, unless a current one exists."""
    pledge = selectors.current_pledge() or publish_test_pledge(by=user)
    PledgeAcceptance.objects.get_or_create(staff=user, pledge=pledge)
    if not TrainingRecord.objects.filter(staff=user, completed_on__gt=selectors.training_cutoff()).exists():
        TrainingRecord.objects.create(
            staff=user, course="Privacy training (test)", completed_on=selectors.today(), entered_by=user
        )


def confirmed_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """The code an authenticator app shows now for ``device``."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):0{device.digits}d}"


def pass_the_gate(user, session) -> None:
    """``session`` (logged in as staff ``user``) has passed the second factor, and ``user``
    the pledge and training."""
    session[DEVICE_ID_SESSION_KEY] = confirmed_device(user).persistent_id
    give_pledge_and_training(user)


def _on_login(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if getattr(user, "is_staff", False) and session is not None:
        pass_the_gate(user, session)


@contextlib.contextmanager
def staff_pass_the_gate_on_login():
    """Every staff login made inside the block passes the gate at once."""
    user_logged_in.connect(_on_login, dispatch_uid=_DISPATCH_UID)
    try:
        yield
    finally:
        user_logged_in.disconnect(dispatch_uid=_DISPATCH_UID)
