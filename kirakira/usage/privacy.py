"""The usage log (policy C1: connection IP address, time of use, service usage records)."""

from kirakira.privacy.catalog import Context, Item, Purpose, Retention, Role, catalog

catalog.register_record(
    "usage.UsageRecord",
    context=Context.MEMBERSHIP,
    subject="member",
    items=[Item.IP_ADDRESS, Item.TIME_OF_USE, Item.USAGE_RECORD],
    purposes=[Purpose.IDENTITY, Purpose.CUSTOMER_CONFIRMATION],
    retention=Retention.USAGE_LOG_6M,
    full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
    automatic=True,
)
