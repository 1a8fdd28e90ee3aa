"""Writes: recording a cookie choice as proof (policy C8)."""

from django.db import transaction

from kirakira.common import clock

from .cookies import CHOICES, new_consent_id
from .models import ConsentRecord
from .selectors import consent_basis


@transaction.atomic
def consent_record(*, choice: str, consent_id: str | None = None) -> ConsentRecord:
    """Record ``choice`` ("accept" or "refuse") under the visitor's consent ID (a new random one
    when they have none), with the policy version and cookie table it was given under. The
    same choice made again under the same table adds no row: the record already proves it."""
    if choice not in CHOICES:
        raise ValueError(f"unknown cookie choice {choice!r}")
    version, digest = consent_basis()
    if consent_id:
        latest = ConsentRecord.objects.filter(consent_id=consent_id).order_by("-created_at", "-pk").first()
        if latest is not None and (latest.choice, latest.cookies_digest) == (choice, digest):
            return latest
    return ConsentRecord.objects.create(
        consent_id=consent_id or new_consent_id(),
        choice=choice,
        policy_version=version,
        cookies_digest=digest,
        created_at=clock.now(),
    )
