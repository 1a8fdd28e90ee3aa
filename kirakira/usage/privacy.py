"""The usage log (policy C1: connection IP address, time of use, service usage records)."""

from django.utils.translation import gettext_lazy as _

from kirakira.privacy import retention
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

# The usage log is the largest table: it is disposed of by time ranges (whole monthly partitions
# on PostgreSQL), never row by row (kirakira/usage/partitions.py).


def _dispose_usage_log(disposal, context):
    from .retention import dispose_for_sweep

    dispose_for_sweep(disposal, context)


retention.register(
    "usage.UsageRecord",
    rule=Retention.USAGE_LOG_6M,
    event=_("the request is made"),
    start="occurred_at",
    custom=_dispose_usage_log,
    subject="member",
)
