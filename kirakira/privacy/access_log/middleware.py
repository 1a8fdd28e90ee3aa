from django.db import transaction

from . import collector
from .services import _is_staff, record_request


class StaffAccessLogMiddleware:
    """For a signed-in member of staff, watches which data subjects' rows the request loads and
    writes one access-log row naming them before the answer leaves. Placed after the
    authentication middlewares. If the row cannot be written the page is not served (an
    error page instead): nobody sees data the log does not know they saw."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if not _is_staff(user):
            return self.get_response(request)
        token = collector.start(user, request)
        try:
            response = self.get_response(request)
            collection = collector.current()
            # A streamed download has loaded its rows by now: only the bytes are still to go.
            with transaction.atomic():
                record_request(request, collection, response.status_code)
            return response
        finally:
            collector.stop(token)
