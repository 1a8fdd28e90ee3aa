"""The accounts API: registering, logging in and out, the member's own record, confirming the email
address, and changing or resetting the password.

Input is checked here for its JSON types and for the form the schema states (lengths, patterns,
the closed set of languages), by the very validators the schema is generated from, with the
services' own messages; what the values mean (a login ID taken, a weak password, a used link) is
checked by ``services``, the rules of the account pages. Lengths are counted on the text as sent,
so that the schema's ``maxLength`` is exact; the services fold and trim after that.

A field an endpoint does not take is refused (400, named in ``errors``) and the schema says so
(``additionalProperties: false``): a misspelt or unsupported field is never dropped in silence,
as ``language`` once was by ``PATCH /me``. ``tests/test_accounts_api_contract.py`` holds the schema
to the server.

Threats met here: guessing a password through the password change (the current password is
checked by ``authenticate``, so wrong guesses count towards the login's lockout and slowdown);
flooding a mailbox with reset or confirmation links (the page's per-address and per-client
limits, and a per-address limit on confirmation links); learning who is registered (a reset
request is answered alike either way, its limits count unregistered addresses too).
"""


from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
    password_validators_help_texts,
)
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, MaxLengthValidator, MinLengthValidator, RegexValidator
from django.http import Http404
from django.utils.encoding import force_str
from django.utils.functional import lazy
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from knox.settings import knox_settings
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput
from kirakira.api.fields import StrictBooleanField, StrictCharField
from kirakira.api.inputs import StrictInput
from kirakira.common.client_ip import client_ip
from kirakira.common.ratelimit import ScopedThrottle

from . import services
from .lockout import lockout_response
from .models import User
from .normalization import LOGIN_ID_MAX, LOGIN_ID_MIN, NAME_MAX, normalize_email
from .session_tracking import describe_client, member_tokens
from .validation import validate_email_syntax

# --- limits and the fields that enforce them ------------------------------------------------------

# A login ID as it may be typed: the characters of normalization.LOGIN_ID_PATTERN (a–z 0–9 _ . -),
# their upper-case letters and the full-width forms of all of them (U+FF10–FF19, FF21–FF3A,
# FF41–FF5A, FF3F, FF0E, FF0D), each of which ``normalize_login_id`` folds into exactly one
# character of the pattern. So the schema's pattern and lengths hold for the text as sent; the
# stored login ID is the folded one. The contract test checks every character against the fold.
LOGIN_ID_TYPED = r"\A[0-9A-Za-z_.\-\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff3f\uff0e\uff0d]+\Z"
# Not only white space: what the services mean by "required" (they trim first).
NOT_BLANK = r"\S"
EMAIL_MAX = User._meta.get_field("email").max_length
# Long enough for any passphrase, short enough that hashing it costs nothing unusual.
PASSWORD_MAX = 4096
# A login ID is compared after folding, so the token endpoint takes some room for white space
# and the like; what is longer than this is no login ID at all.
TOKEN_LOGIN_ID_MAX = LOGIN_ID_MAX * 2
# An emailed link's parts: the account's ID in URL-safe base64 (48 characters) and a token of
# about 40; far more is no link of ours.
LINK_PART_MAX = 200


def _formatted(message, **params) -> str:
    """``message`` (a lazy translation) with ``params``, translated when it is shown."""
    return lazy(lambda: str(message) % params, str)()


# The services' own messages (the same msgids, so the same translations).
LOGIN_ID_LENGTH = _formatted(
    gettext_lazy("A login ID is %(min)d to %(max)d characters long."), min=LOGIN_ID_MIN, max=LOGIN_ID_MAX
)
LOGIN_ID_CHARACTERS = gettext_lazy("Use only lowercase letters a–z, digits 0–9, and the characters _ . -")
NAME_REQUIRED = gettext_lazy("Enter your name.")
NAME_TOO_LONG = _formatted(gettext_lazy("A name is at most %(max)d characters long."), max=NAME_MAX)
EMAIL_REQUIRED = gettext_lazy("Enter your email address.")
EMAIL_TOO_LONG = gettext_lazy("An email address is at most 254 characters long.")


def password_min_length() -> int:
    """The shortest password the configured validators let through (``MinimumLengthValidator``)."""
    lengths = [v.min_length for v in get_default_password_validators() if isinstance(v, MinimumLengthValidator)]
    return max(lengths, default=1)


class PasswordLengthValidator(MinLengthValidator):
    """The configured ``MinimumLengthValidator``, with its own message, as a ``MinLengthValidator``
    so that the schema states the minimum (read when the schema is drawn, as when checked)."""

    def __init__(self):
        super().__init__(limit_value=password_min_length)

    def __call__(self, value):
        for validator in get_default_password_validators():
            if isinstance(validator, MinimumLengthValidator):
                validator.validate(value)


class FoldedEmailValidator(EmailValidator):
    """``validation.validate_email_syntax`` on the address as ``normalize_email`` folds it (full-width
    forms, case, surrounding space): what the services store. An ``EmailValidator``, so that the
    schema says ``format: email``."""

    def __call__(self, value):
        validate_email_syntax(normalize_email(value))


def _password_rules() -> str:
    return " ".join(str(text) for text in password_validators_help_texts())


_password_rules_lazy = lazy(_password_rules, str)


def login_id_field() -> StrictCharField:
    return StrictCharField(
        trim_whitespace=False,
        validators=[
            MinLengthValidator(LOGIN_ID_MIN, message=LOGIN_ID_LENGTH),
            MaxLengthValidator(LOGIN_ID_MAX, message=LOGIN_ID_LENGTH),
            RegexValidator(LOGIN_ID_TYPED, message=LOGIN_ID_CHARACTERS),
        ],
        error_messages={"blank": LOGIN_ID_LENGTH},
        help_text=f"{LOGIN_ID_MIN} to {LOGIN_ID_MAX} characters: a–z, 0–9, _ . -. Upper-case and "
        "full-width forms are accepted and stored folded (`ＡＬＩＣＥ_01` is `alice_01`); the login ID "
        "must not be taken in any case or width. No surrounding white space.",
    )


def name_field(**kwargs) -> StrictCharField:
    return StrictCharField(
        trim_whitespace=False,
        validators=[
            MaxLengthValidator(NAME_MAX, message=NAME_TOO_LONG),
            RegexValidator(NOT_BLANK, message=NAME_REQUIRED),
        ],
        error_messages={"blank": NAME_REQUIRED},
        help_text=f"At most {NAME_MAX} characters as sent; surrounding white space (the ideographic "
        "space too) is trimmed. Any script and width; no control, invisible-formatting, private-use "
        "or unassigned characters.",
        **kwargs,
    )


def email_field(**kwargs) -> StrictCharField:
    return StrictCharField(
        trim_whitespace=False,
        validators=[MaxLengthValidator(EMAIL_MAX, message=EMAIL_TOO_LONG), FoldedEmailValidator()],
        error_messages={"blank": EMAIL_REQUIRED},
        help_text=f"At most {EMAIL_MAX} characters. Full-width forms are folded, letter case is "
        "ignored and surrounding white space trimmed before the address is checked and stored.",
        **kwargs,
    )


def new_password_field(**kwargs) -> StrictCharField:
    return StrictCharField(
        trim_whitespace=False,
        write_only=True,
        validators=[PasswordLengthValidator(), MaxLengthValidator(PASSWORD_MAX)],
        help_text=_password_rules_lazy(),
        **kwargs,
    )


def password_field(**kwargs) -> StrictCharField:
    """A password to check, not to set: any length the server takes."""
    return StrictCharField(trim_whitespace=False, write_only=True, max_length=PASSWORD_MAX, **kwargs)


def link_part_field(help_text: str) -> StrictCharField:
    return StrictCharField(max_length=LINK_PART_MAX, help_text=help_text)


# --- outputs and documented answers -----------------------------------------------------------------


class MemberOutput(serializers.Serializer):
    id = serializers.UUIDField()
    login_id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.EmailField()
    email_confirmed = serializers.BooleanField()
    pending_email = serializers.CharField(
        allow_blank=True, help_text="A new address awaiting confirmation; empty when there is none."
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, help_text="The language of the member's emails and pages."
    )
    date_joined = serializers.DateTimeField()


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Bearer <token>`.")
    expiry = serializers.DateTimeField()


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOutput, description=description)


def _retry_after(description: str) -> OpenApiParameter:
    return OpenApiParameter(
        "Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[429], description=description
    )


_NO_TOKEN = _error("No valid token.")
_INVALID = "Invalid input, each field's errors in `errors`, a field the endpoint does not take among them"
_NOT_AN_OBJECT = _error("A body was sent and is not a JSON object without fields (`{}`).")
_LOCKED_OUT = _error(
    "Too many failed attempts: the login ID is locked from this client address (django-axes, "
    "15 minutes by default), or slowed down while it is under attack from many addresses. "
    "`Retry-After` says how long to wait."
)


def _api_error(exc: DjangoValidationError, fields: dict[str, str] | None = None) -> Exception:
    """The API's answer to a service's ``ValidationError``: 429 for a rate limit, and a single
    message filed under the field that ``fields`` gives for its code."""
    code = getattr(exc, "code", None)
    if code == "rate_limited":
        return RateLimited(exc.messages[0], wait=exc.params["retry_after"])
    if not hasattr(exc, "error_dict") and code in (fields or {}):
        return DjangoValidationError({fields[code]: exc.messages})
    return exc


class RateLimited(APIException):
    """429 with ``Retry-After`` and the service's message, the page's, which already says how long
    to wait (to DRF's ``Throttled`` a second sentence saying it again would be added)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "throttled"

    def __init__(self, detail: str, *, wait: int):
        super().__init__(detail)
        self.wait = wait


class Conflict(APIException):
    """The account is not in a state that allows this (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _user_id(uidb64: str) -> str:
    """The account ID in a link's ``uid`` (URL-safe base64), as text; "" when it is not one."""
    try:
        return force_str(urlsafe_base64_decode(uidb64))
    except (ValueError, TypeError, OverflowError):  # not base64, or not text once decoded
        return ""


# --- registering and logging in ----------------------------------------------------------------------


class RegisterApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "register"

    class RegisterInput(StrictInput):
        login_id = login_id_field()
        name = name_field()
        email = email_field()
        password = new_password_field()
        accept_terms = StrictBooleanField(
            help_text="Must be `true`: the member agrees to the terms of service in force "
            "(`GET /api/v1/terms`), and the agreement is recorded with its version.",
        )

    @extend_schema(
        request=RegisterInput,
        responses={
            201: MemberOutput,
            400: _error(
                f"{_INVALID}; or the login ID or the email address is already registered (in any case "
                "or width), or the password is refused by the rules above. Nothing is created."
            ),
            429: _error(
                "Too many registrations from this client address (REGISTER_THROTTLE_RATE, shared with "
                "the registration page). Every attempt counts, refused ones too."
            ),
        },
        parameters=[_retry_after("Seconds until this client address may register again.")],
        auth=[],
        description=(
            "Create a member account. The member's language is the request's (Accept-Language). "
            "The email address is unconfirmed until the member opens the link emailed to it (see "
            "`POST /api/v1/auth/confirm-email`); until then the member can log in but not order."
        ),
    )
    def post(self, request):
        data = self.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.member_register(**data.validated_data, language=get_language())
        return Response(MemberOutput(user).data, status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    """Exchange a login ID and password for a bearer token (locked out like the login page)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    class TokenInput(StrictInput):
        login_id = StrictCharField(
            trim_whitespace=False,
            max_length=TOKEN_LOGIN_ID_MAX,
            validators=[RegexValidator(NOT_BLANK)],
            help_text="As the member types it: compared after folding case, width and surrounding space.",
        )
        password = password_field()

    def get_authenticate_header(self, request):
        return "Bearer"  # so a refused login is 401, not 403

    @extend_schema(
        request=TokenInput,
        responses={
            200: TokenOutput,
            400: _error(f"{_INVALID}. No password is checked."),
            401: _error("Wrong login ID or password, or the account has ended (the same answer)."),
            429: _LOCKED_OUT,
        },
        parameters=[_retry_after("Seconds until this login ID may be tried again from this address.")],
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
        return Response(TokenOutput({"token": token, "expiry": instance.expiry}).data)


class NoInput(StrictInput):
    """No fields. Reading the body anyway refuses a malformed one, as every endpoint does."""


class LogoutApi(APIView):
    @extend_schema(
        request=None,
        responses={204: None, 400: _NOT_AN_OBJECT, 401: _NO_TOKEN},
        description="End the token this request is made with; other tokens and browser sessions stay. "
        "Send no body (or `{}`).",
    )
    def post(self, request):
        NoInput(data=request.data).is_valid(raise_exception=True)
        services.member_token_end(user=request.user, digest=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    @extend_schema(
        request=None,
        responses={204: None, 400: _NOT_AN_OBJECT, 401: _NO_TOKEN},
        description="End every token of the member, this one included. Browser sessions stay "
        "(they are ended on the member's page). Send no body (or `{}`).",
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
        description="The member's live tokens, newest first; never the tokens themselves. At most "
        "API_TOKEN_LIMIT_PER_MEMBER (20 by default), so the list comes whole.",
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
            404: _error("No such token of the member's (or the ID is not a UUID)."),
        },
        description="End one of the member's tokens (the ID from GET auth/tokens).",
    )
    def delete(self, request, token_id):
        if not services.member_token_end(user=request.user, token_id=token_id):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the member's own record -------------------------------------------------------------------------


class MeApi(APIView):
    class ProfileInput(StrictInput):
        name = name_field(required=False)
        email = email_field(required=False)
        language = serializers.ChoiceField(
            choices=settings.LANGUAGES,
            required=False,
            help_text="The language of the member's emails, and of their pages when nothing else "
            "chooses one.",
        )

    @extend_schema(
        responses={200: MemberOutput, 401: _NO_TOKEN},
        description="The member this token belongs to: their profile, whether their email address is "
        "confirmed (needed to order), a new address awaiting confirmation, and their language.",
    )
    def get(self, request):
        return Response(MemberOutput(request.user).data)

    @extend_schema(
        request=ProfileInput,
        responses={
            200: MemberOutput,
            400: _error(
                f"{_INVALID}; or the new email address belongs to another account. Nothing is changed."
            ),
            401: _NO_TOKEN,
        },
        description=(
            "Change the member's name, email address or language; a field left out stays as it is. "
            "A new email address takes effect once the member opens the link emailed to it "
            "(`pending_email` until then; the current address is told of the request); confirming it "
            "ends every token. Asking for the current address again cancels a pending change."
        ),
    )
    def patch(self, request):
        data = self.ProfileInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.member_update(user=request.user, **data.validated_data)
        return Response(MemberOutput(request.user).data)


class ConfirmationResendApi(APIView):
    @extend_schema(
        request=None,
        responses={
            202: None,
            400: _NOT_AN_OBJECT,
            401: _NO_TOKEN,
            409: _error("Nothing awaits confirmation: the address is confirmed and no change is pending."),
            429: _error(
                "The link was sent again too often to this address "
                "(CONFIRMATION_RESEND_LIMIT_PER_HOUR in a rolling hour)."
            ),
        },
        parameters=[_retry_after("Seconds until the link may be sent again.")],
        description=(
            "Send again the confirmation link of what awaits confirmation: a new email address "
            "(`pending_email`), or else the address registered with. Each link sent is good for "
            f"{settings.EMAIL_CONFIRMATION_TIMEOUT // 86400} days. Send no body (or `{{}}`)."
        ),
    )
    def post(self, request):
        NoInput(data=request.data).is_valid(raise_exception=True)
        try:
            services.member_confirmation_resend(user=request.user)
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "nothing_to_confirm":
                raise Conflict(exc.messages[0]) from None
            raise _api_error(exc) from None
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordChangeApi(APIView):
    class PasswordChangeInput(StrictInput):
        current_password = password_field()
        new_password = new_password_field()

    @extend_schema(
        request=PasswordChangeInput,
        responses={
            200: TokenOutput,
            400: _error(
                f"{_INVALID}; or the current password is wrong (`errors.current_password`), or the new "
                "one is refused by the rules above (`errors.new_password`). Nothing is changed."
            ),
            401: _NO_TOKEN,
            429: _LOCKED_OUT,
        },
        parameters=[_retry_after("Seconds until the password may be tried again from this address.")],
        description=(
            "Change the member's password. A wrong current password counts as a failed login of the "
            "member's login ID (the login's lockout and slowdown apply). A new password ends every "
            "token and browser session of the member, this token included: the answer carries a new "
            "token for this client."
        ),
    )
    def post(self, request):
        data = self.PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        django_request = request._request
        checked = authenticate(
            django_request, username=request.user.login_id, password=data.validated_data["current_password"]
        )
        if getattr(django_request, "axes_locked_out", False):
            return lockout_response(django_request)
        if checked is None or checked.pk != request.user.pk:
            raise DjangoValidationError(
                {"current_password": [_("Your old password was entered incorrectly. Please enter it again.")]}
            )
        created = services.member_password_change(
            user=request.user,
            checked_hash=checked.password,
            new_password=data.validated_data["new_password"],
            client=describe_client(request.META.get("HTTP_USER_AGENT", "")),
        )
        instance, token = created
        return Response(TokenOutput({"token": token, "expiry": instance.expiry}).data)


# --- links from emails, and the forgotten password ------------------------------------------------------

_LINK_UID = "The link's second-to-last path segment: the account, in URL-safe base64."
_LINK_TOKEN = "The link's last path segment."  # noqa: S105 - a description


class ConfirmEmailApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class ConfirmEmailInput(StrictInput):
        uid = link_part_field(_LINK_UID)
        token = link_part_field(_LINK_TOKEN)

    class ConfirmEmailOutput(serializers.Serializer):
        confirmed = serializers.ChoiceField(
            choices=[services.ConfirmationResult.REGISTRATION, services.ConfirmationResult.EMAIL_CHANGE],
            help_text="`registration`: the address registered with; `email_change`: a new address, "
            "now the member's (every token has ended: log in again).",
        )

    @extend_schema(
        request=ConfirmEmailInput,
        responses={
            200: ConfirmEmailOutput,
            400: _error(
                f"{_INVALID}; or the link is invalid, expired or used (`errors.token`), or the new "
                "address was registered by another account meanwhile (`errors.email`)."
            ),
        },
        auth=[],
        description=(
            "Confirm an email address with the link emailed at registration or on a change of "
            "address (`…/accounts/confirm/<uid>/<token>/`), as its page's button does; no token is "
            "needed. A link is good for "
            f"{settings.EMAIL_CONFIRMATION_TIMEOUT // 86400} days and once. Confirming a new address "
            "ends every token and browser session of the member."
        ),
    )
    def post(self, request):
        data = self.ConfirmEmailInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            _user, result = services.member_confirm_email(
                user_id=_user_id(data.validated_data["uid"]), token=data.validated_data["token"]
            )
        except DjangoValidationError as exc:
            raise _api_error(exc, {"invalid_link": "token", "email_taken": "email"}) from None
        return Response(self.ConfirmEmailOutput({"confirmed": result}).data)


class PasswordResetApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class PasswordResetInput(StrictInput):
        email = email_field()

    @extend_schema(
        request=PasswordResetInput,
        responses={
            202: None,
            400: _error(f"{_INVALID}. Says nothing of whether the address is registered."),
            429: _error(
                "Too many requests from this client address (PASSWORD_RESET_LIMIT_PER_IP an hour) or for "
                "this email address (PASSWORD_RESET_LIMIT_PER_EMAIL an hour, registered or not); the "
                "limits are the reset page's, in the same counters."
            ),
        },
        parameters=[_retry_after("Seconds until a reset may be asked for again.")],
        auth=[],
        description=(
            "Ask for a password reset link. When an active account has this address, the link is "
            "emailed to it (good for "
            f"{settings.PASSWORD_RESET_TIMEOUT // 60} minutes and once: "
            "`…/accounts/password/reset/<uid>/<token>/`, see `POST /api/v1/auth/password-reset/confirm`); "
            "the answer is the same either way."
        ),
    )
    def post(self, request):
        data = self.PasswordResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.member_request_password_reset(
                email=data.validated_data["email"], ip=client_ip(request._request)
            )
        except DjangoValidationError as exc:
            raise _api_error(exc) from None
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class PasswordResetConfirmInput(StrictInput):
        uid = link_part_field(_LINK_UID)
        token = link_part_field(_LINK_TOKEN)
        new_password = new_password_field()

    @extend_schema(
        request=PasswordResetConfirmInput,
        responses={
            204: None,
            400: _error(
                f"{_INVALID}; or the link is invalid, expired or used (`errors.token`), or the new "
                "password is refused by the rules above (`errors.new_password`). Nothing is changed."
            ),
        },
        auth=[],
        description=(
            "Set a new password with the link of a password reset email, as its page does; no "
            "token is needed. Ends every token and browser session of the member; log in with the "
            "new password (`POST /api/v1/auth/token`)."
        ),
    )
    def post(self, request):
        data = self.PasswordResetConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.member_password_reset(
            user_id=_user_id(data.validated_data["uid"]),
            token=data.validated_data["token"],
            new_password=data.validated_data["new_password"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
