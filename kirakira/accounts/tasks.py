"""Background work of the accounts app. Arguments carry only the member's UUID and a code: the
task table is no place for personal data (:mod:`kirakira.common.tasks` enforces it)."""

from typing import Literal

from kirakira.common.tasks import task
from kirakira.privacy.crypto.fields import is_destroyed

from . import emails
from .models import User

MemberEmail = Literal["registration_confirmation", "new_email_confirmation", "email_change_notice", "password_reset"]

_SENDERS = {
    "registration_confirmation": emails.send_registration_confirmation,
    "new_email_confirmation": emails.send_new_email_confirmation,
    "email_change_notice": emails.send_email_change_notice,
    "password_reset": emails.send_password_reset,
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
