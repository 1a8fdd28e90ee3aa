"""The orders API: the services on sale, and a member's own orders (placing, listing, cancelling).

Input is checked here for what the schema states — JSON types, lengths, patterns, enums,
required fields — with the same limits as the services (``normalization``, the models), so that
the schema cannot promise more or less than the server does; a test compares them. What depends
on data (the service's platforms, the platform's account ID rule) or on normalising first
(full-width digits, surrounding spaces) is checked by ``services.order_place`` and
``lifecycle.order_cancel``, the same rules as the order pages, and stated in the descriptions.
"""

import copy
import uuid
from functools import partial

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator, validate_slug
from django.http import Http404
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput
from kirakira.api.fields import StrictCharField, StrictIntegerField
from kirakira.api.inputs import ApiInput, StrictInput
from kirakira.api.pagination import list_parameters, page_of, paginate
from kirakira.privacy.rights import freeze
from kirakira.privacy.rights.models import RightsRequest

from . import bank, idempotency, lifecycle, progress, receipts, selectors, services
from .models import (
    MAX_PHOTO_LINKS,
    NOTE_MAX,
    AccountType,
    OrderStatus,
    ReceiptChannel,
    Refund,
    RefundKind,
    RefundStatus,
    Service,
    SnsPlatform,
)
from .normalization import (
    ACCOUNT_ID_MAX,
    ACCOUNT_NUMBER_DIGITS,
    BANK_TEXT_MAX,
    HOLDER_MAX,
    PHONE_DIGITS_MAX,
    PHONE_DIGITS_MIN,
    PHONE_MAX,
    PHOTO_LINK_MAX,
)
from .representation import order_data

# The service layer names the platform ``platform``; the API calls it ``sns_platform``.
_API_FIELD = {"platform": "sns_platform"}
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

# --- What the input may look like -------------------------------------------------------------
# Patterns are written for Python with ``\A…\Z`` (``$`` would let a final newline through);
# drf-spectacular shows them as ECMA ``^…$``. Each matches a value in one way only, so a long
# value is checked in linear time (a test sends 100,000 spaces). They accept the forms the
# services fold to ASCII (NFKC): full-width digits, letters and symbols, and the dashes a
# Japanese keyboard makes. Gettext reuses the services' messages (``_formatted``), so a
# mistake reads the same whichever layer finds it.
_DIGIT = r"0-9\uff10-\uff19"
_PHONE_SEPARATORS = r" \u3000()\uff08\uff09\-\uff0d\u30fc\u2010\u2212\u2013\u2014\u2015"
PHONE_PATTERN = (
    rf"\A(?:[ \u3000]*[+\uff0b])?[{_PHONE_SEPARATORS}]*"
    rf"(?:[{_DIGIT}][{_PHONE_SEPARATORS}]*){{{PHONE_DIGITS_MIN},{PHONE_DIGITS_MAX}}}\Z"
)
# Spaces only, or an https:// address; "" is allowed by the field itself (the schema's second
# choice), so the pattern does not match it: one of the two, never both.
PHOTO_LINK_PATTERN = r"\A(?:\s+|\s*[Hh][Tt][Tt][Pp][Ss]://\S+\s*)\Z"
PLATFORM_CODE_PATTERN = validate_slug.regex.pattern  # SnsPlatform.code is a SlugField
PLATFORM_CODE_MAX = SnsPlatform._meta.get_field("code").max_length
NOT_BLANK_PATTERN = r"\S"  # at least one character that is not a space
_ACCOUNT_SEPARATORS = r" \u3000\-\uff0d"
ACCOUNT_NUMBER_PATTERN = (
    rf"\A[{_ACCOUNT_SEPARATORS}]*(?:[{_DIGIT}][{_ACCOUNT_SEPARATORS}]*)"
    rf"{{{ACCOUNT_NUMBER_DIGITS[0]},{ACCOUNT_NUMBER_DIGITS[1]}}}\Z"
)
ACCOUNT_NUMBER_INPUT_MAX = Refund._meta.get_field("account_number").max_length
_HOLDER_CHARACTERS = (
    r"\u30a1-\u30f4\u30fc\u3099\u309a\uff66-\uff9f"  # katakana, full and half width
    r"A-Za-z0-9\uff21-\uff3a\uff41-\uff5a\uff10-\uff19"  # Latin letters and digits, both widths
    r"().,\-/&\uff08\uff09\uff0e\uff0c\uff0d\uff0f\uff06"  # the symbols bank account names use
)
ACCOUNT_HOLDER_PATTERN = rf"\A[ \u3000]*[{_HOLDER_CHARACTERS}][{_HOLDER_CHARACTERS} \u3000]*\Z"
BANK_TEXT_PATTERN = r"\A\s*[^\s\x00-\x1f\x7f<>][^\x00-\x1f\x7f<>]*\Z"


def _formatted(msgid: str, **params):
    """A message of the services' catalogue, formatted in the request's language when shown."""
    return lazy(lambda: gettext(msgid) % params if params else gettext(msgid), str)()


class _Pattern(RegexValidator):
    """The value must match ``pattern``; the error is the services' message for the mistake.
    (Django's ``RegexValidator`` passes the value as a parameter, which a message with its own
    placeholders cannot take.)"""

    def __init__(self, pattern: str, message):
        super().__init__(pattern, message=message, code="invalid")

    def __call__(self, value):
        if not self.regex.search(str(value)):
            raise DjangoValidationError(self.message, code=self.code)


def _text(**kwargs) -> StrictCharField:
    """Input text checked as sent: surrounding spaces count toward the limits the schema states
    (the services strip them afterwards)."""
    return StrictCharField(trim_whitespace=False, **kwargs)


# --- Output ---------------------------------------------------------------------------------------


def _under_correction(record: str) -> serializers.SerializerMethodField:
    """The names of the record's fields under correction (policy C7), read by
    ``UnderCorrection.get_under_correction``."""

    @extend_schema_field(
        serializers.ListField(
            child=serializers.CharField(),
            help_text=f"The fields of this {record} you asked us to correct, while the correction is under "
            "way. You still see their values here; our staff see “under correction” instead, and they are "
            "left out of our emails until corrected. Empty when none is.",
        )
    )
    class UnderCorrectionField(serializers.SerializerMethodField):
        pass

    return UnderCorrectionField(method_name="get_under_correction")


class UnderCorrection(serializers.Serializer):
    def get_under_correction(self, record) -> list[str]:
        frozen = self.context.get("frozen")
        if frozen is None:
            return sorted(freeze.frozen_fields(record))
        return sorted(frozen.get((record._meta.label, str(record.pk)), ()))


def _frozen_of(member) -> dict[tuple[str, str], set[str]]:
    """{(record, key): fields} of the member's fields under correction, for the ``frozen`` context:
    one query, however many orders, refunds and cancellations a page shows. (A correction request
    is the record's owner's, so the member's own requests are all there is to find.)"""
    found: dict[tuple[str, str], set[str]] = {}
    rows = RightsRequest.objects.open_corrections().filter(member=member)
    for label, key, field in rows.values_list("target", "target_id", "target_field"):
        found.setdefault((label, key), set()).add(field)
    return found


class PlatformOutput(serializers.Serializer):
    code = serializers.CharField(help_text="What `sns_platform` takes when ordering.")
    name = serializers.CharField()
    account_id_rule = serializers.CharField(
        help_text="The rule an account ID follows, in the request's language."
    )


class ServiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="In the request's language (Accept-Language).")
    description = serializers.CharField(help_text="In the request's language (Accept-Language).")
    price_yen = serializers.IntegerField()
    photo_link_count = serializers.IntegerField(
        help_text=f"How many photo links an order may carry (at most; 0 to {MAX_PHOTO_LINKS})."
    )
    platforms = serializers.SerializerMethodField()

    @extend_schema_field(PlatformOutput(many=True))
    def get_platforms(self, service):
        # From the prefetched list: no query per service.
        active = [platform for platform in service.platforms.all() if platform.is_active]
        return PlatformOutput(active, many=True).data


class ServiceRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BankAccountOutput(serializers.Serializer):
    bank_name = serializers.CharField()
    branch = serializers.CharField()
    account_type = serializers.CharField()
    account_number = serializers.CharField()
    account_holder = serializers.CharField()


class PaymentOutput(serializers.Serializer):
    amount_yen = serializers.IntegerField(help_text="The order's price.")
    reference = serializers.CharField(help_text="Put this in the bank transfer's name field.")
    bank = BankAccountOutput()


class RefundOutput(UnderCorrection):
    kind = serializers.ChoiceField(
        choices=RefundKind.choices,
        help_text="`cancellation`: everything paid, after a cancellation; `overpayment`: what was "
        "paid beyond the price.",
    )
    amount_yen = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=RefundStatus.choices, help_text="`due` until the studio has transferred it, then `paid`."
    )
    status_display = serializers.CharField(source="get_status_display")
    paid_on = serializers.DateField(allow_null=True, help_text="The day it was transferred, once paid.")
    created_at = serializers.DateTimeField()
    under_correction = _under_correction("refund")


class CancellationOutput(UnderCorrection):
    cancelled_at = serializers.DateTimeField()
    status_before = serializers.ChoiceField(choices=OrderStatus.choices)
    refund_due_yen = serializers.IntegerField(
        help_text="Everything paid when the order was cancelled, refunded to the account given; 0 "
        "when nothing had been paid."
    )
    refund_status = serializers.SerializerMethodField()
    under_correction = _under_correction("cancellation")

    @extend_schema_field(
        serializers.ChoiceField(
            choices=RefundStatus.choices,
            allow_null=True,
            help_text="The state of that refund (`due`, then `paid`); null when nothing is refunded.",
        )
    )
    def get_refund_status(self, cancellation):
        # The order's refunds are prefetched with it, and the cancellation knows its order.
        refund = next(
            (r for r in cancellation.order.refund_list if r.kind == RefundKind.CANCELLATION), None
        )
        return refund.status if refund is not None else None


# The two fields below serialize a part of some orders only. Each holds one serializer, bound
# once with its parent, for every row: a SerializerMethodField that built a serializer per order
# copied its declared fields each time, which was most of what a list of orders cost.


@extend_schema_field(
    PaymentOutput(
        allow_null=True,
        help_text="How to pay: only while the order awaits payment (see `paid_yen` for what has arrived).",
    )
)
class _PaymentField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)
        self.output = PaymentOutput()

    def to_representation(self, order):
        if order.status != OrderStatus.AWAITING_PAYMENT:
            return None
        return self.output.to_representation(
            {
                "amount_yen": order.price_yen,
                "reference": order.reference,
                "bank": bank.studio_account(),
            }
        )


@extend_schema_field(CancellationOutput(allow_null=True, help_text="Only once the order is cancelled."))
class _CancellationField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)
        self.output = CancellationOutput()

    def bind(self, field_name, parent):
        super().bind(field_name, parent)
        self.output.bind(field_name, self)  # the context (the frozen fields) is the parent's

    def to_representation(self, order):
        try:
            cancellation = order.cancellation
        except ObjectDoesNotExist:
            return None
        return self.output.to_representation(cancellation)


class OrderOutput(UnderCorrection):
    """The shape of an order in the API (the schema); answers are built by
    ``representation.order_data``, which must give the same for an order read by
    ``selectors.orders_with_money_of``."""

    id = serializers.UUIDField()
    reference = serializers.CharField()
    service = ServiceRefOutput()
    price_yen = serializers.IntegerField()
    sns_platform = serializers.CharField(source="platform.code")
    sns_account_id = serializers.CharField()
    photo_links = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField(allow_blank=True)
    phone = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    created_at = serializers.DateTimeField()
    payment_due_at = serializers.DateTimeField(
        allow_null=True,
        help_text="The transfer is due by this time; an order still unpaid after it is cancelled "
        "automatically. Null for orders placed before deadlines existed.",
    )
    paid_yen = serializers.IntegerField(
        help_text="What the studio has received for this order (transfers less corrections), in yen."
    )
    estimated_completion_on = serializers.SerializerMethodField()
    estimated_business_days = serializers.SerializerMethodField()
    delivery_note = serializers.SerializerMethodField()
    payment = _PaymentField()
    cancellation = _CancellationField()
    refunds = RefundOutput(
        source="refund_list", many=True, help_text="Money the studio owes or has returned, oldest first."
    )
    under_correction = _under_correction("order")

    def _estimate(self, order) -> progress.Estimate:
        return progress.estimate(
            order, paid_at=order.paid_at, started_at=order.started_at, completed_at=order.completed_at
        )

    @extend_schema_field(
        serializers.DateField(
            allow_null=True,
            help_text="The day the work should be completed, about: once paid, the day it became paid "
            "plus the business days (Mon–Fri; public holidays not skipped) within which work starts and "
            "the service's work days; once started, the day it started plus the work days. Null before "
            "payment (see `estimated_business_days`), once completed and when cancelled.",
        )
    )
    def get_estimated_completion_on(self, order):
        day = self._estimate(order).on
        return serializers.DateField().to_representation(day) if day is not None else None

    @extend_schema_field(
        serializers.IntegerField(
            allow_null=True,
            help_text="While the order awaits payment: about how many business days (Mon–Fri) after the "
            "transfer arrives the work should be completed. Null otherwise.",
        )
    )
    def get_estimated_business_days(self, order):
        return self._estimate(order).business_days

    @extend_schema_field(
        serializers.CharField(
            allow_blank=True,
            help_text="What the studio delivered (a note, or links to the results), written when the "
            "work is completed; empty until then.",
        )
    )
    def get_delivery_note(self, order) -> str:
        return order.delivery_note or ""


def _order_response(request, order_id, status_code=status.HTTP_200_OK, **headers) -> Response:
    # Read again with what was paid and refunded, after the write's commit.
    order = selectors.order_with_money_of(request.user, order_id)
    return Response(order_data(order, _frozen_of(request.user)), status=status_code, headers=headers)


def _dotted(errors) -> dict:
    """A nested serializer's errors under dotted names (``refund_account.bank_name``), as the
    services' errors are named; a list's errors stay under the list's name."""
    flat = {}
    for field, value in errors.items():
        if isinstance(value, dict) and value and all(isinstance(key, str) for key in value):
            for inner, messages in _dotted(value).items():
                flat[field if inner == "non_field_errors" else f"{field}.{inner}"] = messages
        else:
            flat[field] = value
    return flat


def _validated(serializer) -> dict:
    if not serializer.is_valid():
        raise exceptions.ValidationError(_dotted(serializer.errors))
    return serializer.validated_data


def _order_id(raw) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise Http404 from None


_ORDER_ID = OpenApiParameter(
    "order_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The order's `id`."
)
_UNAUTHENTICATED = OpenApiResponse(ErrorOutput, description="No valid token.")
_NOT_FOUND = OpenApiResponse(
    ErrorOutput, description="No such order of the caller's (anyone else's is answered the same)."
)


# --- Endpoints ------------------------------------------------------------------------------------


class ServicesApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The services on sale",
        description="The services on sale, in display order, in the request's language "
        "(Accept-Language: ja, en or ko). Each names the SNS platforms an order for it may be for, "
        "with the rule their account IDs follow, and how many photo links it takes. Open to anyone: "
        "no token is needed, and one sent is ignored.",
        responses={200: ServiceOutput(many=True)},
        auth=[],
    )
    def get(self, request):
        return Response(ServiceOutput(selectors.services_on_sale(), many=True).data)


class OrderInput(ApiInput):
    # Any service, so that one off sale is told so by order_place rather than "does not exist".
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(),
        pk_field=StrictIntegerField(),
        help_text="The `id` of a service on sale (GET /api/v1/services).",
    )
    sns_platform = _text(
        max_length=PLATFORM_CODE_MAX,
        validators=[
            _Pattern(
                PLATFORM_CODE_PATTERN, _formatted("Choose one of the SNS platforms this service is for.")
            )
        ],
        help_text="The `code` of one of the service's `platforms` (GET /api/v1/services). Platforms "
        "are data, added by the studio without a new API version, so this is a pattern and not an "
        "enum: read the codes from the service.",
    )
    sns_account_id = _text(
        max_length=ACCOUNT_ID_MAX,
        validators=[_Pattern(NOT_BLANK_PATTERN, _formatted("Enter the account ID."))],
        help_text="The account's ID, following the platform's `account_id_rule`; a leading @ and "
        f"surrounding spaces are dropped, full-width characters folded. At most {ACCOUNT_ID_MAX} "
        "characters.",
    )
    photo_links = serializers.ListField(
        child=_text(
            allow_blank=True,
            max_length=PHOTO_LINK_MAX,
            validators=[
                _Pattern(PHOTO_LINK_PATTERN, _formatted("Give the photo links as a list of web addresses."))
            ],
        ),
        max_length=MAX_PHOTO_LINKS,
        help_text="Absolute https:// addresses of at most "
        f"{PHOTO_LINK_MAX} characters, at most the service's `photo_link_count` of them (never more "
        f"than {MAX_PHOTO_LINKS}); blank entries are ignored. The server never fetches them. `[]` "
        "for a service that takes none.",
    )
    note = _text(
        required=False,
        allow_blank=True,
        max_length=NOTE_MAX,
        help_text=f"Anything the studio should know, at most {NOTE_MAX} characters; several lines "
        "allowed, control and invisible formatting characters are not.",
    )
    phone = _text(
        max_length=PHONE_MAX,
        validators=[
            _Pattern(
                PHONE_PATTERN,
                _formatted(
                    "Enter a phone number of %(min)d to %(max)d digits (digits, spaces, hyphens, brackets and a leading + only).",
                    min=PHONE_DIGITS_MIN,
                    max=PHONE_DIGITS_MAX,
                ),
            )
        ],
        help_text=f"{PHONE_DIGITS_MIN} to {PHONE_DIGITS_MAX} digits, with spaces, hyphens and brackets "
        f"between them and a leading + if you like; at most {PHONE_MAX} characters. Full-width "
        "digits and Japanese dashes are accepted and stored folded.",
    )


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.KEY_MAX,
        "pattern": idempotency.KEY_PATTERN.replace(r"\A", "^").replace(r"\Z", "$"),
    },
    OpenApiParameter.HEADER,
    description=f"1 to {idempotency.KEY_MAX} visible ASCII characters (no spaces), new for each "
    "order: a UUID is a good choice. Send it again, with the same body, to retry a request whose "
    "answer you did not get: within 24 hours the order is placed once and every retry answers it. "
    "The key is the caller's own: other members' keys never clash with it.",
)


class OrdersApi(APIView):
    OrderInput = OrderInput

    @extend_schema(
        summary="The caller's orders",
        description="The caller's orders, newest first (`ordering=created_at` for oldest first), "
        "in pages of `page_size` (default 20, at most 100): follow `next` for the next page. "
        "`status` narrows the list to one status. A bad `page_size`, `cursor`, `ordering` or "
        "`status` is a 400 naming the parameter.",
        parameters=list_parameters(statuses=OrderStatus),
        responses={
            200: page_of(OrderOutput),
            400: OpenApiResponse(ErrorOutput, description="A bad page size, cursor, ordering or status."),
            401: _UNAUTHENTICATED,
        },
    )
    def get(self, request):
        return paginate(
            request,
            self,
            selectors.orders_with_money_of(request.user),
            OrderOutput,
            statuses=OrderStatus,
            represent=partial(order_data, frozen=_frozen_of(request.user)),
        )

    @extend_schema(
        summary="Place an order",
        description="Place an order of a service on sale for one SNS account. The price is the "
        "service's, in whole yen; the answer carries the bank details and the payment reference, "
        "and the confirmation email follows. With an `Idempotency-Key`, a retry within 24 hours "
        "with the same body answers the order already placed — 201 again, its current state, and "
        f"`{REPLAYED_HEADER}: true` — and never places a second; concurrent requests with one key "
        "place one order. The same key with a different body is a 422. A request that fails "
        "stores nothing, its key included: correct it and send it again with the same key.",
        request=OrderInput,
        parameters=[
            IDEMPOTENCY_PARAMETER,
            OpenApiParameter(
                REPLAYED_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                enum=["true"],
                response=[201],
                description="Present when this answers an earlier request with the same key.",
            ),
            OpenApiParameter(
                "Location",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[201],
                description="The order's path (`/api/v1/orders/{id}`).",
            ),
        ],
        responses={
            201: OrderOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description="Invalid input (the errors name the fields), or an invalid "
                "`Idempotency-Key`; nothing is stored.",
            ),
            401: _UNAUTHENTICATED,
            403: OpenApiResponse(
                ErrorOutput,
                description="The member has not confirmed their email address yet, or has not agreed "
                "to the terms of service in force (`GET /api/v1/terms/agreement`; checked once the input is well-formed).",
            ),
            422: OpenApiResponse(
                ErrorOutput,
                description="This `Idempotency-Key` was used within 24 hours for a request with "
                "another body; nothing is stored.",
            ),
        },
    )
    def post(self, request):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not idempotency.is_valid_key(key):
            raise exceptions.ValidationError(
                {
                    IDEMPOTENCY_HEADER: [
                        gettext("Give 1 to %(max)d visible ASCII characters, without spaces.")
                        % {"max": idempotency.KEY_MAX}
                    ]
                }
            )
        values = _validated(self.OrderInput(data=request.data))
        fields = {
            "service": values["service"],
            "platform": values["sns_platform"],
            "sns_account_id": values["sns_account_id"],
            "photo_links": values["photo_links"],
            "note": values.get("note", ""),
            "phone": values["phone"],
        }
        try:
            if key is None:
                order, replayed = services.order_place(member=request.user, **fields), False
            else:
                order, replayed = idempotency.order_place_once(
                    member=request.user,
                    scope=idempotency.Scope.ORDER_API,
                    key=key,
                    request=idempotency.request_digest(request.data),
                    **fields,
                )
        except DjangoValidationError as exc:
            code = getattr(exc, "code", None)
            if code in ("unconfirmed", "terms_not_accepted"):
                raise exceptions.PermissionDenied(exc.messages[0]) from None
            if code == "key_reused":
                raise KeyReused({IDEMPOTENCY_HEADER: exc.messages}) from None
            if hasattr(exc, "error_dict"):
                raise DjangoValidationError(
                    {_API_FIELD.get(field, field): messages for field, messages in exc.message_dict.items()}
                ) from None
            raise
        headers = {"Location": reverse("api_v1:order-detail", kwargs={"order_id": str(order.pk)})}
        if replayed:
            headers[REPLAYED_HEADER] = "true"
        return _order_response(request, order.pk, status.HTTP_201_CREATED, **headers)


class KeyReused(exceptions.ValidationError):
    """422: the request is well-formed, but its key stands for another request."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


class OrderChangeInput(StrictInput):
    # The one field a member changes on their order, with the rules of ordering. Read as PATCH
    # is (partial, as the schema states it): a field left out is left as it is.
    phone = copy.deepcopy(OrderInput._declared_fields["phone"])


class OrderDetailApi(APIView):
    @extend_schema(
        summary="One of the caller's orders",
        description="One of the caller's orders: its state, what was paid (`paid_yen`), how to "
        "pay while it awaits payment, and its cancellation and refunds. Anyone else's order is a "
        "404, like one that does not exist.",
        parameters=[_ORDER_ID],
        responses={200: OrderOutput, 401: _UNAUTHENTICATED, 404: _NOT_FOUND},
    )
    def get(self, request, order_id):
        return _order_response(request, _order_id(order_id))

    @extend_schema(
        summary="Change the phone number of one of the caller's orders",
        description="Change the phone number of one of the caller's orders while it is open "
        "(awaiting payment, paid or in progress), with the same rules as when ordering. `phone` "
        "is the only field that can be changed; any other is refused (400), and a body without "
        "it changes nothing. The order page's history records the change; the same number again "
        "changes nothing. A completed or cancelled order is refused (400).",
        parameters=[_ORDER_ID],
        request=OrderChangeInput,
        responses={
            200: OrderOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description="An invalid phone number, a field that cannot be changed, or an order "
                "that is no longer open; nothing is changed.",
            ),
            401: _UNAUTHENTICATED,
            404: _NOT_FOUND,
        },
    )
    def patch(self, request, order_id):
        order = selectors.order_of(request.user, _order_id(order_id))
        values = _validated(OrderChangeInput(data=request.data, partial=True))
        try:
            if "phone" in values:
                services.order_phone_change(order_id=order.pk, member=request.user, phone=values["phone"])
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "not_found":
                raise Http404 from None
            raise
        return _order_response(request, order.pk)


class RefundAccountInput(ApiInput):
    # Required and checked by form here; lifecycle.order_cancel checks them again after
    # folding (NFKC, surrounding spaces), with the order pages' rules.
    bank_name = _text(
        max_length=BANK_TEXT_MAX,
        validators=[
            _Pattern(
                BANK_TEXT_PATTERN, _formatted("Use at most %(max)d ordinary characters.", max=BANK_TEXT_MAX)
            )
        ],
        help_text=f"At most {BANK_TEXT_MAX} characters, without control characters or < >.",
    )
    branch = _text(
        max_length=BANK_TEXT_MAX,
        validators=[
            _Pattern(
                BANK_TEXT_PATTERN, _formatted("Use at most %(max)d ordinary characters.", max=BANK_TEXT_MAX)
            )
        ],
        help_text=f"At most {BANK_TEXT_MAX} characters, without control characters or < >.",
    )
    account_type = serializers.ChoiceField(
        choices=AccountType.choices,
        error_messages={"invalid_choice": _("Choose ordinary, current or savings.")},
    )
    account_number = _text(
        max_length=ACCOUNT_NUMBER_INPUT_MAX,
        validators=[
            _Pattern(
                ACCOUNT_NUMBER_PATTERN,
                _formatted(
                    "An account number is %(min)d to %(max)d digits.",
                    min=ACCOUNT_NUMBER_DIGITS[0],
                    max=ACCOUNT_NUMBER_DIGITS[1],
                ),
            )
        ],
        help_text=f"{ACCOUNT_NUMBER_DIGITS[0]} to {ACCOUNT_NUMBER_DIGITS[1]} digits; hyphens and "
        "spaces between them are dropped.",
    )
    account_holder = _text(
        max_length=HOLDER_MAX,
        validators=[
            _Pattern(
                ACCOUNT_HOLDER_PATTERN,
                _formatted(
                    "Write the account holder in katakana or Latin letters, as the bank has it (at most %(max)d characters).",
                    max=HOLDER_MAX,
                ),
            )
        ],
        help_text="Katakana or Latin letters (full or half width), digits, spaces and ( ) . , - / &, "
        f"as the bank has it; at most {HOLDER_MAX} characters.",
    )


class CancelInput(ApiInput):
    reason = _text(
        max_length=NOTE_MAX,
        validators=[_Pattern(NOT_BLANK_PATTERN, _formatted("Tell us why you are cancelling."))],
        help_text=f"Why the order is cancelled, at most {NOTE_MAX} characters; several lines "
        "allowed, control and invisible formatting characters are not.",
    )
    refund_account = RefundAccountInput(
        required=False,
        allow_null=True,
        help_text="The bank account to refund to. Required when anything has been paid (the "
        "order's `paid_yen` is above 0, less any refund of an overpayment): all of it is refunded "
        "there, and without it the cancellation is refused (400). Ignored when nothing has been "
        "paid. When given, all five fields are required.",
    )


class OrderCancelApi(APIView):
    CancelInput = CancelInput

    @extend_schema(
        summary="Cancel one of the caller's orders",
        description="Cancel one of the caller's orders while it awaits payment, is paid or in "
        "progress. If anything has been paid, a refund of all of it becomes due to the bank account "
        "given: the answer's `cancellation.refund_due_yen` says how much and `refund_status` its "
        "state (`due` until the studio has transferred it, then `paid`; also in `refunds`). "
        "Emails follow. A completed or already cancelled order is refused (400).",
        parameters=[_ORDER_ID],
        request=CancelInput,
        responses={
            200: OrderOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description="Invalid input, a refund account missing although money was paid, or "
                "an order that can no longer be cancelled; nothing is changed.",
            ),
            401: _UNAUTHENTICATED,
            404: _NOT_FOUND,
        },
    )
    def post(self, request, order_id):
        order = selectors.order_of(request.user, _order_id(order_id))
        values = _validated(self.CancelInput(data=request.data))
        account = values.get("refund_account")
        try:
            lifecycle.order_cancel(
                order_id=order.pk,
                member=request.user,
                reason=values["reason"],
                refund_account=dict(account) if account is not None else None,
            )
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "not_found":
                raise Http404 from None
            if hasattr(exc, "error_dict"):
                raise DjangoValidationError(
                    {
                        (f"refund_account.{field}" if field in _REFUND_FIELDS else field): messages
                        for field, messages in exc.message_dict.items()
                    }
                ) from None
            raise
        return _order_response(request, order.pk)


_REFUND_FIELDS = set(RefundAccountInput().fields)


class RefundAccountChangeInput(StrictInput, RefundAccountInput):
    """The five fields of a refund account, as when cancelling, and nothing else."""


class OrderRefundAccountApi(APIView):
    @extend_schema(
        summary="Change the bank account of an order's refunds still to be paid",
        description="Change the bank account that the caller's refunds of this order still to be "
        "paid (`refunds` with status `due`) go to: all of them, with the same rules as when the "
        "account was given. The order page's history records the change. Once the studio has "
        "paid them (or when the order has none due) the change is refused (400).",
        parameters=[_ORDER_ID],
        request=RefundAccountChangeInput,
        responses={
            200: OrderOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description="An invalid account, or no refund of this order still to be paid; "
                "nothing is changed.",
            ),
            401: _UNAUTHENTICATED,
            404: _NOT_FOUND,
        },
    )
    def put(self, request, order_id):
        order = selectors.order_of(request.user, _order_id(order_id))
        values = _validated(RefundAccountChangeInput(data=request.data))
        try:
            services.refund_account_change(
                order_id=order.pk, member=request.user, refund_account=dict(values)
            )
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "not_found":
                raise Http404 from None
            raise
        return _order_response(request, order.pk)


class ReceiptNotAvailable(exceptions.APIException):
    """409: the order exists and is the caller's, but is not paid in full, or is cancelled."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "not_eligible"


class _PdfOrJson(DefaultContentNegotiation):
    """The receipt is sent as PDF whatever the client says it accepts; errors are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class OrderReceiptApi(APIView):
    content_negotiation_class = _PdfOrJson

    @extend_schema(
        summary="The receipt of one of the caller's orders, as PDF",
        description="The receipt (領収書) of one of the caller's orders once it is paid in full (status "
        "`paid`, `in_progress` or `completed`), as a PDF attachment named `receipt-<reference>.pdf`, "
        "in the request's language (Accept-Language: ja, en or ko). The amount is the order's price, "
        "tax included, with the consumption tax in it; when the studio is registered for qualified "
        "invoices it is one (適格請求書), with the registration number and the tax per rate. Every "
        "call is recorded: the first is the original, each later one a reissue marked as such (and "
        "named `receipt-<reference>-<n>.pdf`). Never cached. An order awaiting payment or cancelled "
        "is a 409; anyone else's order a 404.",
        parameters=[_ORDER_ID],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The receipt, as an attachment."
            ),
            401: _UNAUTHENTICATED,
            404: _NOT_FOUND,
            409: OpenApiResponse(
                ErrorOutput,
                description="No receipt for this order: it is not paid in full yet, or it was "
                "cancelled (the message says which).",
            ),
        },
    )
    def get(self, request, order_id):
        order = selectors.order_of(request.user, _order_id(order_id))
        try:
            receipt = receipts.receipt_issue(order_id=order.pk, member=request.user, channel=ReceiptChannel.API)
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "not_found":
                raise Http404 from None
            if getattr(exc, "code", None) == "not_eligible":
                raise ReceiptNotAvailable(exc.messages[0]) from None
            raise
        return receipts.pdf_response(receipt)
