"""The rights requests API (policy C7), the same requests as the member's pages:

- ``POST /api/v1/privacy/identity-code`` mails the one-time code;
- ``POST /api/v1/privacy/requests`` receives a request after the identity check (202);
- ``GET /api/v1/privacy/requests`` and ``/{id}`` show the caller's requests and their state.

A request of another member is a 404, like one that does not exist.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.accounts.api import (
    _INVALID,
    _LOCKED_OUT,
    _NO_TOKEN,
    _NOT_AN_OBJECT,
    Conflict,
    NoInput,
    _error,
    _retry_after,
    password_field,
)
from kirakira.accounts.lockout import lockout_response
from kirakira.api.fields import StrictCharField
from kirakira.api.inputs import StrictInput
from kirakira.api.pagination import list_parameters, page_of, paginate
from kirakira.orders import api as orders_api

from . import correction, services
from .identity import CodeRequestsExceeded, IdentityLocked, code_send
from .models import Ground, Kind, RightsRequest, Scope, Status

_STAFF = "Staff accounts make requests about their own data to the privacy officer directly."


def _members_only(request) -> None:
    if request.user.is_staff:
        raise PermissionDenied(gettext(_STAFF))  # the services' own message (the same msgid)


class IdentityCodeApi(APIView):
    class SentOutput(serializers.Serializer):
        sent = serializers.BooleanField(
            help_text="Always true: the code is on its way to the member's address."
        )
        expires_in = serializers.IntegerField(help_text="Seconds the code works for (600).")
        tries = serializers.IntegerField(
            help_text="Wrong tries the code allows (5); the sixth needs a new code."
        )

    @extend_schema(
        summary="Email a confirmation code",
        request=None,
        responses={
            202: SentOutput,
            400: _NOT_AN_OBJECT,
            401: _NO_TOKEN,
            403: _error(_STAFF),
            429: _error("Codes were asked for too often (5 an hour); `Retry-After` says how long to wait."),
        },
        parameters=[_retry_after("Seconds until a code may be asked for again.")],
        description="Mails a 6-digit code to the member's registered address, for the identity check of "
        "`POST /api/v1/privacy/requests`. It works for 10 minutes, once; a new code replaces the one before. "
        "Each wrong try counts as a failed login of the member's login ID (the login's lockout applies).",
    )
    def post(self, request):
        NoInput(data=request.data).is_valid(raise_exception=True)
        _members_only(request)
        try:
            code_send(request.user)
        except CodeRequestsExceeded as exc:
            raise Throttled(wait=exc.wait) from None
        return Response(
            self.SentOutput(
                {
                    "sent": True,
                    "expires_in": settings.IDENTITY_CODE_MINUTES * 60,
                    "tries": settings.IDENTITY_CODE_TRIES,
                }
            ).data,
            status=status.HTTP_202_ACCEPTED,
        )


class KeptOutput(serializers.Serializer):
    entry = serializers.CharField()
    label = serializers.CharField()
    rule = serializers.CharField(help_text="The retention rule that keeps it.")
    until = serializers.CharField(help_text="Until when, at the latest.")


class RequestOutput(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField(
        help_text="The request's reference, as on the member's page and emails."
    )
    kind = serializers.ChoiceField(choices=Kind.choices)
    status = serializers.ChoiceField(
        choices=Status.choices,
        help_text="`received`; `building` while an export is prepared; `done` (an export: ready to download); "
        "`refused` (with `ground` and `answer`); `lifted` (a stop of processing the member ended).",
    )
    status_label = serializers.CharField(source="get_status_display", help_text="In the request's language.")
    received_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(
        help_text="The answer is due by then: 10 days after receipt, unless extended."
    )
    extension_reason = serializers.CharField(help_text="Why the due date was moved; empty if it was not.")
    decided_at = serializers.DateTimeField(allow_null=True)
    ground = serializers.ChoiceField(
        choices=Ground.choices,
        allow_null=True,
        help_text="On a refusal, the privacy policy's ground (1, 2 or 3).",
    )
    ground_text = serializers.CharField(source="get_ground_display", allow_null=True)
    answer = serializers.CharField(help_text="Staff's answer to the member.")
    target = serializers.CharField(help_text="A correction's record (`orders.Order`, ...).")
    target_id = serializers.CharField()
    target_field = serializers.CharField()
    wrong_value = serializers.CharField()
    right_value = serializers.CharField()
    entries = serializers.ListField(child=serializers.CharField(), help_text="A deletion's data.")
    kept = KeptOutput(
        many=True, help_text="After a deletion: what a rule keeps, under which rule, until when."
    )
    scope = serializers.CharField(help_text="A stop of processing: `notices`, `usage_log` or `all`.")
    progress = serializers.IntegerField(help_text="An export's progress, 0 to 100.")
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When an export's download link expires."
    )
    download_url = serializers.SerializerMethodField(
        help_text="An export's download while its link works; else null."
    )

    def get_download_url(self, instance) -> str | None:
        if not instance.link_valid():
            return None
        return reverse("api_v1:privacy-export-download", args=[instance.pk])


class RequestsApi(APIView):
    class RequestInput(StrictInput):
        kind = serializers.ChoiceField(choices=Kind.values)
        password = password_field(help_text="The member's password, checked as a login's is.")
        identity_code = StrictCharField(
            max_length=6, help_text="The code from `POST /api/v1/privacy/identity-code`."
        )
        target = StrictCharField(required=False, max_length=100, help_text="A correction: the record's kind.")
        target_id = StrictCharField(required=False, max_length=64, help_text="A correction: the record's ID.")
        target_field = StrictCharField(required=False, max_length=64, help_text="A correction: the field.")
        wrong_value = StrictCharField(required=False, max_length=correction.VALUE_MAX)
        right_value = StrictCharField(required=False, max_length=correction.VALUE_MAX)
        entries = serializers.ListField(
            child=StrictCharField(max_length=120),
            required=False,
            max_length=100,
            help_text="A deletion: the data.",
        )
        scope = serializers.ChoiceField(
            choices=Scope.values, required=False, help_text="A stop of processing."
        )

    @extend_schema(
        summary="The caller's rights requests",
        parameters=list_parameters(field="received_at"),
        responses={
            200: page_of(RequestOutput),
            400: _error("A bad page size, cursor or ordering."),
            401: _NO_TOKEN,
        },
    )
    def get(self, request):
        return paginate(
            request,
            self,
            RightsRequest.objects.filter(member=request.user),
            RequestOutput,
            field="received_at",
        )

    @extend_schema(
        summary="Make a rights request",
        request=RequestInput,
        responses={
            202: RequestOutput,
            400: _error(
                f"{_INVALID}; or the password is wrong (`errors.password`, counted as a failed login), or the "
                "code is wrong, expired or spent (`errors.identity_code`; a wrong code counts as a failed login), "
                "or a correction names no field of the caller's (`errors.target`, `errors.target_id`, "
                "`errors.target_field`). Nothing is changed."
            ),
            401: _NO_TOKEN,
            403: _error(_STAFF),
            409: _error("An export is still being prepared: wait until it is ready."),
            429: _LOCKED_OUT,
        },
        parameters=[_retry_after("Seconds until the password may be tried again from this address.")],
        description="Receive a request to download (`export`), correct (`correction`: `target`, `target_id`, "
        "`target_field`, `wrong_value`, `right_value`), delete (`deletion`: `entries`) or stop the processing "
        "(`restriction`: `scope`) of the caller's personal information, after the identity check (the password "
        "and the mailed code). The answer is due 10 days after receipt (`due_at`). An export is built at once: "
        "poll `GET /api/v1/privacy/requests/{id}` until `status` is `done` and follow `download_url`. A field "
        "under correction is not used or provided until the correction is made; a stop of processing applies "
        "at once.",
    )
    def post(self, request):
        _members_only(request)
        values = dict(orders_api._validated(self.RequestInput(data=request.data)))
        kind = values.pop("kind")
        try:
            rights_request = services.request_submit(
                request.user,
                kind,
                password=values.pop("password"),
                identity_code=values.pop("identity_code"),
                http_request=request._request,
                **values,
            )
        except IdentityLocked:
            return lockout_response(request._request)
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "export_building":
                raise Conflict(exc.messages[0]) from None
            raise
        return Response(RequestOutput(rights_request).data, status=status.HTTP_202_ACCEPTED)


_REQUEST_ID = OpenApiParameter("request_id", {"type": "string", "format": "uuid"}, OpenApiParameter.PATH)


def own_request(user, raw_id: str) -> RightsRequest:
    try:
        request_id = uuid.UUID(raw_id)
    except ValueError:
        raise Http404 from None
    found = RightsRequest.objects.filter(pk=request_id, member=user).first()
    if found is None:
        raise Http404
    return found


class RequestDetailApi(APIView):
    @extend_schema(
        summary="One of the caller's rights requests",
        parameters=[_REQUEST_ID],
        responses={
            200: RequestOutput,
            401: _NO_TOKEN,
            404: _error("No such request of the caller's (another member's is answered the same)."),
        },
    )
    def get(self, request, request_id):
        return Response(RequestOutput(own_request(request.user, request_id)).data)
