"""Background work of rights requests: the one-time code's email, the member's emails about
their request, building an export, and the reminder of due dates. Arguments are IDs and codes."""

from typing import Literal

from kirakira.common.tasks import email_send_once, task
from kirakira.privacy.crypto.fields import is_destroyed

RequestEvent = Literal["received", "refused", "extended", "done", "export_ready", "export_failed"]


@task()
def send_identity_code(*, code_id: str) -> None:
    from . import emails
    from .identity import code_of
    from .models import IdentityCode

    row = IdentityCode.objects.select_related("member").filter(pk=code_id, used_at__isnull=True).first()
    if row is None or not row.member.is_active or is_destroyed(row.member.email):
        return
    email_send_once(
        kind="privacy.identity_code", ids=(row.pk,), send=lambda: emails.send_identity_code(row, code_of(row))
    )


@task()
def send_request_email(*, request_id: str, event: RequestEvent) -> None:
    from . import emails
    from .models import RightsRequest

    request = RightsRequest.objects.select_related("member").filter(pk=request_id).first()
    if request is None or not request.member.is_active or is_destroyed(request.member.email):
        return
    email_send_once(
        kind=f"privacy.rights_{event}",
        ids=(request.pk,) if event != "extended" else (request.pk, int(request.extended_at.timestamp())),
        send=lambda: emails.send_request_email(request, event),
    )


@task()
def build_export(*, request_id: str) -> None:
    from .export import build

    build(request_id)
