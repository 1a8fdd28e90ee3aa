"""The terms of service's versions and the members' agreements to them, in the catalog."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kirakira.privacy import retention
from kirakira.privacy.catalog import Context, Item, Purpose, Retention, Role, catalog, not_personal, personal

catalog.register(
    "legal.TermsVersion",
    context=Context.SECURITY,
    subject="published_by",
    fields=[
        personal(
            "published_by",
            Item.STAFF_CHANGE_RECORD,
            purposes=[Purpose.ACCOUNTABILITY],
            retention=Retention.UNTIL_PURPOSE_MET,
            full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF, Role.ADMINISTRATOR],
        ),
    ],
    not_personal=not_personal(
        "id",
        "number",
        "effective_on",
        "is_correction",
        "reason_ja",
        "reason_en",
        "reason_ko",
        "summary_ja",
        "summary_en",
        "summary_ko",
        "snapshot_ja",
        "snapshot_en",
        "snapshot_ko",
        "published_at",
        reason="the published terms of service and their announcement",
    ),
)

# Which version of the terms a member agreed to, when and how: recorded like the policy versions
# a member acknowledged, and moved with the membership record when the member withdraws.
catalog.register_record(
    "legal.TermsAgreement",
    context=Context.MEMBERSHIP,
    subject="member",
    items=[Item.USAGE_RECORD],
    purposes=[Purpose.NOTICES],
    retention=Retention.WITHDRAWN_MEMBER_5Y,
    full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
    automatic=True,
)

retention.register(
    "legal.TermsVersion",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("never while the service runs: the published versions are the record of what members agreed to"),
    where=Q(pk__in=[]),
)
retention.register(
    "legal.TermsAgreement",
    rule=Retention.WITHDRAWN_MEMBER_5Y,
    event=_("the member withdraws: moved to separate storage with the membership record"),
    with_parent="privacy.RetainedRecord:withdrawn_member_5y",
)
