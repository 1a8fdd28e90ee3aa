"""Lists of the API: cursor pages, a status filter and an ordering, all checked.

DRF's ``CursorPagination`` gives stable pages while rows are added (a member's new order does not
shift the next page) and an opaque cursor. What it does not do is refuse bad input: a page size
of 0, -1 or 10,000 silently becomes the default or the maximum, and an unknown cursor is a 404.
Here each is a 400 in the API's one error shape, naming the parameter, so a client learns of its
mistake instead of reading a page it did not ask for.

A list view calls :func:`paginate` with its queryset and output serializer, and documents itself
with :func:`list_parameters` and :func:`page_of`::

    @extend_schema(parameters=list_parameters(statuses=OrderStatus), responses={200: page_of(OrderOutput)})
    def get(self, request):
        return paginate(request, self, orders_of(request.user), OrderOutput, statuses=OrderStatus)
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import TextChoices
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def orderings(field: str) -> tuple[str, str]:
    """Newest first (the default) or oldest first, by ``field``."""
    return (f"-{field}", field)


class CheckedCursorPagination(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def __init__(self, field: str = "created_at"):
        self.orderings = orderings(field)
        self.ordering = self.orderings[0]

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # isdigit() alone takes "²" or "١٠", which int() refuses or reads as digits.
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get("ordering")
        if raw is None:
            raw = self.ordering
        elif raw not in self.orderings:
            raise ValidationError(
                {"ordering": [_("Use one of: %(values)s.") % {"values": ", ".join(self.orderings)}]}
            )
        # The primary key breaks ties: rows of the same time would otherwise come in any order
        # from one page's query to the next (PostgreSQL does so), and be listed twice or never.
        return (raw, "-pk" if raw.startswith("-") else "pk")

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except DjangoValidationError:
            # A well-formed cursor whose position is not a value of the field (a crafted one).
            raise self._bad_cursor() from None

    def _bad_cursor(self) -> ValidationError:
        return ValidationError(
            {self.cursor_query_param: [_("This cursor is not valid: start again from the first page.")]}
        )

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise self._bad_cursor() from None
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not _names_a_position(encoded):
            # DRF reads any undecodable text as "the first page": a client would loop for ever.
            raise self._bad_cursor()
        return cursor


def _names_a_position(encoded: str) -> bool:
    """Whether a cursor decodes to at least one of the fields DRF's cursors carry."""
    from base64 import b64decode
    from binascii import Error as Base64Error
    from urllib.parse import parse_qs

    try:
        tokens = parse_qs(b64decode(encoded.encode("ascii")).decode("ascii"), keep_blank_values=True)
    except (UnicodeError, ValueError, Base64Error):
        return False
    return bool(tokens) and set(tokens) <= {"o", "r", "p"}


def filter_status(request, queryset, statuses: type[TextChoices] | None):
    """``?status=`` narrows the list to one of ``statuses``; anything else is a 400."""
    raw = request.query_params.get("status")
    if statuses is None or raw is None:
        return queryset
    if raw not in statuses.values:
        raise ValidationError({"status": [_("Use one of: %(values)s.") % {"values": ", ".join(statuses.values)}]})
    return queryset.filter(status=raw)


def paginate(
    request,
    view,
    queryset,
    serializer_class,
    *,
    statuses: type[TextChoices] | None = None,
    field: str = "created_at",
    context=None,
    represent=None,
):
    """One page of ``queryset``, each item by ``serializer_class`` or, where a serializer costs
    too much per row, by ``represent(item)`` (``serializer_class`` still documents the shape)."""
    paginator = CheckedCursorPagination(field)
    queryset = filter_status(request, queryset, statuses)
    page = paginator.paginate_queryset(queryset, request, view=view)
    if represent is not None:
        data = [represent(item) for item in page]
    else:
        data = serializer_class(page, many=True, context=context or {}).data
    return paginator.get_paginated_response(data)


def list_parameters(
    *, statuses: type[TextChoices] | None = None, field: str = "created_at"
) -> list[OpenApiParameter]:
    parameters = [
        OpenApiParameter("cursor", OpenApiTypes.STR, description="The `next` or `previous` link's cursor."),
        OpenApiParameter(
            "page_size",
            # The bounds get_page_size enforces, so that the schema admits no size the server refuses.
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            description=f"Items per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
        ),
        OpenApiParameter(
            "ordering", OpenApiTypes.STR, enum=list(orderings(field)), description="Newest first by default."
        ),
    ]
    if statuses is not None:
        parameters.append(OpenApiParameter("status", OpenApiTypes.STR, enum=list(statuses.values)))
    return parameters


def page_of(serializer_class) -> serializers.Serializer:
    """The schema of one page of ``serializer_class`` items."""
    name = serializer_class.__name__.removesuffix("Output")
    return inline_serializer(
        f"{name}Page",
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
