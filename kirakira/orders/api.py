"""The orders API: the services on sale, and a member's own orders (and cancelling one).

Input is checked for JSON types here (text must be a string, ``photo_links`` a list of strings,
``service`` an integer); what the values mean is checked by ``services.order_place``, the same
rules as the order pages.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput
from kirakira.api.fields import StrictCharField, StrictIntegerField

from . import lifecycle, selectors, services
from .models import MAX_PHOTO_LINKS, NOTE_MAX, Order, OrderStatus, Service

# The service layer names the platform ``platform``; the API calls it ``sns_platform``.
_API_FIELD = {"platform": "sns_platform"}
# A sanity bound on the raw list (blank entries are dropped before the service's own limit).
_PHOTO_LINKS_RAW_MAX = MAX_PHOTO_LINKS * 10


class PlatformOutput(serializers.Serializer):
    code = serializers.CharField()
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
        help_text="How many photo links an order may carry (at most)."
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
    amount_yen = serializers.IntegerField()
    reference = serializers.CharField(help_text="Put this in the bank transfer's name field.")
    bank = BankAccountOutput()


class OrderOutput(serializers.Serializer):
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
    payment = serializers.SerializerMethodField()

    @extend_schema_field(PaymentOutput(allow_null=True, help_text="Only while the order awaits payment."))
    def get_payment(self, order):
        if order.status != OrderStatus.AWAITING_PAYMENT:
            return None
        return PaymentOutput(
            {
                "amount_yen": order.price_yen,
                "reference": order.reference,
                "bank": settings.STUDIO_BANK_ACCOUNT,
            }
        ).data


class ServicesApi(APIView):
    """The services on sale, open to anyone."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: ServiceOutput(many=True)}, auth=[])
    def get(self, request):
        return Response(ServiceOutput(selectors.services_on_sale(), many=True).data)


class OrdersApi(APIView):
    class OrderInput(serializers.Serializer):
        # Any service, so that one off sale is told so by order_place rather than "does not exist".
        service = serializers.PrimaryKeyRelatedField(
            queryset=Service.objects.all(), pk_field=StrictIntegerField()
        )
        sns_platform = StrictCharField()
        sns_account_id = StrictCharField(max_length=Order._meta.get_field("sns_account_id").max_length)
        photo_links = serializers.ListField(
            child=StrictCharField(allow_blank=True, trim_whitespace=False), max_length=_PHOTO_LINKS_RAW_MAX
        )
        note = StrictCharField(required=False, allow_blank=True, trim_whitespace=False)
        phone = StrictCharField(max_length=Order._meta.get_field("phone").max_length)

    @extend_schema(responses={200: OrderOutput(many=True)})
    def get(self, request):
        """The caller's orders, newest first."""
        return Response(OrderOutput(selectors.orders_of(request.user), many=True).data)

    @extend_schema(
        request=OrderInput,
        responses={
            201: OrderOutput,
            400: OpenApiResponse(ErrorOutput, description="Invalid input; nothing is stored."),
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            403: OpenApiResponse(
                ErrorOutput,
                description="The member has not confirmed their email address yet (checked once the input is well-formed).",
            ),
        },
    )
    def post(self, request):
        """Place an order. The confirmation email (with the bank details) follows."""
        data = self.OrderInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            order = services.order_place(
                member=request.user,
                service=values["service"],
                platform=values["sns_platform"],
                sns_account_id=values["sns_account_id"],
                photo_links=values["photo_links"],
                note=values.get("note", ""),
                phone=values["phone"],
            )
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "unconfirmed":
                raise exceptions.PermissionDenied(exc.messages[0]) from None
            if hasattr(exc, "error_dict"):
                raise DjangoValidationError(
                    {_API_FIELD.get(field, field): messages for field, messages in exc.message_dict.items()}
                ) from None
            raise
        return Response(OrderOutput(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("order_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={
            200: OrderOutput,
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            404: OpenApiResponse(ErrorOutput, description="No such order of the caller's."),
        },
    )
    def get(self, request, order_id):
        """One of the caller's orders; anyone else's is 404, like one that does not exist."""
        try:
            order_id = uuid.UUID(order_id)
        except ValueError:
            raise Http404 from None
        return Response(OrderOutput(selectors.order_of(request.user, order_id)).data)


class RefundAccountInput(serializers.Serializer):
    # Types only here; lifecycle.order_cancel checks the values (the order pages' rules).
    bank_name = StrictCharField(required=False, allow_blank=True, max_length=200)
    branch = StrictCharField(required=False, allow_blank=True, max_length=200)
    account_type = StrictCharField(
        required=False, allow_blank=True, max_length=20, help_text="ordinary, current or savings."
    )
    account_number = StrictCharField(required=False, allow_blank=True, max_length=200)
    account_holder = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=400,
        help_text="Katakana or Latin letters, as the bank has it.",
    )


_REFUND_FIELDS = set(RefundAccountInput().fields)


class OrderCancelApi(APIView):
    class CancelInput(serializers.Serializer):
        reason = StrictCharField(allow_blank=True, trim_whitespace=False, max_length=NOTE_MAX * 2)
        refund_account = RefundAccountInput(
            required=False,
            allow_null=True,
            help_text="Required when anything has been paid: all of it is refunded to this account.",
        )

    @extend_schema(
        parameters=[OpenApiParameter("order_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        request=CancelInput,
        responses={
            200: OrderOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description="Invalid input, or the order can no longer be cancelled; nothing is changed.",
            ),
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            404: OpenApiResponse(ErrorOutput, description="No such order of the caller's."),
        },
    )
    def post(self, request, order_id):
        """Cancel one of the caller's orders (awaiting payment, paid or in progress). If anything
        has been paid, a refund of all of it is due to the bank account given. Emails follow."""
        try:
            order_id = uuid.UUID(order_id)
        except ValueError:
            raise Http404 from None
        order = selectors.order_of(request.user, order_id)
        data = self.CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
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
        return Response(OrderOutput(selectors.order_of(request.user, order.pk)).data)
