from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from knox.settings import knox_settings
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput
from kirakira.api.fields import StrictCharField
from kirakira.common.ratelimit import ScopedThrottle

from . import services
from .lockout import lockout_response
from .normalization import LOGIN_ID_MAX
from .session_tracking import describe_client, member_tokens


class MemberOutput(serializers.Serializer):
    id = serializers.UUIDField()
    login_id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.EmailField()
    email_confirmed = serializers.BooleanField()
    pending_email = serializers.CharField(allow_blank=True)
    language = serializers.CharField()
    date_joined = serializers.DateTimeField()


class RegisterApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "register"

    class RegisterInput(serializers.Serializer):
        login_id = StrictCharField()
        name = StrictCharField(trim_whitespace=False)
        email = StrictCharField()
        password = StrictCharField(max_length=4096, trim_whitespace=False, write_only=True)

    @extend_schema(request=RegisterInput, responses={201: MemberOutput}, auth=[])
    def post(self, request):
        data = self.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.member_register(**data.validated_data, language=get_language())
        return Response(MemberOutput(user).data, status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    """Exchange a login ID and password for a bearer token (locked out like the login page)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    class TokenInput(serializers.Serializer):
        login_id = StrictCharField(max_length=LOGIN_ID_MAX * 2)
        password = StrictCharField(max_length=4096, trim_whitespace=False)

    def get_authenticate_header(self, request):
        return "Bearer"  # so a refused login is 401, not 403

    @extend_schema(
        request=TokenInput,
        responses={
            200: inline_serializer(
                "TokenOutput", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
            ),
            401: OpenApiResponse(ErrorOutput, description="Wrong login ID or password."),
        },
        auth=[],
        description=(
            "Exchange a login ID and password for a bearer token, valid for "
            f"{knox_settings.TOKEN_TTL.days} days. A member has at "
            f"most {knox_settings.TOKEN_LIMIT_PER_USER} live tokens: logging in at the limit ends the "
            "member's oldest token, so a new login always succeeds. A new password, a password reset, "
            "a confirmed change of email address and the end of the account end every token."
        ),
    )
    def post(self, request):
        data = self.TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(
            django_request,
            username=data.validated_data["login_id"],
            password=data.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            return lockout_response(django_request)
        if user is None:
            raise AuthenticationFailed(_("The login ID or password is incorrect."))
        # As a login through the page does: resets the lockout counter, records the policy seen.
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        created = services.member_token_create(
            user=user, client=describe_client(request.META.get("HTTP_USER_AGENT", ""))
        )
        if created is None:  # the password or the account changed meanwhile
            raise AuthenticationFailed(_("The login ID or password is incorrect."))
        instance, token = created
        return Response({"token": token, "expiry": instance.expiry})


_NO_TOKEN = OpenApiResponse(ErrorOutput, description="No valid token.")


class NoInput(serializers.Serializer):
    """No fields. Reading the body anyway refuses a malformed one, as every endpoint does."""


class LogoutApi(APIView):
    @extend_schema(
        request=None,
        responses={204: None, 401: _NO_TOKEN},
        description="End the token this request is made with; other tokens and browser sessions stay.",
    )
    def post(self, request):
        NoInput(data=request.data).is_valid(raise_exception=True)
        services.member_token_end(user=request.user, digest=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    @extend_schema(
        request=None,
        responses={204: None, 401: _NO_TOKEN},
        description="End every token of the member, this one included. Browser sessions stay "
        "(they are ended on the member's page).",
    )
    def post(self, request):
        NoInput(data=request.data).is_valid(raise_exception=True)
        services.member_tokens_end(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Enough to tell tokens apart; far too little to guess the rest of the token.
TOKEN_PREFIX_SHOWN = 8


class MemberTokenOutput(serializers.Serializer):
    id = serializers.UUIDField()
    prefix = serializers.SerializerMethodField(help_text="The first characters of the token, to tell it apart.")
    client = serializers.CharField(help_text='What made it, e.g. "curl" or "Firefox (Windows)"; may be empty.')
    created = serializers.DateTimeField(source="token.created")
    last_used = serializers.DateTimeField(source="last_used_at", allow_null=True)
    expiry = serializers.DateTimeField(source="token.expiry", allow_null=True)
    current = serializers.SerializerMethodField(help_text="Whether this request is made with it.")

    def get_prefix(self, member_token) -> str:
        return member_token.token.token_key[:TOKEN_PREFIX_SHOWN]

    def get_current(self, member_token) -> bool:
        return member_token.token_id == self.context["current_digest"]


class TokensApi(APIView):
    @extend_schema(
        responses={200: MemberTokenOutput(many=True), 401: _NO_TOKEN},
        description="The member's live tokens, newest first; never the tokens themselves.",
    )
    def get(self, request):
        tokens = member_tokens(user=request.user)
        return Response(MemberTokenOutput(tokens, many=True, context={"current_digest": request.auth.pk}).data)


class TokenDetailApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("token_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={
            204: None,
            401: _NO_TOKEN,
            404: OpenApiResponse(ErrorOutput, description="No such token of the member's."),
        },
        description="End one of the member's tokens (the ID from GET auth/tokens).",
    )
    def delete(self, request, token_id):
        if not services.member_token_end(user=request.user, token_id=token_id):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    class ProfileInput(serializers.Serializer):
        name = StrictCharField(trim_whitespace=False, required=False)
        email = StrictCharField(required=False)

    @extend_schema(responses={200: MemberOutput})
    def get(self, request):
        return Response(MemberOutput(request.user).data)

    @extend_schema(request=ProfileInput, responses={200: MemberOutput})
    def patch(self, request):
        data = self.ProfileInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.member_update_profile(user=request.user, **data.validated_data)
        return Response(MemberOutput(request.user).data)
