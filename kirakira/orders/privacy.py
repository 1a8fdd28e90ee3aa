"""The service catalog holds no personal data (orders, which do, are declared with them)."""

from django.utils.translation import gettext_lazy as _

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
    "orders.SnsPlatform",
    context=Context.SERVICE,
    not_personal=not_personal(
        "id",
        "code",
        "name",
        "account_id_pattern",
        "account_id_rule_ja",
        "account_id_rule_en",
        "account_id_rule_ko",
        "sort_order",
        "is_active",
        reason="the studio's list of platforms",
    ),
)
catalog.register(
    "orders.Service",
    context=Context.SERVICE,
    not_personal=not_personal(
        "id",
        "name_ja",
        "name_en",
        "name_ko",
        "description_ja",
        "description_en",
        "description_ko",
        "price_yen",
        "platforms",
        "photo_link_count",
        "work_days",
        "sort_order",
        "is_active",
        "created_at",
        reason="the studio's service catalog",
    ),
)

# Orders (policy: service provision — order information). The SNS account ID and the photo links
# are what the studio needs to do the work, so they serve the service contract and are kept
# with the contract record for 5 years (after which the order is disposed of).
ORDER_PURPOSES = [Purpose.SERVICE_CONTRACT, Purpose.SERVICE_CUSTOMER_IDENTITY]

catalog.register(
    "orders.Order",
    context=Context.SERVICE,
    subject="member",
    fields=[
        personal(
            "sns_account_id",
            Item.SNS_ACCOUNT_ID,
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        personal(
            "photo_links",
            Item.PHOTO_LINKS,
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        personal(
            "note",
            Item.ORDER_INFORMATION,
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        # What the staff delivered (a note, result links), written when the work is completed.
        personal(
            "delivery_note",
            Item.ORDER_INFORMATION,
            purposes=[Purpose.SERVICE_CONTRACT],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        personal(
            "phone",
            Item.PHONE,
            purposes=ORDER_PURPOSES,
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
            masked=[Role.CUSTOMER_SERVICE, Role.ACCOUNTING],
            mask=Mask.LAST4,
        ),
        personal(
            "phone_index",
            Item.PHONE,
            purposes=ORDER_PURPOSES,
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ONE_WAY,
        ),
        personal(
            "price_yen",
            Item.BILLING_PAYMENT_RECORDS,
            purposes=[Purpose.PAYMENT, Purpose.FINANCE_RECORDS],
            retention=Retention.CONTRACT_RECORD_5Y,
            full=[Role.CUSTOMER_SERVICE, Role.ACCOUNTING, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
    ],
    not_personal=not_personal(
        "id",
        "reference",
        "member",
        "service",
        "platform",
        "status",
        "created_at",
        "updated_at",
        "payment_due_at",
        "payment_reminded_at",
        reason="the order's identity, terms and state: personal only through the member, whose data is "
        "declared in accounts, and kept with the contract record",
    ),
)

catalog.register(
    "orders.Payment",
    context=Context.SERVICE,
    subject="member",
    fields=[
        personal(
            "payer_name",
            Item.NAME,
            purposes=[Purpose.PAYMENT, Purpose.FINANCE_RECORDS],
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.ACCOUNTING, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
            masked=[Role.CUSTOMER_SERVICE],
            mask=Mask.NAME,
        ),
        personal(
            "amount_yen",
            Item.BILLING_PAYMENT_RECORDS,
            purposes=[Purpose.PAYMENT, Purpose.FINANCE_RECORDS],
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            full=[Role.ACCOUNTING, Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        personal(
            "received_on",
            Item.BILLING_PAYMENT_RECORDS,
            purposes=[Purpose.PAYMENT, Purpose.FINANCE_RECORDS],
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            full=[Role.ACCOUNTING, Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
    ],
    not_personal=not_personal(
        "id",
        "order",
        "member",
        "reverses",
        "recorded_by",
        "recorded_at",
        reason="the payment record's links and bookkeeping; kept with it as a payment record",
    ),
)
catalog.register(
    "orders.OrderEvent",
    context=Context.SERVICE,
    not_personal=not_personal(
        "id",
        "order",
        "kind",
        "status",
        "occurred_at",
        "amount_yen",
        reason="the steps of an order, kept with the order as part of its contract record",
    ),
)

catalog.register(
    "orders.Cancellation",
    context=Context.SERVICE,
    subject="member",
    fields=[
        personal(
            "reason",
            Item.ORDER_INFORMATION,
            purposes=[Purpose.SERVICE_CONTRACT, Purpose.REFUND],
            retention=Retention.CONTRACT_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        personal(
            "refund_due_yen",
            Item.BILLING_PAYMENT_RECORDS,
            purposes=[Purpose.REFUND, Purpose.FINANCE_RECORDS],
            retention=Retention.CONTRACT_RECORD_5Y,
            full=[Role.CUSTOMER_SERVICE, Role.ACCOUNTING, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
    ],
    not_personal=not_personal(
        "id",
        "order",
        "member",
        "status_before",
        "cancelled_at",
        reason="the cancellation record's links and state: a record of withdrawal kept 5 years",
    ),
)

REFUND_PURPOSES = [Purpose.REFUND, Purpose.FINANCE_RECORDS]
BANK_READERS = dict(full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF], masked=[Role.ACCOUNTING])

catalog.register(
    "orders.Refund",
    context=Context.SERVICE,
    subject="member",
    fields=[
        personal(
            "bank_name",
            Item.BANK_NAME,
            purposes=REFUND_PURPOSES,
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.ACCOUNTING, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        personal(
            "branch",
            Item.BANK_NAME,
            purposes=REFUND_PURPOSES,
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.ACCOUNTING, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        personal(
            "account_type",
            Item.ACCOUNT_NUMBER,
            purposes=REFUND_PURPOSES,
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.ACCOUNTING, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        # Accounting sees the number masked and reveals it, with a reason, to pay the refund.
        personal(
            "account_number",
            Item.ACCOUNT_NUMBER,
            purposes=REFUND_PURPOSES,
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            mask=Mask.LAST4,
            reveal=[Role.ACCOUNTING],
            **BANK_READERS,
        ),
        personal(
            "account_number_index",
            Item.ACCOUNT_NUMBER,
            purposes=REFUND_PURPOSES,
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            protection=Protection.ONE_WAY,
        ),
        personal(
            "account_holder",
            Item.ACCOUNT_HOLDER,
            purposes=REFUND_PURPOSES,
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.ACCOUNTING, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        personal(
            "amount_yen",
            Item.BILLING_PAYMENT_RECORDS,
            purposes=REFUND_PURPOSES,
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            full=[Role.ACCOUNTING, Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        personal(
            "paid_amount_yen",
            Item.BILLING_PAYMENT_RECORDS,
            purposes=REFUND_PURPOSES,
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            full=[Role.ACCOUNTING, Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
        personal(
            "paid_on",
            Item.BILLING_PAYMENT_RECORDS,
            purposes=REFUND_PURPOSES,
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            full=[Role.ACCOUNTING, Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
    ],
    not_personal=not_personal(
        "id",
        "order",
        "member",
        "kind",
        "status",
        "paid_by",
        "created_at",
        reason="the refund record's links, state and bookkeeping; kept with it as a payment record",
    ),
)

# Receipts (領収書): every issue of an order's receipt, as printed (the PDF itself is never
# stored). The addressee is the member's name as printed, encrypted; the amounts are billing
# records. Japanese tax law asks the issuer of a qualified invoice to keep a copy for 7 years;
# the policy's closed set of retention rules (vocabulary.py) has no 7-year rule, so receipts go
# with the order's payment records (5 years from the end of the contract), the closest rule.
RECEIPT_READERS = dict(
    full=[Role.ACCOUNTING, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF], masked=[Role.CUSTOMER_SERVICE]
)
catalog.register(
    "orders.Receipt",
    context=Context.SERVICE,
    subject="member",
    fields=[
        personal(
            "addressee",
            Item.NAME,
            purposes=[Purpose.PAYMENT, Purpose.FINANCE_RECORDS],
            retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
            protection=Protection.ENCRYPTED,
            mask=Mask.NAME,
            automatic=True,
            **RECEIPT_READERS,
        ),
        *(
            personal(
                name,
                Item.BILLING_PAYMENT_RECORDS,
                purposes=[Purpose.PAYMENT, Purpose.FINANCE_RECORDS],
                retention=Retention.PAYMENT_SUPPLY_RECORD_5Y,
                automatic=True,
                full=[Role.ACCOUNTING, Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
            )
            for name in ("transaction_date", "amount_yen", "tax_yen")
        ),
    ],
    not_personal=not_personal(
        "id",
        "order",
        "member",
        "sequence",
        "number",
        "issued_at",
        "channel",
        "tax_rate_percent",
        "registration_number",
        reason="the receipt's identity, the studio's registration number and the tax rate: kept with the "
        "order as a payment record",
    ),
)

# The one-time keys that make an order, or a cancellation, happen once however often it is sent
# (an API client's Idempotency-Key, the order and cancel forms' hidden token). A row says that
# this member made that request at that time and which order it produced: personal through the
# member. It holds keyed hashes only (of the key and of the request), never their text. Its
# purpose — recognising a repeat of the request — is met after 24 hours, when a repeat is no
# longer honoured, so it is kept "until the purpose is met" (idempotency_keys_prune deletes it)
# and not as part of the contract record: the order, which is that record, says all of it that
# matters. Shown to nobody.
catalog.register_record(
    "orders.IdempotencyKey",
    context=Context.SERVICE,
    subject="member",
    items=[Item.ORDER_INFORMATION, Item.TIME_OF_USE],
    purposes=[Purpose.SERVICE_CONTRACT],
    retention=Retention.UNTIL_PURPOSE_MET,
    automatic=True,
)

# --- Retention (kirakira/privacy/retention) ----------------------------------------------------
# An order and everything recorded about it go together, five years after its contract ends
# (completed or cancelled, and no refund left to pay); a withdrawn member's orders wait out the
# same five years in separate storage.


def _order_annotations():
    from .retention import contract_end_annotations

    return contract_end_annotations()


def _order_contract_ended():
    from .retention import contract_ended

    return contract_ended()


def _orders_delete(ids):
    from .retention import orders_delete

    return orders_delete(ids)


def _idempotency_window():
    from .idempotency import WINDOW

    return WINDOW


retention.register(
    "orders.Order",
    rule=Retention.CONTRACT_RECORD_5Y,
    event=_("the contract ends: the work is completed, or the order is cancelled and any refund paid"),
    start="contract_end",
    annotations=_order_annotations,
    where=_order_contract_ended,
    delete=_orders_delete,
    subject="member",
)
for _label, _rule in (
    ("orders.Order", Retention.PAYMENT_SUPPLY_RECORD_5Y),
    ("orders.Payment", Retention.PAYMENT_SUPPLY_RECORD_5Y),
    ("orders.Refund", Retention.PAYMENT_SUPPLY_RECORD_5Y),
    ("orders.Cancellation", Retention.CONTRACT_RECORD_5Y),
    ("orders.Receipt", Retention.PAYMENT_SUPPLY_RECORD_5Y),
):
    retention.register(
        _label,
        rule=_rule,
        event=_("the contract ends: the work is completed, or the order is cancelled and any refund paid"),
        with_parent="orders.Order:contract_record_5y",
    )
retention.register(
    "orders.IdempotencyKey",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the 24 hours in which a repeated order is recognised have passed"),
    start="created_at",
    after=_idempotency_window,
    subject="member",
)
