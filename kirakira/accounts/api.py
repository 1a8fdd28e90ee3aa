from django.contrib.auth import authenticate
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.common.ratelimit import ScopedThrottle

from . import services
from .lockout import lockout_response
from .normalization import LOGIN_ID_MAX, NAME_MAX


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

    class Input(serializers.Serializer):
        login_id = serializers.CharField(max_length=LOGIN_ID_MAX * 2)
        name = serializers.CharField(max_length=NAME_MAX + 20, trim_whitespace=False)
        email = serializers.CharField(max_length=320)
        password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)

    @extend_schema(request=Input, responses={201: MemberOutput}, auth=[])
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.member_register(**data.validated_data, language=get_language())
        return Response(MemberOutput(user).data, status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    """Exchange a login ID and password for a bearer token (locked out like the login page)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    class Input(serializers.Serializer):
        login_id = serializers.CharField(max_length=LOGIN_ID_MAX * 2)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
        request=Input,
        responses={
            200: inline_serializer(
                "TokenOutput", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
            )
        },
        auth=[],
    )
    def post(self, request):
        data = self.Input(data=request.data)
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
        instance, token = AuthToken.objects.create(user)
        return Response({"token": token, "expiry": instance.expiry})


class MeApi(APIView):
    class Input(serializers.Serializer):
        name = serializers.CharField(max_length=NAME_MAX + 20, trim_whitespace=False, required=False)
        email = serializers.CharField(max_length=320, required=False)

    @extend_schema(responses={200: MemberOutput})
    def get(self, request):
        return Response(MemberOutput(request.user).data)

    @extend_schema(request=Input, responses={200: MemberOutput})
    def patch(self, request):
        data = self.Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.member_update_profile(user=request.user, **data.validated_data)
        return Response(MemberOutput(request.user).data)
