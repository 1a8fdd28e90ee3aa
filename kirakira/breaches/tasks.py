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


@task()
def send_incident_notices(*, incident_id: str, actor_id: str) -> dict:
    """The notices of an incident, sent in the background (thousands of members can take
    minutes); a run stopped midway is finished by the next."""
    from django.contrib.auth import get_user_model

    from . import services
    from .models import BreachIncident

    incident = BreachIncident.objects.get(pk=incident_id)
    actor = get_user_model().objects.get(pk=actor_id)
    return services.notices_send(incident=incident, actor=actor)
