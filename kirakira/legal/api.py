"""The terms of service through the API: which version is in force (and announced), whether the
caller agreed to it, and agreeing. Placing an order answers 403 until the member has agreed to
the version in force."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput
from kirakira.api.fields import StrictIntegerField
from kirakira.api.inputs import StrictInput

from . import selectors, services
from .models import TermsAgreement


class VersionOutput(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version's number.")
    effective_on = serializers.DateField(help_text="The day it takes (or took) effect, Japan time.")
    url = serializers.CharField(help_text="The page with this version's text, in the request's language.")


class TermsOutput(serializers.Serializer):
    in_force = VersionOutput(
        allow_null=True,
        help_text="The version in force; null before the first agreement publishes version 1 (the text "
        "is then the live page, `/legal/terms/`).",
    )
    coming = VersionOutput(
        allow_null=True,
        help_text="A version announced to take effect later, with its differences at `changes_url`.",
    )
    changes_url = serializers.CharField(help_text="The page of the latest announced change and its reason.")


class AgreementOutput(serializers.Serializer):
    version = serializers.IntegerField(source="version.number")
    agreed_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=TermsAgreement.Channel.choices)


class AgreementsOutput(serializers.Serializer):
    in_force = serializers.IntegerField(
        allow_null=True, help_text="The number of the version in force; null before the first is published."
    )
    agreed = serializers.BooleanField(
        help_text="Whether the member agreed to the version in force (true before any version exists: "
        "there is nothing to agree to yet). Until they have, `POST /api/v1/orders` answers 403."
    )
    agreements = AgreementOutput(many=True, help_text="Every version the member agreed to, newest first.")


def _version(version):
    if version is None:
        return None
    return {
        "version": version.number,
        "effective_on": version.effective_on,
        "url": reverse("legal:terms_version", kwargs={"number": version.number}),
    }


_STAFF = OpenApiResponse(
    ErrorOutput, description="A staff account: staff do not agree to the members' terms."
)


class TermsApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The terms of service",
        description="The version of the terms of service in force and any announced one. Open to "
        "anyone: no token is needed, and one sent is ignored. A member's own agreements are at "
        "`GET /api/v1/terms/agreement`.",
        responses={200: TermsOutput},
        auth=[],
    )
    def get(self, request):
        return Response(
            TermsOutput(
                {
                    "in_force": _version(selectors.in_force()),
                    "coming": _version(selectors.coming()),
                    "changes_url": reverse("legal:terms_changes"),
                }
            ).data
        )


class TermsAgreementApi(APIView):
    class AgreementInput(StrictInput):
        version = StrictIntegerField(
            min_value=1,
            help_text="The number of the version in force (`in_force.version` of `GET /api/v1/terms`), "
            "the version the member read.",
        )

    @extend_schema(
        summary="The member's agreements to the terms of service",
        description="Whether the member agreed to the version in force, and every agreement recorded.",
        responses={
            200: AgreementsOutput,
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            403: _STAFF,
        },
    )
    def get(self, request):
        if request.user.is_staff:
            raise PermissionDenied()
        number = selectors.in_force_number()
        agreements = selectors.agreements(request.user)
        return Response(
            AgreementsOutput(
                {
                    "in_force": number or None,
                    "agreed": not number or any(a.version.number == number for a in agreements),
                    "agreements": agreements,
                }
            ).data
        )

    @extend_schema(
        summary="Agree to the terms of service",
        description="Record that the member agrees to the version in force. Agreeing again to the same "
        "version answers the agreement recorded before.",
        request=AgreementInput,
        responses={
            201: AgreementOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description="`version` is not the version in force (another took effect since it was read).",
            ),
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            403: OpenApiResponse(
                ErrorOutput, description="A staff account: staff do not agree to the members' terms."
            ),
        },
    )
    def post(self, request):
        if request.user.is_staff:
            raise PermissionDenied()
        data = self.AgreementInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            agreement = services.terms_agree(
                member=request.user, number=data.validated_data["version"], channel=TermsAgreement.Channel.API
            )
        except DjangoValidationError as exc:
            raise DjangoValidationError(exc.message_dict) from None
        return Response(AgreementOutput(agreement).data, status=status.HTTP_201_CREATED)
