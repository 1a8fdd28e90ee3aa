"""Background work of the accounts app. Arguments carry only UUIDs and codes: the task table is
no place for personal data (:mod:`kirakira.common.tasks` enforces it)."""

import logging
from typing import Literal

from kirakira.common.roles import Role
from kirakira.common.tasks import task
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
def send_member_email(*, user_id: str, kind: MemberEmail) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or is_destroyed(user.email):
        return  # gone, or their data was erased: nobody to write to
    _SENDERS[kind](user)


def enqueue_member_email(user, kind: MemberEmail) -> None:
    if kind not in _SENDERS:
        raise ValueError(f"unknown member email {kind!r}")
    send_member_email.enqueue(user_id=str(user.pk), kind=kind)


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
    sent = 0
    for officer in officers:
        if not is_destroyed(officer.email):
            emails.send_role_request_notice(officer, request)
            sent += 1
    if not sent:
        # IDs only. With no privacy officer the request waits for `staff_grant_role` on the server.
        logger.warning("role request %s waits, and no privacy officer can be told", request.pk)


def enqueue_role_request_notice(request) -> None:
    send_role_request_notice.enqueue(request_id=str(request.pk))
