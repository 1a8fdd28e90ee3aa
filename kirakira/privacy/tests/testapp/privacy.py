from django.db.models import Q

from kirakira.privacy import retention
from kirakira.privacy.catalog import (
    Context,
    Item,
    Mask,
    Protection,
    Purpose,
    Retention,
    Role,
    catalog,
    not_personal,
    personal,
)

catalog.register(
    "privacy_testapp.Secret",
    context=Context.SERVICE,
    subject="member_id",
    fields=[
        personal(
            "phone",
            Item.PHONE,
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.ACCOUNTING],
            masked=[Role.CUSTOMER_SERVICE],
            mask=Mask.LAST4,
        ),
        personal(
            "phone_index",
            Item.PHONE,
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ONE_WAY,
        ),
        personal(
            "note",
            Item.ORDER_INFORMATION,
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.CUSTOMER_SERVICE],
        ),
        personal(
            "links",
            Item.PHOTO_LINKS,
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.CUSTOMER_SERVICE],
        ),
    ],
    not_personal=not_personal("id", "member_id", reason="identifiers"),
)
catalog.register(
    "privacy_testapp.Sample",
    context=Context.SERVICE,
    subject="member_id",
    fields=[
        personal(
            "phone",
            Item.PHONE,
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
        ),
        personal(
            "note",
            Item.ORDER_INFORMATION,
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
        ),
    ],
    not_personal=not_personal("id", "member_id", reason="identifiers"),
)
for label in ("privacy_testapp.PlainSecret", "privacy_testapp.FernetSecret"):
    catalog.register(
        label,
        context=Context.SECURITY,
        not_personal=not_personal("id", "member_id", "phone", "note", reason="benchmark data, generated"),
    )

# Test rows are disposed of by the test that makes them; the sweep leaves them alone.
for _label in ("privacy_testapp.Secret", "privacy_testapp.Sample"):
    retention.register(
        _label,
        rule=Retention.CONTRACT_RECORD_5Y,
        event="never: test rows",
        where=Q(pk__in=[]),
    )
