"""Writes of the staff gate: the security pledge (publishing, accepting), training records, and
the second factor's devices (enrolment, backup codes, checking a code)."""

import secrets
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kirakira.common import clock
from kirakira.common.text import clean_text
from kirakira.common.validation import collect

from . import selectors
from .models import LANGUAGES, ExitPledge, PledgeAcceptance, SecurityPledge, TrainingRecord

PUBLISH_PERMISSION = "staff_gate.publish_securitypledge"
TRAINING_PERMISSION = "staff_gate.add_trainingrecord"
BACKUP_CODE_COUNT = 10
# Backup codes: lowercase letters and digits that cannot be mistaken for one another.
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
BACKUP_CODE_LENGTH = 10
DEVICE_NAME = "default"
PLEDGE_MAX_CHARS = 20_000


def _require(actor, permission: str) -> None:
    if not actor.is_active or not actor.is_staff or not actor.has_perm(permission):
        raise PermissionDenied(_("Your role may not do this."))


# --- the security pledge ----------------------------------------------------------------------


def pledge_check_texts(texts: dict[str, str]) -> dict[str, str]:
    """The pledge's text in each language, cleaned, or ``ValidationError`` by field
    (``text_ja``, ``text_en``, ``text_ko``): all three are required, since staff read it in
    their own language."""
    errors: dict[str, list] = {}
    cleaned = {}
    for language in LANGUAGES:
        field = f"text_{language}"
        value = (texts.get(language) or "").strip()
        if not value:
            errors[field] = [_("Write the pledge in this language too.")]
            continue
        if len(value) > PLEDGE_MAX_CHARS:
            errors[field] = [_("The pledge is too long.")]
            continue
        cleaned[language] = collect(errors, field, lambda v: clean_text(v, multiline=True), value)
    if errors:
        raise ValidationError(errors)
    return cleaned


def pledge_publish(*, texts: dict[str, str], actor) -> SecurityPledge:
    """Publish the next version of the pledge; from now on every staff member accepts it
    before they see personal data again."""
    _require(actor, PUBLISH_PERMISSION)
    cleaned = pledge_check_texts(texts)
    try:
        with transaction.atomic():
            number = (SecurityPledge.objects.aggregate(n=Max("number"))["n"] or 0) + 1
            return SecurityPledge.objects.create(
                number=number,
                published_at=clock.now(),
                published_by=actor,
                **{f"text_{language}": cleaned[language] for language in LANGUAGES},
            )
    except IntegrityError:
        raise ValidationError(
            _("Another version was published at the same moment; please try again.")
        ) from None


def pledge_accept(*, user, number: int) -> PledgeAcceptance:
    """Record that ``user`` accepted version ``number``, which must be the current one (a page
    opened before a newer version was published accepts nothing)."""
    if not user.is_active or not user.is_staff:
        raise PermissionDenied(_("Only staff accept the security pledge."))
    current = selectors.current_pledge()
    if current is None or current.number != number:
        raise ValidationError(
            _("A newer version of the pledge has been published. Read it and accept it."), code="stale"
        )
    acceptance, _created = PledgeAcceptance.objects.get_or_create(staff=user, pledge=current)
    return acceptance


def exit_pledge_publish(*, texts: dict[str, str], actor) -> ExitPledge:
    """Publish the next version of the exit pledge, which leaving staff sign (recorded by the
    offboarding, ``kirakira.accounts.offboarding``). Published by whoever publishes the security
    pledge (the privacy officer)."""
    _require(actor, PUBLISH_PERMISSION)
    cleaned = pledge_check_texts(texts)
    try:
        with transaction.atomic():
            number = (ExitPledge.objects.aggregate(n=Max("number"))["n"] or 0) + 1
            return ExitPledge.objects.create(
                number=number,
                published_at=clock.now(),
                published_by=actor,
                **{f"text_{language}": cleaned[language] for language in LANGUAGES},
            )
    except IntegrityError:
        raise ValidationError(
            _("Another version was published at the same moment; please try again.")
        ) from None


# --- training records -------------------------------------------------------------------------


def training_check(*, staff, course: str, completed_on: date | None) -> dict:
    errors: dict[str, list] = {}
    course = (course or "").strip()
    if staff is None or not staff.is_staff:
        errors["staff"] = [_("Choose a staff account.")]
    if not course:
        errors["course"] = [_("Enter the course.")]
    else:
        course = collect(errors, "course", lambda v: clean_text(v, multiline=False), course)
    if completed_on is None:
        errors["completed_on"] = [_("Enter the date the training was completed.")]
    elif completed_on > selectors.today():
        errors["completed_on"] = [_("The training cannot be completed in the future.")]
    if errors:
        raise ValidationError(errors)
    return {"staff": staff, "course": course, "completed_on": completed_on}


def training_record_add(*, staff, course: str, completed_on: date, actor) -> TrainingRecord:
    _require(actor, TRAINING_PERMISSION)
    data = training_check(staff=staff, course=course, completed_on=completed_on)
    return TrainingRecord.objects.create(entered_by=actor, **data)


# --- the second factor ------------------------------------------------------------------------


def totp_device_pending(*, user) -> TOTPDevice:
    """The account's TOTP device waiting to be confirmed, made now if there is none: the key it
    shows stays the same however often the enrolment page is opened, until it is confirmed."""
    if not user.is_active or not user.is_staff:
        raise PermissionDenied(_("Only staff enrol a second factor."))
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def new_backup_code() -> str:
    return "".join(secrets.choice(_BACKUP_ALPHABET) for _i in range(BACKUP_CODE_LENGTH))


def normalize_code(value) -> str:
    """A code as typed: spaces and hyphens dropped, lowercase."""
    if not isinstance(value, str):
        return ""
    return "".join(value.split()).replace("-", "").lower()[:32]


def backup_codes_replace(*, user) -> list[str]:
    """A new set of single-use backup codes for ``user``; the old ones stop working."""
    codes = [new_backup_code() for _i in range(BACKUP_CODE_COUNT)]
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def totp_enrol_confirm(*, user, code: str) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm the account's pending TOTP device with a code from the app: the device is then
    the account's second factor (any older one is removed) and a new set of backup codes is
    made. ``None`` when the code is wrong (the device stays pending)."""
    code = normalize_code(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        )
        if device is None or not code.isdigit() or not device.verify_token(code):
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = backup_codes_replace(user=user)
    return device, codes


def second_factor_check(*, user, code: str):
    """The confirmed device of ``user`` that accepts ``code`` (six digits: the app's code;
    anything else: a backup code, used up by this), or ``None``. A code is accepted once: a
    TOTP code not again, nor an earlier one, and a backup code is deleted."""
    code = normalize_code(code)
    if not code:
        return None
    model = TOTPDevice if code.isdigit() and len(code) <= 8 else StaticDevice
    for device in model.objects.filter(user=user, confirmed=True).order_by("pk"):
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


def throttle_wait_seconds(*, user) -> int:
    """How long django-otp's own brake (after wrong codes in a row) still holds the account's
    devices; 0 when it does not."""
    wait = 0
    now = timezone.now()  # django-otp's clock, not kirakira.common.clock
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=user, confirmed=True):
            allowed, details = device.verify_is_allowed()
            locked_until = (details or {}).get("locked_until")
            if not allowed and locked_until is not None:
                wait = max(wait, int((locked_until - now).total_seconds()) + 1)
    return wait


def second_factor_reset(*, user) -> int:
    """Take away the account's second factor (a lost phone and lost backup codes): its devices
    are deleted and its browser sessions ended, so that its next login enrols anew. Returns how
    many devices were deleted. Done on the server (``staff_reset_second_factor``): a page for it
    would let whoever runs it enrol a device of their own on someone else's account."""
    from kirakira.accounts.models import BrowserSession

    with transaction.atomic():
        deleted = TOTPDevice.objects.filter(user=user).delete()[1].get(TOTPDevice._meta.label, 0)
        deleted += StaticDevice.objects.filter(user=user).delete()[1].get(StaticDevice._meta.label, 0)
        BrowserSession.objects.filter(user=user).delete()
    return deleted
