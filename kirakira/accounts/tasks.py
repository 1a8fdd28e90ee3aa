"""Background work of the accounts app. Arguments carry only UUIDs and codes: the task table is
no place for personal data (:mod:`kirakira.common.tasks` enforces it). Each email is sent at
most once, however often its task runs (``email_send_once``)."""

import logging
import uuid
from typing import Literal

from kirakira.common.roles import Role
from kirakira.common.tasks import email_send_once, enqueue_in_transaction, task
from kirakira.privacy.crypto.fields import is_destroyed

from . import emails
from .models import RoleRequest, User

logger = logging.getLogger(__name__)

MemberEmail = Literal[
    "registration_confirmation", "new_email_confirmation", "email_change_notice", "password_reset", "first_password"
]

_SENDERS = {
    "registration_confirmation": emails.send_registration_confirmation,
    "new_email_confirmation": emails.send_new_email_confirmation,
    "email_change_notice": emails.send_email_change_notice,
    "password_reset": emails.send_password_reset,
    "first_password": emails.send_first_password,
}


@task()
def send_member_email(*, user_id: str, kind: MemberEmail, email_id: str = "") -> None:
    """``email_id`` names this one email: a member may ask for a confirmation or a reset link
    again, and each request is an email of its own, while a re-run of the same task is not.
    (A task queued without one is sent at most once per member and kind.)"""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or is_destroyed(user.email):
        return  # gone, or their data was erased: nobody to write to
    ids = (user.pk, email_id) if email_id else (user.pk,)
    email_send_once(kind=f"accounts.{kind}", ids=ids, send=lambda: _SENDERS[kind](user))


def enqueue_member_email(user, kind: MemberEmail) -> None:
    """Queue the email in the caller's transaction (``enqueue_in_transaction``)."""
    if kind not in _SENDERS:
        raise ValueError(f"unknown member email {kind!r}")
    enqueue_in_transaction(send_member_email, user_id=str(user.pk), kind=kind, email_id=str(uuid.uuid4()))


@task()
def send_role_request_notice(*, request_id: str) -> None:
    """Tell the privacy officers that a role request waits for them (while it still does)."""
    request = RoleRequest.objects.filter(pk=request_id, status=RoleRequest.Status.PENDING).first()
    if request is None:
        return
    officers = (
        User.objects.filter(is_active=True, is_staff=True, groups__name=Role.PRIVACY_OFFICER)
        .exclude(pk=request.requested_by_id)
        .distinct()
    )
    told = 0
    for officer in officers:
        if not is_destroyed(officer.email):
            # One ledger row per officer: a retry after a failed send writes only to those not told.
            email_send_once(
                kind="accounts.role_request_notice",
                ids=(request.pk, officer.pk),
                send=lambda officer=officer: emails.send_role_request_notice(officer, request),
            )
            told += 1
    if not told:
        # IDs only. With no privacy officer the request waits for `staff_grant_role` on the server.
        logger.warning("role request %s waits, and no privacy officer can be told", request.pk)


def enqueue_role_request_notice(request) -> None:
    """Queue the notice in the caller's transaction (``enqueue_in_transaction``)."""
    enqueue_in_transaction(send_role_request_notice, request_id=str(request.pk))
