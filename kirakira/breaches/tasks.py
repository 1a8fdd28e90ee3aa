"""Background work of the breach register: a member's notice email (arguments are IDs)."""

from kirakira.common.tasks import email_send_once, task
from kirakira.privacy.crypto.fields import is_destroyed


@task()
def send_notice_email(*, notice_id: str) -> None:
    from . import emails, services
    from .models import BreachNotice

    notice = BreachNotice.objects.select_related("member", "incident").filter(pk=notice_id).first()
    if notice is None or not notice.member.is_active or is_destroyed(notice.member.email):
        return
    if email_send_once(kind="breaches.notice", ids=(notice.pk,), send=lambda: emails.send_notice(notice)):
        services.notice_emailed(notice.pk)
