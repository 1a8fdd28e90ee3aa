"""The member's order list as rows of display strings, built in Python.

The list page spent most of its time in Django's template engine resolving five attributes, a
URL and a choice label per order (``get_FOO_display`` hashes every lazy label on each call); a
row here is one tuple of strings made with per-request lookups, so the template only prints.
"""

import uuid
from typing import NamedTuple

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import get_language

from kirakira.common.templatetags.kirakira import yen

from .models import OrderStatus

_PLACEHOLDER = uuid.UUID(int=0)
_NAME_COLUMNS = {"ja": 0, "en": 1, "ko": 2}


class OrderRow(NamedTuple):
    pk: object
    url: str
    reference: str
    service: str
    price: str
    status: str
    ordered_on: str


def order_rows(values) -> list[OrderRow]:
    """``values``: rows of ``selectors.order_rows_of``."""
    # One reverse() for the page: the detail URLs differ only in the order's ID.
    url = reverse("orders:detail", args=[_PLACEHOLDER])
    placeholder = str(_PLACEHOLDER)
    status = {value: str(label) for value, label in OrderStatus.choices}
    column = _NAME_COLUMNS.get((get_language() or "ja")[:2], 0)
    rows = []
    for pk, reference, name_ja, name_en, name_ko, price_yen, state, created_at in values:
        names = (name_ja, name_en, name_ko)
        rows.append(
            OrderRow(
                pk=pk,
                url=url.replace(placeholder, str(pk)),
                reference=reference,
                service=names[column] or name_ja,
                price=yen(price_yen),
                status=status.get(state, state),
                ordered_on=formats.date_format(timezone.localtime(created_at), "DATE_FORMAT"),
            )
        )
    return rows
