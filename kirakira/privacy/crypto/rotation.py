"""Retiring a master key: the last step of the key lifecycle, on the backup schedule.

Destroying a member's data key (``datakeys.shred``) makes their values unreadable in the live
database at once, but a backup taken earlier still holds that data key, wrapped under the master
key of the time. Master keys are therefore rotated regularly (``rotate_master_key``) and each old
one is retired once the backups that still need it have aged out: after that no copy of any
backup holds a data key that anything can open, and shredded data is gone from the backups too.
The runbook is in the README ("Backups and key retirement").
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from kirakira.common import clock

from .keyring import keyring


class RetirementRefused(Exception):
    """Retiring the key now would lose data or backups; the message says what to do first."""


@dataclass(frozen=True)
class Retirement:
    master_key_id: str
    retired_at: datetime
    rotated_off_at: datetime | None


def retirement_due(master_key_id: str, now: datetime | None = None) -> datetime | None:
    """When the key may be retired (the last rotation off it + BACKUP_RETENTION_DAYS), or None
    if no rotation moved data keys off it."""
    from kirakira.privacy.models import MasterKeyEvent

    last = (
        MasterKeyEvent.objects.filter(master_key_id=master_key_id, kind=MasterKeyEvent.Kind.ROTATED_OFF)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return None if last is None else last + timedelta(days=settings.BACKUP_RETENTION_DAYS)


def retire_master_key(master_key_id: str, *, now: datetime | None = None, early: bool = False) -> Retirement:
    """Record that ``master_key_id`` is retired: it wraps no live data key, it is not the active
    key, and the backups that needed it have aged out (``early`` accepts that younger backups
    become unrestorable). The operator then removes the key from every configuration and secret
    store. Raises ``RetirementRefused``."""
    from kirakira.privacy.models import DataKey, MasterKeyEvent
    from kirakira.privacy.retention import journal

    now = now or clock.now()
    if master_key_id == keyring().active_id:
        raise RetirementRefused(
            f"{master_key_id!r} is the active master key: make another key active (PRIVACY_ACTIVE_MASTER_KEY), run "
            "rotate_master_key, and retire this one after the backups taken before have aged out."
        )
    with transaction.atomic():
        if MasterKeyEvent.objects.filter(
            master_key_id=master_key_id, kind=MasterKeyEvent.Kind.RETIRED
        ).exists():
            raise RetirementRefused(f"Master key {master_key_id!r} is already retired.")
        live = DataKey.objects.filter(master_key_id=master_key_id, destroyed_at__isnull=True).count()
        if live:
            raise RetirementRefused(
                f"{live} data key(s) are still wrapped under {master_key_id!r}: run rotate_master_key first "
                "(with the key still configured), then retire it when the backups have aged out."
            )
        due = retirement_due(master_key_id)
        if due is not None and due > now and not early:
            raise RetirementRefused(
                f"Backups taken before the rotation off {master_key_id!r} are kept until {due:%Y-%m-%d %H:%M} "
                f"(BACKUP_RETENTION_DAYS={settings.BACKUP_RETENTION_DAYS}) and need it to be restored: retire it "
                "then, or pass --early to make those backups unrestorable now."
            )
        try:
            with transaction.atomic():
                MasterKeyEvent.objects.create(
                    master_key_id=master_key_id, kind=MasterKeyEvent.Kind.RETIRED, at=now
                )
        except IntegrityError:
            raise RetirementRefused(f"Master key {master_key_id!r} is already retired.") from None
        journal.append_on_commit(journal.MASTER_KEY_RETIRED, key_id=master_key_id, at=now)
    rotated = due - timedelta(days=settings.BACKUP_RETENTION_DAYS) if due is not None else None
    return Retirement(master_key_id=master_key_id, retired_at=now, rotated_off_at=rotated)
