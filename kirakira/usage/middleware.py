"""Records every request of a logged-in member in the usage log (policy C1).

The row is written after the response is built, with one INSERT statement: one round trip to
the database, and no model instance or query compilation on the way (the log is on every page,
so its cost is paid on every page; see ``bench/usage_log.py``). On PostgreSQL the statement
also sets ``synchronous_commit = off`` for its own transaction only, with
``set_config(..., true)`` in its ``RETURNING`` clause, which runs before the commit: a crash
may lose the last fraction of a second of log rows, an acceptable trade for not waiting on a
disk flush in every request. (The same in a transaction, ``BEGIN``, ``SET LOCAL``, the ORM's
``INSERT``, ``COMMIT``, took four round trips and measured 2.5 times slower; see
``bench/RESULTS.md``.) Inside a transaction someone else
opened, the row is inserted in a savepoint with the transaction's own durability. A failure to
log never fails the member's request.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from kirakira.common import clock
from kirakira.common.client_ip import client_ip

from .models import UsageRecord

logger = logging.getLogger(__name__)

ROUTE_MAX = UsageRecord._meta.get_field("route").max_length
# The columns written, in the order of the values _record() passes.
FIELDS = tuple(
    UsageRecord._meta.get_field(name)
    for name in ("member", "occurred_at", "ip_address", "method", "route", "status_code")
)
_sql_cache: dict[tuple[str, bool], str] = {}


def _insert_sql(async_commit: bool) -> str:
    key = (connection.vendor, async_commit)
    sql = _sql_cache.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        # Identifiers from the model, quoted by the backend; the values are all parameters.
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
            quote(UsageRecord._meta.db_table),
            ", ".join(quote(field.column) for field in FIELDS),
            ", ".join(["%s"] * len(FIELDS)),
        )
        if async_commit:
            sql += " RETURNING set_config('synchronous_commit', 'off', true)"
        _sql_cache[key] = sql
    return sql


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
        route = _route_name(request)
        values = (user.pk, started, client_ip(request), request.method[:10], route, response.status_code)
        try:
            # The fields' own conversions, exactly as Model.save() would apply them.
            params = [
                field.get_db_prep_save(value, connection) for field, value in zip(FIELDS, values, strict=True)
            ]
            if connection.get_autocommit():
                with connection.cursor() as cursor:
                    cursor.execute(_insert_sql(async_commit=connection.vendor == "postgresql"), params)
            else:
                # In someone else's transaction: a savepoint, so a failure cannot poison it.
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(_insert_sql(async_commit=False), params)
        except DatabaseError:
            logger.warning("usage log: could not record a request to route %s", route)
