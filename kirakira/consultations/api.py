"""The consultations API: a member's own consultations and their threads.

JSON only (``category``, ``subject``, ``body``, ``order`` and ``callback_phone``); files are
attached on the pages. Types are checked here; values by the services, with the pages' rules
and messages.
"""

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput
from kirakira.api.fields import StrictCharField

from . import selectors, services
from .models import BODY_MAX, SUBJECT_MAX, AuthorKind, Category, Status

# Generous bounds on the raw input; the services apply the real limits (after trimming) with
# their own messages.
_RAW_SLACK = 1000


class AttachmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class MessageOutput(serializers.Serializer):
    id = serializers.UUIDField()
    author = serializers.ChoiceField(source="author_kind", choices=AuthorKind.choices)
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    attachments = AttachmentOutput(many=True, source="attachments.all")


class ConsultationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    category = serializers.ChoiceField(choices=Category.choices)
    subject = serializers.CharField()
    order = serializers.UUIDField(source="order_id", allow_null=True)
    callback_phone = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Status.choices)
    status_display = serializers.CharField(source="get_status_display")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class ConsultationDetailOutput(ConsultationOutput):
    messages = serializers.SerializerMethodField()

    @extend_schema_field(MessageOutput(many=True))
    def get_messages(self, consultation):
        return MessageOutput(selectors.thread(consultation), many=True).data


def _detail(consultation):
    return ConsultationDetailOutput(consultation).data


def _consultation_or_404(request, consultation_id):
    try:
        consultation_id = uuid.UUID(consultation_id)
    except ValueError:
        raise Http404 from None
    return selectors.consultation_of(request.user, consultation_id)


class ConsultationsApi(APIView):
    class OpenInput(serializers.Serializer):
        category = serializers.ChoiceField(choices=Category.choices)
        subject = StrictCharField(
            max_length=SUBJECT_MAX + _RAW_SLACK, allow_blank=True, trim_whitespace=False
        )
        body = StrictCharField(max_length=BODY_MAX + _RAW_SLACK, allow_blank=True, trim_whitespace=False)
        order = serializers.UUIDField(
            required=False, allow_null=True, help_text="One of the caller's orders."
        )
        callback_phone = StrictCharField(required=False, allow_blank=True, max_length=60)

    @extend_schema(
        responses={
            200: ConsultationOutput(many=True),
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
        }
    )
    def get(self, request):
        """The caller's consultations, most recently active first."""
        return Response(ConsultationOutput(selectors.consultations_of(request.user), many=True).data)

    @extend_schema(
        request=OpenInput,
        responses={
            201: ConsultationDetailOutput,
            400: OpenApiResponse(ErrorOutput, description="Invalid input; nothing is stored."),
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            429: OpenApiResponse(
                ErrorOutput,
                description="The caller opened CONSULTATION_MEMBER_LIMIT_PER_HOUR consultations in the "
                "last hour; Retry-After says when to try again.",
            ),
        },
    )
    def post(self, request):
        """Open a consultation. Staff answer in its thread, and an email says so."""
        data = self.OpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            consultation = services.consultation_open(
                member=request.user,
                category=values["category"],
                subject=values["subject"],
                body=values["body"],
                order=values.get("order"),
                callback_phone=values.get("callback_phone", ""),
                language=get_language(),
            )
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "rate_limited":
                raise Throttled(wait=exc.params["retry_after"], detail=exc.messages[0]) from None
            raise
        return Response(_detail(consultation), status=status.HTTP_201_CREATED)


_ID = OpenApiParameter("consultation_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class ConsultationDetailApi(APIView):
    @extend_schema(
        parameters=[_ID],
        responses={
            200: ConsultationDetailOutput,
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            404: OpenApiResponse(ErrorOutput, description="No such consultation of the caller's."),
        },
    )
    def get(self, request, consultation_id):
        """One of the caller's consultations with its thread (staff's internal notes are never shown)."""
        return Response(_detail(_consultation_or_404(request, consultation_id)))


class ConsultationMessagesApi(APIView):
    class MessageInput(serializers.Serializer):
        body = StrictCharField(max_length=BODY_MAX + _RAW_SLACK, allow_blank=True, trim_whitespace=False)

    @extend_schema(
        parameters=[_ID],
        request=MessageInput,
        responses={
            201: MessageOutput,
            400: OpenApiResponse(
                ErrorOutput, description="Invalid input, or the consultation is closed; nothing is stored."
            ),
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            404: OpenApiResponse(ErrorOutput, description="No such consultation of the caller's."),
        },
    )
    def post(self, request, consultation_id):
        """Write in one of the caller's consultations. A closed one must be reopened on the site first."""
        consultation = _consultation_or_404(request, consultation_id)
        data = self.MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            message = services.requester_reply(
                consultation_id=consultation.pk, body=data.validated_data["body"], member=request.user
            )
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "not_found":
                raise Http404 from None
            raise
        return Response(MessageOutput(message).data, status=status.HTTP_201_CREATED)
