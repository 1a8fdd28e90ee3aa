"""The register of provisions required by law, in the catalog.

The provision itself (who asked, under which law) names no member; what was provided about
each member is their data, encrypted under their key, and it is theirs to see (unless a law
forbids telling them, until a date). The register is the record of what left the company: it
is never disposed of while the service runs. The values provided go with the member's key
when a withdrawn member's records are finally disposed of (crypto-shredding); the rows, which
say who asked, under which law and which items, stay.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kirakira.privacy import retention
from kirakira.privacy.catalog import (
    Context,
    Item,
    Protection,
    Purpose,
    Retention,
    Role,
    catalog,
    not_personal,
    personal,
)

_STAFF = [Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF]

catalog.register(
    "disclosures.Disclosure",
    context=Context.SECURITY,
    subject="recorded_by",
    fields=[
        personal(
            "recorded_by",
            Item.STAFF_CHANGE_RECORD,
            purposes=[Purpose.ACCOUNTABILITY],
            retention=Retention.UNTIL_PURPOSE_MET,
            full=_STAFF,
        )
    ],
    not_personal=not_personal(
        "id",
        "reference",
        "recipient",
        "legal_basis",
        "request_reference",
        "requested_on",
        "items",
        "withheld_until",
        "withholding_basis",
        "file_digest",
        "recorded_at",
        reason="an authority's request and its legal basis; the members it concerns are in DisclosedData",
    ),
)
catalog.register(
    "disclosures.DisclosedData",
    context=Context.SECURITY,
    subject="member",
    fields=[
        personal(
            "values",
            Item.ORDER_INFORMATION,
            purposes=[Purpose.ACCOUNTABILITY],
            retention=Retention.UNTIL_PURPOSE_MET,
            protection=Protection.ENCRYPTED,
            full=_STAFF,
        )
    ],
    not_personal=not_personal(
        "id", "disclosure", "member", "withheld_until", reason="which provision; the values are declared"
    ),
)
catalog.register(
    "disclosures.CorrectionNotice",
    context=Context.SECURITY,
    subject="member",
    fields=[
        personal(
            "corrected_value",
            Item.ORDER_INFORMATION,
            purposes=[Purpose.ACCOUNTABILITY],
            retention=Retention.UNTIL_PURPOSE_MET,
            protection=Protection.ENCRYPTED,
            full=_STAFF,
        )
    ],
    not_personal=not_personal(
        "id",
        "data",
        "member",
        "request",
        "record",
        "record_id",
        "field",
        "created_at",
        reason="which provided value was corrected, and by which request",
    ),
)
catalog.register(
    "disclosures.CorrectionNoticeSent",
    context=Context.SECURITY,
    subject="sent_by",
    fields=[
        personal(
            "sent_by",
            Item.STAFF_CHANGE_RECORD,
            purposes=[Purpose.ACCOUNTABILITY],
            retention=Retention.UNTIL_PURPOSE_MET,
            full=_STAFF,
        )
    ],
    not_personal=not_personal("id", "notice", "sent_at", reason="when the notice left"),
)

for label in (
    "disclosures.Disclosure",
    "disclosures.DisclosedData",
    "disclosures.CorrectionNotice",
    "disclosures.CorrectionNoticeSent",
):
    retention.register(
        label,
        rule=Retention.UNTIL_PURPOSE_MET,
        event=_("never while the service runs: the register is the record of what left the company"),
        where=Q(pk__in=[]),
    )
