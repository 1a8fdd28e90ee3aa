"""``GET /api/v1/privacy/access-log``: the accesses of staff to the caller's own data, as on the
member's page (``transparency``). Whoever calls — a member, or a staff account with a token —
sees only the accesses to their own data; another member's access is a 404 like one that does
not exist."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput
from kirakira.api.pagination import list_parameters, page_of, paginate

from ..models import StaffAccessRecord
from . import transparency

# The largest sequence number the database holds (a signed 64-bit integer on every backend).
MAX_ACCESS_ID = 2**63 - 1


class LabelOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField(help_text="In the request's language (Accept-Language).")


class AccessOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The access's number, as on the member's page.")
    occurred_at = serializers.DateTimeField()
    staff = serializers.CharField(
        help_text="The staff member's pseudonym (`7KQ2-M9`): the same for one person on every "
        "access, never their name or login ID."
    )
    roles = LabelOutput(many=True, help_text="The roles the staff member held at the time.")
    action = serializers.ChoiceField(choices=StaffAccessRecord.Action.choices)
    action_label = serializers.CharField(help_text="In the request's language.")
    data = LabelOutput(
        many=True,
        source="items",
        help_text="The items of personal information concerned (the privacy policy's items), once each.",
    )
    reason = serializers.CharField(
        help_text="The reason the staff member gave (for a reveal); for a refused access, why it was "
        "refused; otherwise empty."
    )
    refused = serializers.BooleanField(help_text="The staff member was refused and saw nothing more.")

    def to_representation(self, instance):
        if isinstance(instance, StaffAccessRecord):
            instance = transparency.access(instance)
        return super().to_representation(instance)


_ACCESS_ID = OpenApiParameter(
    "access_id",
    {"type": "integer", "minimum": 1, "maximum": MAX_ACCESS_ID},
    OpenApiParameter.PATH,
    description="The access's `id`.",
)
_UNAUTHENTICATED = OpenApiResponse(ErrorOutput, description="No valid token.")
_NOT_FOUND = OpenApiResponse(
    ErrorOutput,
    description="No such access to the caller's data (an access to anyone else's is answered the same).",
)


def _access_id(raw: str) -> int:
    # Digits only (int() would take " 12", "+12" or "١٢"), within what the column holds.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ACCESS_ID:
        raise Http404
    return int(raw)


class AccessLogApi(APIView):
    @extend_schema(
        summary="Staff access to the caller's data",
        description="Every time a member of staff saw, revealed, changed or downloaded the caller's "
        "personal information, or was refused it: when, the staff member's pseudonym and roles at "
        "the time, what they did, which items and why. Newest first (`ordering=seq` for oldest "
        "first), in pages of `page_size` (default 20, at most 100): follow `next`. A bad "
        "`page_size`, `cursor` or `ordering` is a 400 naming the parameter.",
        parameters=list_parameters(field="seq"),
        responses={
            200: page_of(AccessOutput),
            400: OpenApiResponse(ErrorOutput, description="A bad page size, cursor or ordering."),
            401: _UNAUTHENTICATED,
        },
    )
    def get(self, request):
        return paginate(request, self, transparency.accesses_of(request.user), AccessOutput, field="seq")


class AccessLogDetailApi(APIView):
    @extend_schema(
        summary="One access to the caller's data",
        description="One access of staff to the caller's data, as in the list. An access that does "
        "not concern the caller is a 404, like one that does not exist.",
        parameters=[_ACCESS_ID],
        responses={200: AccessOutput, 401: _UNAUTHENTICATED, 404: _NOT_FOUND},
    )
    def get(self, request, access_id):
        record = transparency.access_of(request.user, _access_id(access_id))
        if record is None:
            raise Http404
        return Response(AccessOutput(record).data)
