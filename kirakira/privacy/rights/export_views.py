"""Downloading an export: the member's page link, and what the API's download shares with it.

The file is the member's alone and only while its link works (7 days): another member's
request is a 404, like one that does not exist; an expired link is a 410. The file is streamed
as it is decrypted, never held whole, and never cached. Each download is logged by request ID
(nothing personal: the request ID leads the privacy officer to the rest).
"""

import itertools
import logging
import uuid

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views import View

from kirakira.privacy.crypto.datakeys import DestroyedKey

from . import export_files, services
from .models import Kind, RightsRequest, Status

logger = logging.getLogger("kirakira.privacy.rights")


class Gone(Exception):
    """The link has expired, or the file is no longer there."""


def expired_message() -> str:
    return _("The download link has expired and the file is deleted. You can ask for a new one.")


def own_export(member, request_id) -> RightsRequest:
    """The member's export whose file is ready; ``Http404`` for anyone else's, a malformed ID
    or one not ready yet, ``Gone`` once its link has expired."""
    try:
        request_id = uuid.UUID(str(request_id))
    except ValueError:
        raise Http404 from None
    request = RightsRequest.objects.filter(pk=request_id, member=member, kind=Kind.EXPORT).first()
    if request is None or request.status != Status.DONE:
        raise Http404
    if not request.link_valid():
        raise Gone
    return request


def download(request: RightsRequest) -> StreamingHttpResponse:
    """The ZIP as a download. The first chunk is read before answering, so a missing or damaged
    file is ``Gone`` rather than a download that breaks off."""
    chunks = export_files.read(request)
    try:
        first = next(chunks, b"")
    except (export_files.ExportFileError, DestroyedKey):
        raise Gone from None
    response = StreamingHttpResponse(itertools.chain([first], chunks), content_type="application/zip")
    # file_name is ours and ASCII ("kirakira-my-data-YYYYMMDD.zip").
    response["Content-Disposition"] = f'attachment; filename="{request.file_name}"'
    if request.file_size is not None:
        response["Content-Length"] = str(request.file_size)
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    services.export_downloaded(request.pk)
    logger.info("export downloaded: request %s", request.pk)
    return response


class ExportDownloadView(LoginRequiredMixin, View):
    def get(self, request, request_id):
        try:
            return download(own_export(request.user, request_id))
        except Gone:
            context = {"title": _("Download my data"), "message": expired_message()}
            return render(request, "common/error.html", context, status=410)
