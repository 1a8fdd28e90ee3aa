"""Records every request of a logged-in member in the usage log (policy C1).

The row is written after the response is built, with one INSERT. On PostgreSQL the insert
commits with ``synchronous_commit = off``: a crash may lose the last fraction of a second of
log rows, which is an acceptable trade for not waiting on a disk flush in every request. A
failure to log never fails the member's request.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from kirakira.common import clock
from kirakira.common.client_ip import client_ip

from .models import UsageRecord

logger = logging.getLogger(__name__)

ROUTE_MAX = UsageRecord._meta.get_field("route").max_length


def _route_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None or not match.view_name:
        return "-"  # no route matched (a 404): the path itself is never stored
    return match.view_name[:ROUTE_MAX]


class UsageLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = clock.now()
        response = self.get_response(request)
        if settings.USAGE_LOG_ENABLED:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and not user.is_staff:
                self._record(request, response, user, started)
        return response

    def _record(self, request, response, user, started) -> None:
        record = UsageRecord(
            member_id=user.pk,
            occurred_at=started,
            ip_address=client_ip(request),
            method=request.method[:10],
            route=_route_name(request),
            status_code=response.status_code,
        )
        try:
            if connection.vendor == "postgresql" and connection.get_autocommit():
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit TO OFF")
                    record.save(force_insert=True)
            else:
                record.save(force_insert=True)
        except DatabaseError:
            logger.warning("usage log: could not record a request to route %s", record.route)
