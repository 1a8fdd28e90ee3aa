"""What the staff gate stores: the security pledge's versions, who accepted which, and the
staff's training records. All of it is about staff, none about members.

The second factor's own tables (django-otp's devices and backup codes) are declared with the
accounts in ``kirakira/accounts/privacy.py``."""

from django.utils.translation import gettext_lazy as _

from kirakira.privacy import retention
from kirakira.privacy.catalog import (
    Context,
    Item,
    Purpose,
    Retention,
    Role,
    catalog,
    not_personal,
    personal,
)

PRIVACY_ROLES = [Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF]

catalog.register(
    "staff_gate.SecurityPledge",
    context=Context.SECURITY,
    subject="published_by",
    fields=[
        personal(
            "published_by",
            Item.STAFF_CHANGE_RECORD,
            purposes=[Purpose.ACCOUNTABILITY],
            retention=Retention.UNTIL_PURPOSE_MET,
            full=PRIVACY_ROLES,
        ),
    ],
    not_personal=not_personal(
        "id", "number", "text_ja", "text_en", "text_ko", "published_at", reason="the published pledge text"
    ),
)

# A pledge accepted and a training completed are conditions of a staff member's access to
# personal data: records of their access rights, kept as long as the permission-change log.
catalog.register_record(
    "staff_gate.PledgeAcceptance",
    context=Context.SECURITY,
    subject="staff",
    items=[Item.ACCESS_RIGHTS_RECORD],
    purposes=[Purpose.ACCOUNTABILITY, Purpose.SECURITY],
    retention=Retention.PERMISSION_CHANGE_3Y,
    full=PRIVACY_ROLES,
)
catalog.register_record(
    "staff_gate.TrainingRecord",
    context=Context.SECURITY,
    subject="staff",
    items=[Item.ACCESS_RIGHTS_RECORD],
    purposes=[Purpose.ACCOUNTABILITY, Purpose.SECURITY],
    retention=Retention.PERMISSION_CHANGE_3Y,
    full=PRIVACY_ROLES,
)

# --- Retention (kirakira/privacy/retention) ----------------------------------------------------
# An acceptance of the pledge in force is what lets its staff member in, so only acceptances of
# older versions run their three years; training records run theirs from the course.


def _superseded_pledges():
    from django.db.models import Q, Subquery

    from .models import SecurityPledge

    latest = SecurityPledge.objects.order_by("-number").values("number")[:1]
    return Q(pledge__number__lt=Subquery(latest))


retention.register(
    "staff_gate.PledgeAcceptance",
    rule=Retention.PERMISSION_CHANGE_3Y,
    event=_("a newer version of the pledge replaces the one accepted (counted from the acceptance)"),
    start="accepted_at",
    where=_superseded_pledges,
)
retention.register(
    "staff_gate.TrainingRecord",
    rule=Retention.PERMISSION_CHANGE_3Y,
    event=_("the course is completed"),
    start="completed_on",
)
def _unreferenced_old_pledges():
    from django.db.models import Q, Subquery

    from .models import SecurityPledge

    latest = SecurityPledge.objects.order_by("-number").values("number")[:1]
    return Q(acceptances__isnull=True, number__lt=Subquery(latest))


retention.register(
    "staff_gate.SecurityPledge",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("no kept acceptance refers to an older version of the pledge any more"),
    where=_unreferenced_old_pledges,
)


# --- offboarding (kirakira/accounts/offboarding.py) -----------------------------------------------
catalog.register(
    "staff_gate.ExitPledge",
    context=Context.SECURITY,
    subject="published_by",
    fields=[
        personal(
            "published_by",
            Item.STAFF_CHANGE_RECORD,
            purposes=[Purpose.ACCOUNTABILITY],
            retention=Retention.UNTIL_PURPOSE_MET,
            full=PRIVACY_ROLES,
        ),
    ],
    not_personal=not_personal(
        "id", "number", "text_ja", "text_en", "text_ko", "published_at", reason="the published exit pledge text"
    ),
)
# Who left, when, which exit pledge they signed, and to whom their work went: a record of the end
# of a staff member's access rights, kept as long as the permission-change log that holds the
# deactivation itself. The administrator who completed it reads it on the offboarding page.
for _label, _subject in (("staff_gate.Offboarding", "leaver"), ("staff_gate.OffboardingHandover", "to_staff")):
    catalog.register_record(
        _label,
        context=Context.SECURITY,
        subject=_subject,
        items=[Item.ACCESS_RIGHTS_RECORD],
        purposes=[Purpose.ACCOUNTABILITY, Purpose.SECURITY],
        retention=Retention.PERMISSION_CHANGE_3Y,
        full=[*PRIVACY_ROLES, Role.ADMINISTRATOR],
    )
retention.register(
    "staff_gate.Offboarding",
    rule=Retention.PERMISSION_CHANGE_3Y,
    event=_("the offboarding is completed"),
    start="completed_at",
)
retention.register(
    "staff_gate.OffboardingHandover",
    rule=Retention.PERMISSION_CHANGE_3Y,
    event=_("the offboarding is completed"),
    with_parent="staff_gate.Offboarding:permission_change_3y",
)


def _unreferenced_old_exit_pledges():
    from django.db.models import Q, Subquery

    from .models import ExitPledge, Offboarding

    latest = ExitPledge.objects.order_by("-number").values("number")[:1]
    return Q(number__lt=Subquery(latest)) & ~Q(pk__in=Offboarding.objects.values("exit_pledge"))


retention.register(
    "staff_gate.ExitPledge",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("no kept offboarding refers to an older version of the exit pledge any more"),
    where=_unreferenced_old_exit_pledges,
)
