import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kirakira.common import clock
from kirakira.privacy.crypto.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedJSONField,
    EncryptedManager,
    EncryptedTextField,
)

from .normalization import digits_only, normalize_phone

MAX_PHOTO_LINKS = 10
NOTE_MAX = 2000
DELIVERY_NOTE_MAX = 2000
WORK_DAYS_MAX = 60


def _validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(
            _("This is not a valid regular expression: %(error)s"), params={"error": exc}
        ) from None


class SnsPlatform(models.Model):
    """A social network the studio works on; its account IDs follow its own rules."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=50)
    account_id_pattern = models.CharField(
        _("account ID pattern"),
        max_length=200,
        validators=[_validate_regex],
        help_text=_("A regular expression that a whole account ID (without a leading @) must match."),
    )
    account_id_rule_ja = models.CharField(_("rule shown to members (Japanese)"), max_length=200)
    account_id_rule_en = models.CharField(_("rule shown to members (English)"), max_length=200)
    account_id_rule_ko = models.CharField(_("rule shown to members (Korean)"), max_length=200)
    sort_order = models.PositiveSmallIntegerField(_("display order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SNS platform")
        verbose_name_plural = _("SNS platforms")
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    def account_id_rule(self) -> str:
        return _localized(self, "account_id_rule")

    def is_valid_account_id(self, account_id: str) -> bool:
        return re.fullmatch(self.account_id_pattern, account_id) is not None


class ServiceQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Service(models.Model):
    """Something the studio sells, priced in whole yen."""

    name_ja = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_ko = models.CharField(_("name (Korean)"), max_length=100)
    description_ja = models.TextField(_("description (Japanese)"))
    description_en = models.TextField(_("description (English)"))
    description_ko = models.TextField(_("description (Korean)"))
    price_yen = models.PositiveIntegerField(_("price (yen)"), validators=[MinValueValidator(1)])
    platforms = models.ManyToManyField(SnsPlatform, related_name="services", verbose_name=_("SNS platforms"))
    photo_link_count = models.PositiveSmallIntegerField(
        _("photo links taken"), default=0, validators=[MaxValueValidator(MAX_PHOTO_LINKS)]
    )
    # Business days (Mon–Fri) the work takes once started: the order page's estimate
    # (kirakira/orders/progress.py).
    work_days = models.PositiveSmallIntegerField(
        _("work days"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(WORK_DAYS_MAX)],
        help_text=_("Business days (Mon–Fri) the work takes once started."),
    )
    sort_order = models.PositiveSmallIntegerField(_("display order"), default=0)
    is_active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_yen__gte=1), name="orders_service_price_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(photo_link_count__lte=MAX_PHOTO_LINKS),
                name="orders_service_photo_links_max",
            ),
        ]

    def __str__(self):
        # In the reader's language: the back office's lists and filters name services by this.
        return self.name

    @property
    def name(self) -> str:
        return _localized(self, "name")

    @property
    def description(self) -> str:
        return _localized(self, "description")


def _localized(obj, field: str) -> str:
    language = (get_language() or "ja")[:2]
    value = getattr(obj, f"{field}_{language}", "") if language in ("ja", "en", "ko") else ""
    return value or getattr(obj, f"{field}_ja")


class OrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Order(models.Model):
    """A member's order of a service for one SNS account (policy C2: order information).

    The SNS account ID, the photo links, the note and the phone number are encrypted under the
    member's own key. The price is copied from the service when ordering, in whole yen, so a
    later price change never alters an order.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("payment reference"), max_length=12, unique=True, editable=False)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("member")
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="orders", verbose_name=_("service")
    )
    price_yen = models.PositiveIntegerField(_("price (yen)"))
    platform = models.ForeignKey(
        SnsPlatform, on_delete=models.PROTECT, related_name="orders", verbose_name=_("SNS platform")
    )
    sns_account_id = EncryptedCharField(_("SNS account ID"), max_length=100)
    photo_links = EncryptedJSONField(_("photo links"), default=list, blank=True)
    note = EncryptedTextField(_("note"), blank=True, default="", max_length=NOTE_MAX)
    phone = EncryptedCharField(_("phone number"), max_length=30)
    phone_index = BlindIndexField(source="phone", normalizer=normalize_phone, db_index=True)
    # What the staff delivered, written when they complete the work (lifecycle.order_advance).
    # NULL until then: added to existing orders, whose rows a schema migration cannot fill with a
    # ciphertext sealed under each member's key.
    delivery_note = EncryptedTextField(  # noqa: DJ001
        _("what was delivered"), null=True, blank=True, default=None, max_length=DELIVERY_NOTE_MAX
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.AWAITING_PAYMENT,
        db_index=True,
    )
    created_at = models.DateTimeField(_("ordered at"), default=clock.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=clock.now, editable=False)
    # The transfer is due by this time (deadlines.payment_due_for); the reminder's sending time.
    payment_due_at = models.DateTimeField(_("payment due by"), null=True, blank=True, editable=False)
    payment_reminded_at = models.DateTimeField(_("payment reminder sent"), null=True, blank=True, editable=False)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["member", "-created_at"], name="orders_member_created_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_yen__gte=1), name="orders_order_price_positive")
        ]
        permissions = [
            ("record_payment", _("Can record received payments")),
            ("work_on_order", _("Can start and complete the work of an order")),
        ]

    def __str__(self):
        return self.reference


class Payment(models.Model):
    """A bank transfer received for an order, as recorded by accounting (policy C2: billing and
    payment records). Append-only: a mistake is corrected by a reversing record, never by
    editing or deleting, so the ledger always shows what happened."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="payments", verbose_name=_("order")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("member"),
    )
    amount_yen = models.IntegerField(_("amount (yen)"), help_text=_("Negative only in a reversing record."))
    received_on = models.DateField(_("received on"))
    payer_name = EncryptedCharField(_("payer name on the statement"), max_length=100)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=clock.now, editable=False)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(reverses__isnull=True, amount_yen__gt=0)
                    | models.Q(reverses__isnull=False, amount_yen__lt=0)
                ),
                name="orders_payment_sign_matches_kind",
            )
        ]

    def __str__(self):
        # As the back office names it (its messages, titles, history): KX2B… +¥12,345 / +12,345円.
        from kirakira.common.templatetags.kirakira import yen

        return f"{self.order} {'-' if self.amount_yen < 0 else '+'}{yen(abs(self.amount_yen))}"


class OrderEvent(models.Model):
    """A step in an order's life, shown to the member on the order page (and emailed)."""

    class Kind(models.TextChoices):
        PLACED = "placed", _("Order placed")
        PAYMENT_RECORDED = "payment_recorded", _("Payment received")
        PAYMENT_REVERSED = "payment_reversed", _("Payment record corrected")
        PAID = "paid", _("Paid in full")
        OVERPAID = "overpaid", _("Paid more than the price: the difference will be refunded")
        STARTED = "started", _("Work started")
        COMPLETED = "completed", _("Work completed")
        CANCELLED = "cancelled", _("Order cancelled")
        REFUND_REQUESTED = "refund_requested", _("Refund account received")
        REFUND_PAID = "refund_paid", _("Refund paid")
        # Changes the member made themselves (services.order_phone_change, refund_account_change).
        PHONE_CHANGED = "phone_changed", _("Phone number changed")
        REFUND_ACCOUNT_CHANGED = "refund_account_changed", _("Refund account changed")
        # The payment deadline (deadlines.py).
        PAYMENT_DUE_SOON = "payment_due_soon", _("Reminder: the transfer is due soon")
        CANCELLED_UNPAID = "cancelled_unpaid", _("Cancelled: no transfer arrived by the deadline")
        PAID_AFTER_CANCELLATION = (
            "paid_after_cancellation",
            _("Transfer received after the cancellation: it will be refunded"),
        )

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    status = models.CharField(_("status after"), max_length=20, choices=OrderStatus.choices)
    occurred_at = models.DateTimeField(_("time"), default=clock.now, editable=False)
    # The money the step moved (a payment, its reversal, a refund due or paid), shown beside it;
    # empty for steps that move none, and for steps recorded before amounts were kept.
    amount_yen = models.PositiveIntegerField(_("amount (yen)"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["occurred_at", "id"]

    def __str__(self):
        return f"{self.order} {self.kind}"


class AccountType(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary (普通)")
    CURRENT = "current", _("Current (当座)")
    SAVINGS = "savings", _("Savings (貯蓄)")


class Cancellation(models.Model):
    """A member's cancellation of an order (policy: records of contracts or withdrawal of offers)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="cancellation", verbose_name=_("order")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    reason = EncryptedTextField(_("reason"), max_length=NOTE_MAX)
    status_before = models.CharField(_("status before"), max_length=20, choices=OrderStatus.choices)
    refund_due_yen = models.PositiveIntegerField(_("refund due (yen)"), default=0)
    cancelled_at = models.DateTimeField(_("cancelled at"), default=clock.now, editable=False)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("cancellation")
        verbose_name_plural = _("cancellations")

    def __str__(self):
        return f"{self.order} ({self.cancelled_at:%Y-%m-%d})"


class RefundKind(models.TextChoices):
    CANCELLATION = "cancellation", _("Cancelled order")
    OVERPAYMENT = "overpayment", _("Paid more than the price")


class RefundStatus(models.TextChoices):
    DUE = "due", _("To be paid")
    PAID = "paid", pgettext_lazy("refund status", "Paid")


class Refund(models.Model):
    """Money to return to a member, and the bank account to return it to (all encrypted)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("order")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    kind = models.CharField(
        _("reason for the refund"), max_length=20, choices=RefundKind.choices, default=RefundKind.CANCELLATION
    )
    amount_yen = models.PositiveIntegerField(_("amount (yen)"))
    bank_name = EncryptedCharField(_("bank name"), max_length=50)
    branch = EncryptedCharField(_("branch"), max_length=50)
    account_type = EncryptedCharField(_("account type"), max_length=20)
    account_number = EncryptedCharField(_("account number"), max_length=20)
    account_number_index = BlindIndexField(source="account_number", normalizer=digits_only, db_index=True)
    account_holder = EncryptedCharField(_("account holder"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.DUE
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    paid_amount_yen = models.PositiveIntegerField(_("amount paid (yen)"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paid by"),
    )
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_yen__gte=1), name="orders_refund_positive")
        ]

    def __str__(self):
        from kirakira.common.templatetags.kirakira import yen

        return f"{self.order} {yen(self.amount_yen)}"


class ReceiptChannel(models.TextChoices):
    WEB = "web", _("Order page")
    API = "api", _("API")


class Receipt(models.Model):
    """One issue of an order's receipt (領収書, kirakira/orders/receipts.py): sequence 1 is the
    original, every later one a reissue printed as such with the original's number and date.

    What was printed is kept — the amount, the tax, the registration number and the addressee as
    issued — so that the studio holds a copy of every qualified invoice it issued and a reissue
    repeats what the original said. The PDF itself is drawn again each time and never stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("order")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    sequence = models.PositiveSmallIntegerField(_("issue number"), help_text=_("1 for the original."))
    number = models.CharField(_("receipt number"), max_length=20)
    issued_at = models.DateTimeField(_("issued at"), default=clock.now, editable=False)
    channel = models.CharField(_("issued through"), max_length=10, choices=ReceiptChannel.choices)
    transaction_date = models.DateField(_("date of the transaction"))
    amount_yen = models.PositiveIntegerField(_("amount (yen, tax included)"))
    tax_rate_percent = models.PositiveSmallIntegerField(_("consumption tax rate (%)"))
    tax_yen = models.PositiveIntegerField(_("consumption tax (yen)"))
    registration_number = models.CharField(_("registration number"), max_length=14, blank=True)
    addressee = EncryptedCharField(_("addressee"), max_length=100)

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["order", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sequence"], name="orders_receipt_sequence_unique"),
            models.CheckConstraint(condition=models.Q(sequence__gte=1), name="orders_receipt_sequence_positive"),
        ]

    def __str__(self):
        return f"{self.number} #{self.sequence}"

    @property
    def is_reissue(self) -> bool:
        return self.sequence > 1


class IdempotencyKey(models.Model):
    """One write a member asked for, recognised when it is asked for again: an API client's
    ``Idempotency-Key`` when it places an order, or the one-time token of an order or cancel
    form. The first request writes this row in the same transaction as the order or the
    cancellation, and the unique constraint makes a concurrent repeat wait for it and then
    answer its result (kirakira/orders/idempotency.py).

    Neither the key nor the request is kept: only keyed hashes, which can tell whether a repeat
    is the same request and nothing else. Rows older than a day are no longer honoured and are
    deleted by ``idempotency_keys_prune``."""

    class Scope(models.TextChoices):
        ORDER_API = "order_api", _("Order placed through the API")
        ORDER_FORM = "order_form", _("Order form")
        CANCEL_FORM = "cancel_form", _("Cancel form")

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("member")
    )
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices)
    key_digest = models.CharField(_("key digest"), max_length=64)
    request_digest = models.CharField(_("request digest"), max_length=64)
    # Null only inside the transaction that claims the key, before the order exists.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, related_name="+", verbose_name=_("order")
    )
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "scope", "key_digest"], name="orders_idempotency_key_unique"
            )
        ]

    def __str__(self):
        return str(self.pk)  # not the digests, which mean nothing to a reader
