from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.fields import StrictCharField
from kirakira.common.ratelimit import ScopedThrottle

from . import services
from .lockout import lockout_response
from .normalization import LOGIN_ID_MAX


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
            )
        },
        auth=[],
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
        instance, token = AuthToken.objects.create(user)
        return Response({"token": token, "expiry": instance.expiry})


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
