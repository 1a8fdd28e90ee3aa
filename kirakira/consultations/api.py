"""The consultations API: a member's own consultations, their threads and files.

A consultation or a message is sent as JSON, or as ``multipart/form-data`` when it carries files
(``attachments``, as many as the page takes). Either way the services check every value with the
pages' rules and messages. The input serializers state the services' limits, from the same
constants and with the same messages, so the schema a client is generated from says what the
server enforces (``tests/test_consultations_api_contract.py`` compares them).
"""

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.http import Http404
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput
from kirakira.api.fields import StrictCharField
from kirakira.api.inputs import ApiInput
from kirakira.api.pagination import list_parameters, page_of, paginate
from kirakira.api.parsers import JSONParser, max_body_bytes
from kirakira.orders.normalization import PHONE_DIGITS_MAX, PHONE_DIGITS_MIN, PHONE_MAX

from . import selectors, services
from .attachments import ALLOWED, MAX_BYTES, MAX_FILES
from .models import BODY_MAX, REOPEN_DAYS, SUBJECT_MAX, AuthorKind, Category, Status
from .views import download

# A callback number as the schema states it: an optional leading +, then digits, spaces,
# hyphens and brackets with PHONE_DIGITS_MIN to PHONE_DIGITS_MAX digits (the schema adds the
# empty string, for none). The service reads full-width digits and Japanese dashes as these too,
# and trims the ends.
PHONE_PATTERN = rf"^\+?[ ()\-]*(?:[0-9][ ()\-]*){{{PHONE_DIGITS_MIN},{PHONE_DIGITS_MAX}}}$"
# Not only white space: what the services mean by "required" (they trim first).
NOT_BLANK = r"\S"
FILE_TYPES = ", ".join(sorted(ALLOWED))
_MB = MAX_BYTES // (1024 * 1024)


def _formatted(message, **params) -> str:
    """``message`` (a lazy translation) with ``params``, translated when it is shown."""
    return lazy(lambda: str(message) % params, str)()


# The services' own messages (the same msgids, so the same translations): a value refused here
# reads as it would from the service or on the page.
SUBJECT_REQUIRED = _("Enter a subject.")
SUBJECT_TOO_LONG = _formatted(_("The subject is at most %(max)d characters long."), max=SUBJECT_MAX)
BODY_REQUIRED = _("Write your message.")
BODY_TOO_LONG = _formatted(_("A message is at most %(max)d characters long."), max=BODY_MAX)
CATEGORY_INVALID = _("Choose a category.")
FILES_TOO_MANY = lazy(
    lambda: (
        ngettext("You can attach at most %(max)d file.", "You can attach at most %(max)d files.", MAX_FILES)
        % {"max": MAX_FILES}
    ),
    str,
)()
PHONE_INVALID = _formatted(
    _(
        "Enter a phone number of %(min)d to %(max)d digits (digits, spaces, hyphens, brackets and a leading + only)."
    ),
    min=PHONE_DIGITS_MIN,
    max=PHONE_DIGITS_MAX,
)


def _text(*, maximum: int, required, too_long, **kwargs) -> StrictCharField:
    """Text the service requires: not blank, at most ``maximum`` characters as sent. The service
    trims it, reads CRLF as one line break and refuses invisible characters; counting the text as
    sent keeps the schema's ``maxLength`` exact."""
    return StrictCharField(
        trim_whitespace=False,
        validators=[
            MaxLengthValidator(maximum, message=too_long),
            RegexValidator(NOT_BLANK, message=required),
        ],
        error_messages={"required": required, "blank": required},
        **kwargs,
    )


@extend_schema_field(
    {
        "type": "string",
        "maxLength": PHONE_MAX,
        "pattern": PHONE_PATTERN,
        "description": "A number to call back, or empty for none: "
        f"{PHONE_DIGITS_MIN} to {PHONE_DIGITS_MAX} digits, with spaces, hyphens, brackets and a leading + "
        "if you like. Full-width digits and Japanese dashes are read as these.",
    }
)
class CallbackPhoneField(StrictCharField):
    """The length is checked here (as sent, as the schema says); the rest by the service, which
    also reads full-width forms, so the pattern cannot be a plain regex check here."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [MaxLengthValidator(PHONE_MAX, message=PHONE_INVALID)])
        super().__init__(trim_whitespace=False, **kwargs)


def _subject():
    return _text(
        maximum=SUBJECT_MAX,
        required=SUBJECT_REQUIRED,
        too_long=SUBJECT_TOO_LONG,
        help_text="One line, without invisible or control characters.",
    )


def _body():
    return _text(
        maximum=BODY_MAX,
        required=BODY_REQUIRED,
        too_long=BODY_TOO_LONG,
        help_text="Line breaks allowed; no invisible or control characters (tabs are fine).",
    )


def _attachments():
    return serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        max_length=MAX_FILES,
        error_messages={"max_length": FILES_TOO_MANY},
        help_text=f"Up to {MAX_FILES} files of at most {_MB} MB each, each an image or a PDF "
        f"({FILE_TYPES}), told by its content, with a file name to match; scanned for viruses "
        "when a scanner is configured.",
    )


# --- output -----------------------------------------------------------------------------------


class AttachmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    filename = serializers.CharField()
    content_type = serializers.ChoiceField(choices=sorted(ALLOWED))
    size = serializers.IntegerField(help_text="In bytes.")
    url = serializers.SerializerMethodField(help_text="Where to download the file (with the same token).")

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment) -> str:
        # attachment.message is cached by the thread's prefetch: no query per file.
        path = reverse(
            "api_v1:consultation-attachment",
            kwargs={"consultation_id": attachment.message.consultation_id, "attachment_id": attachment.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


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
    reopen_until = serializers.DateTimeField(
        allow_null=True,
        help_text=f"While closed: until when it may be reopened ({REOPEN_DAYS} days after closing).",
    )


class ConsultationDetailOutput(ConsultationOutput):
    messages = serializers.SerializerMethodField()

    @extend_schema_field(MessageOutput(many=True))
    def get_messages(self, consultation):
        return MessageOutput(selectors.thread(consultation), many=True, context=self.context).data


# --- helpers ----------------------------------------------------------------------------------


def _detail(request, consultation):
    return ConsultationDetailOutput(consultation, context={"request": request}).data


def _uuid_or_404(value) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


def _consultation_or_404(request, consultation_id):
    return selectors.consultation_of(request.user, _uuid_or_404(consultation_id))


class AttachmentsTooLarge(ApiValidationError):
    """A file over its size, as field errors naming it, with the status of a body too large."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def _only_files_too_large(exc) -> bool:
    errors = getattr(exc, "error_dict", None)
    return (
        errors is not None
        and set(errors) == {"attachments"}
        and all(error.code == "too_large" for error in errors["attachments"])
    )


def _api_error(exc: DjangoValidationError) -> Exception:
    """The API's answer to a service's ``ValidationError``."""
    code = getattr(exc, "code", None)
    if code == "rate_limited":
        return Throttled(wait=exc.params["retry_after"], detail=exc.messages[0])
    if code == "not_found":
        return Http404()
    if _only_files_too_large(exc):
        return AttachmentsTooLarge(exc.message_dict)
    return exc


class TakesFiles:
    """A view that takes JSON, or ``multipart/form-data`` with files.

    The API middleware refuses any body over ``API_MAX_BODY_BYTES`` before it is read; a
    multipart body to such a view gets ``upload_max_bytes()`` instead. Files stream to disk
    (``FILE_UPLOAD_HANDLERS``), each capped at its largest size while it arrives.
    """

    parser_classes = [JSONParser, MultiPartParser]

    @staticmethod
    def upload_max_bytes() -> int:
        """The most files of the largest size, with room for the text fields."""
        return MAX_FILES * MAX_BYTES + max_body_bytes()

    @staticmethod
    def is_upload(request) -> bool:
        return request.content_type.split(";")[0].strip().lower() == "multipart/form-data"


def _upload_note() -> str:
    return (
        f"Send JSON, or `multipart/form-data` with the same fields and up to {MAX_FILES} files as "
        "`attachments` (one part per file). A multipart body must state its Content-Length and may "
        f"be at most {MAX_FILES} × {_MB} MB plus API_MAX_BODY_BYTES ({TakesFiles.upload_max_bytes()} "
        "bytes here); a JSON body at most API_MAX_BODY_BYTES."
    )


_ID = OpenApiParameter("consultation_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
_ATTACHMENT_ID = OpenApiParameter("attachment_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
_RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before opening another consultation.",
)
_UNAUTHORIZED = OpenApiResponse(ErrorOutput, description="No valid token.")
_NOT_FOUND = OpenApiResponse(ErrorOutput, description="No such consultation of the caller's.")
_TOO_LARGE = OpenApiResponse(
    ErrorOutput,
    description=f"A file is larger than {_MB} MB (`errors.attachments` names it), or the whole body is "
    "over its limit (see the description); nothing is stored.",
)
_LENGTH_REQUIRED = OpenApiResponse(
    ErrorOutput, description="A multipart body without Content-Length; nothing is read."
)
_STATE = OpenApiResponse(
    ErrorOutput,
    description="The consultation is not in a state that allows this (`errors.non_field_errors`).",
)


# --- views ------------------------------------------------------------------------------------


class ConsultationsApi(TakesFiles, APIView):
    class OpenInput(ApiInput):
        category = serializers.ChoiceField(
            choices=Category.choices,
            error_messages={"required": CATEGORY_INVALID, "invalid_choice": CATEGORY_INVALID},
        )
        subject = _subject()
        body = _body()
        order = serializers.UUIDField(
            required=False, allow_null=True, help_text="One of the caller's orders, or null."
        )
        callback_phone = CallbackPhoneField(required=False, allow_blank=True)

    class OpenUpload(OpenInput):
        attachments = _attachments()

    @extend_schema(
        operation_id="v1_consultations_list",
        parameters=list_parameters(statuses=Status),
        responses={
            200: page_of(ConsultationOutput),
            400: OpenApiResponse(
                ErrorOutput,
                description="A bad `page_size`, `cursor`, `status` or `ordering`, named in `errors`.",
            ),
            401: _UNAUTHORIZED,
        },
    )
    def get(self, request):
        """The caller's consultations, a page at a time: newest first (or oldest first with
        `ordering=created_at`), of one `status` if given. Follow `next` for the next page."""
        return paginate(
            request,
            self,
            selectors.consultations_of(request.user),
            ConsultationOutput,
            statuses=Status,
            context={"request": request},
        )

    @extend_schema(
        description="Open a consultation. Staff answer in its thread, and an email says so. "
        + _upload_note(),
        request={"application/json": OpenInput, "multipart/form-data": OpenUpload},
        parameters=[_RETRY_AFTER],
        responses={
            201: ConsultationDetailOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description="Invalid input, each problem named in `errors` (files under `attachments`); "
                "nothing is stored.",
            ),
            401: _UNAUTHORIZED,
            411: _LENGTH_REQUIRED,
            413: _TOO_LARGE,
            429: OpenApiResponse(
                ErrorOutput,
                description="The caller opened CONSULTATION_MEMBER_LIMIT_PER_HOUR consultations in the "
                "last hour; Retry-After says when to try again.",
            ),
        },
    )
    def post(self, request):
        data = (self.OpenUpload if self.is_upload(request) else self.OpenInput)(data=request.data)
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
                files=values.get("attachments", ()),
                language=get_language(),
            )
        except DjangoValidationError as exc:
            raise _api_error(exc) from None
        return Response(_detail(request, consultation), status=status.HTTP_201_CREATED)


class ConsultationDetailApi(APIView):
    @extend_schema(
        parameters=[_ID],
        responses={200: ConsultationDetailOutput, 401: _UNAUTHORIZED, 404: _NOT_FOUND},
    )
    def get(self, request, consultation_id):
        """One of the caller's consultations with its thread, oldest message first (staff's
        internal notes are never shown)."""
        return Response(_detail(request, _consultation_or_404(request, consultation_id)))


class ConsultationMessagesApi(TakesFiles, APIView):
    class MessageInput(ApiInput):
        body = _body()

    class MessageUpload(MessageInput):
        attachments = _attachments()

    @extend_schema(
        description="Write in one of the caller's consultations (an answered one goes back to staff). "
        "A closed one must be reopened first. " + _upload_note(),
        parameters=[_ID],
        request={"application/json": MessageInput, "multipart/form-data": MessageUpload},
        responses={
            201: MessageOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description="Invalid input (named in `errors`), or the consultation is closed "
                "(`errors.non_field_errors`); nothing is stored.",
            ),
            401: _UNAUTHORIZED,
            404: _NOT_FOUND,
            411: _LENGTH_REQUIRED,
            413: _TOO_LARGE,
        },
    )
    def post(self, request, consultation_id):
        consultation = _consultation_or_404(request, consultation_id)
        data = (self.MessageUpload if self.is_upload(request) else self.MessageInput)(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            message = services.requester_reply(
                consultation_id=consultation.pk,
                body=data.validated_data["body"],
                files=data.validated_data.get("attachments", ()),
                member=request.user,
            )
        except DjangoValidationError as exc:
            raise _api_error(exc) from None
        return Response(
            MessageOutput(message, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


def _change_state(request, consultation_id, service):
    """Close or reopen: no input. A body, if one is sent, is still parsed, so that a malformed
    or hostile one is refused as on every other endpoint rather than silently ignored."""
    consultation = _consultation_or_404(request, consultation_id)
    request.data  # noqa: B018 - parsed for its errors only
    try:
        consultation = service(consultation_id=consultation.pk, member=request.user)
    except DjangoValidationError as exc:
        raise _api_error(exc) from None
    return Response(_detail(request, consultation))


class ConsultationCloseApi(APIView):
    @extend_schema(
        parameters=[_ID],
        request=None,
        responses={200: ConsultationDetailOutput, 400: _STATE, 401: _UNAUTHORIZED, 404: _NOT_FOUND},
    )
    def post(self, request, consultation_id):
        """Close one of the caller's open or answered consultations, as on its page. It can be
        reopened within 30 days (`reopen_until`)."""
        return _change_state(request, consultation_id, services.consultation_close)


class ConsultationReopenApi(APIView):
    @extend_schema(
        parameters=[_ID],
        request=None,
        responses={
            200: ConsultationDetailOutput,
            400: OpenApiResponse(
                ErrorOutput,
                description="The consultation is not closed, or closed more than 30 days ago "
                "(`errors.non_field_errors`; open a new one then).",
            ),
            401: _UNAUTHORIZED,
            404: _NOT_FOUND,
        },
    )
    def post(self, request, consultation_id):
        """Reopen one of the caller's closed consultations within 30 days of its closing, as on
        its page; then the caller can write in it again."""
        return _change_state(request, consultation_id, services.consultation_reopen)


class _AnyAccept(DefaultContentNegotiation):
    """A file is sent as what it is, whatever the client said it accepts (a generated client may
    ask for one image type only); errors are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ConsultationAttachmentApi(APIView):
    content_negotiation_class = _AnyAccept

    @extend_schema(
        parameters=[_ID, _ATTACHMENT_ID],
        responses={
            **{(200, media_type): OpenApiTypes.BINARY for media_type in sorted(ALLOWED)},
            401: _UNAUTHORIZED,
            404: OpenApiResponse(ErrorOutput, description="No such file in a consultation of the caller's."),
        },
    )
    def get(self, request, consultation_id, attachment_id):
        """A file of a message in one of the caller's consultations (the `url` of an attachment),
        as a download with its name and type."""
        consultation = _consultation_or_404(request, consultation_id)
        attachment = selectors.attachment_in(consultation, _uuid_or_404(attachment_id))
        response = download(attachment)
        # A file never changes: its ID tags it. (The no-store of a download would otherwise keep
        # ConditionalGetMiddleware from giving it the ETag every GET of the API carries.)
        response["ETag"] = f'"{attachment.pk}"'
        return response
