"""A member's incident notices through the API: the same notices as their page, in the
request's language."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput

from . import selectors


class ContactOutput(serializers.Serializer):
    department = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()


class NoticeOutput(serializers.Serializer):
    id = serializers.UUIDField(source="notice.id")
    incident = serializers.CharField(source="incident.reference", help_text="The incident's reference.")
    notified_at = serializers.DateTimeField(source="notice.created_at")
    emailed_at = serializers.DateTimeField(
        source="notice.emailed_at", allow_null=True, help_text="When the notice was emailed; null if not."
    )
    detected_at = serializers.DateTimeField(source="incident.detected_at")
    began_at = serializers.DateTimeField(source="incident.began_at", allow_null=True)
    cause = serializers.CharField(help_text="The cause, in the request's language.")
    items = serializers.ListField(
        child=serializers.CharField(),
        help_text="The personal information concerned, in the request's language.",
    )
    what_happened = serializers.CharField(source="incident.description")
    encrypted = serializers.BooleanField(
        source="incident.protected",
        help_text="Whether the information was stored encrypted under keys that were not exposed.",
    )
    what_we_do = serializers.CharField(source="incident.measures")
    what_you_can_do = serializers.CharField(source="incident.member_advice")
    contact = ContactOutput(source="officer")


class NoticesApi(APIView):
    @extend_schema(
        summary="The caller's incident notices",
        description="The notices of personal data incidents that concern the caller, newest first: "
        "which information, when and how, what the company does, what the member can do, and whom "
        "to contact. An empty list when there is none.",
        responses={
            200: NoticeOutput(many=True),
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            403: OpenApiResponse(ErrorOutput, description="A staff account: notices go to members."),
        },
    )
    def get(self, request):
        if request.user.is_staff:
            raise PermissionDenied()
        rows = [
            {"notice": notice, **selectors.notice_content(notice.incident)}
            for notice in selectors.notices_for(request.user)
        ]
        return Response(NoticeOutput(rows, many=True).data)
