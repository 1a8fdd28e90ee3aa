"""The breach register in the catalog.

The incident names no member (its description is written for the members, who all read it);
who it affects, and the notice each got, are their data: theirs to see on their page, the
privacy roles' to handle. The register is the proof of how an incident was handled: kept while
the service runs.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kirakira.privacy import retention
from kirakira.privacy.catalog import Context, Item, Purpose, Retention, Role, catalog, not_personal, personal

_STAFF = [Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF]


def _staff_field(name):
    return personal(
        name,
        Item.STAFF_CHANGE_RECORD,
        purposes=[Purpose.ACCOUNTABILITY],
        retention=Retention.UNTIL_PURPOSE_MET,
        full=_STAFF,
    )


catalog.register(
    "breaches.BreachIncident",
    context=Context.SECURITY,
    subject="recorded_by",
    fields=[_staff_field("recorded_by"), _staff_field("staff_account")],
    not_personal=not_personal(
        "id",
        "reference",
        "detected_at",
        "began_at",
        "description",
        "cause",
        "items",
        "keys_exposed",
        "only_stored_copy",
        "scope",
        "window_start",
        "window_end",
        "measures",
        "member_advice",
        "affected_count",
        "protected",
        "recorded_at",
        reason="what happened and what is done, written for every affected member to read; no member named",
    ),
)
for label in ("breaches.AffectedMember", "breaches.BreachNotice"):
    # Which incident concerns the member, and when and how they were told of it.
    catalog.register_record(
        label,
        context=Context.SECURITY,
        subject="member",
        items=[Item.USAGE_RECORD],
        purposes=[Purpose.NOTICES],
        retention=Retention.UNTIL_PURPOSE_MET,
        full=_STAFF,
        automatic=True,
    )
catalog.register(
    "breaches.ClockDone",
    context=Context.SECURITY,
    subject="done_by",
    fields=[_staff_field("done_by")],
    not_personal=not_personal(
        "id", "incident", "kind", "done_at", "note", reason="which legal clock was answered, when"
    ),
)
catalog.register(
    "breaches.PublicNotice",
    context=Context.SECURITY,
    subject=None,
    not_personal=not_personal(
        "id",
        "incident",
        "published_at",
        "until",
        "unreachable_count",
        reason="a notice to the public; a count",
    ),
)
catalog.register(
    "breaches.ClockReminder",
    context=Context.SECURITY,
    subject=None,
    not_personal=not_personal(
        "id", "incident", "kind", "stage", "sent_at", reason="when the privacy roles were reminded"
    ),
)

for label in (
    "breaches.BreachIncident",
    "breaches.AffectedMember",
    "breaches.BreachNotice",
    "breaches.ClockDone",
    "breaches.PublicNotice",
    "breaches.ClockReminder",
):
    retention.register(
        label,
        rule=Retention.UNTIL_PURPOSE_MET,
        event=_("never while the service runs: the register is the proof of how an incident was handled"),
        where=Q(pk__in=[]),
    )
