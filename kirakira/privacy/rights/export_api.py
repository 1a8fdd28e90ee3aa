"""``GET /api/v1/privacy/exports/{id}/download``: the caller's export, as the member's page
gives it (``export_views``): the ZIP while its link works, to its member alone."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput

from .export_views import Gone, download, expired_message, own_export


class LinkExpired(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "expired"


class _AnyAccept(DefaultContentNegotiation):
    """The file is sent as a ZIP whatever the client says it accepts; errors are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


_REQUEST_ID = OpenApiParameter(
    "request_id",
    {"type": "string", "format": "uuid"},
    OpenApiParameter.PATH,
    description="The export request's `id` (from `POST /api/v1/privacy/requests`).",
)


class ExportDownloadApi(APIView):
    content_negotiation_class = _AnyAccept

    @extend_schema(
        summary="Download the caller's data",
        description="The ZIP of an export request of the caller's once its `status` is `done` (its "
        "`download_url`): `data.json` (every record held about the caller), `schema.json` (its JSON "
        "Schema), `index.html` (the same for a person) and the consultations' files under "
        "`attachments/`. The link works for 7 days after the file is ready, then answers 410 and "
        "the file is deleted; ask for a new export then. Streamed, never cached; every download is "
        "logged.",
        parameters=[_REQUEST_ID],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The ZIP, as an attachment named `kirakira-my-data-YYYYMMDD.zip`.",
            ),
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            404: OpenApiResponse(
                ErrorOutput,
                description="No export of the caller's with this ID, or it is not ready yet (another "
                "member's is answered the same).",
            ),
            410: OpenApiResponse(
                ErrorOutput, description="The link has expired (7 days) and the file is deleted."
            ),
        },
    )
    def get(self, request, request_id):
        try:
            return download(own_export(request.user, request_id))
        except Gone:
            raise LinkExpired(expired_message()) from None
