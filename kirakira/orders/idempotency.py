"""Orders and cancellations happen once, however often they are asked for.

A request can arrive twice: an API client retries a ``POST /api/v1/orders`` whose answer it did
not receive (a dropped connection, a timeout), a browser sends a form again (a double click, a
reload, the back button). Each such request carries a key: the ``Idempotency-Key`` header the
client chose, or the one-time token drawn when the form was shown. The first request with a key
claims it — an ``IdempotencyKey`` row, unique per member, scope and key — in the same
transaction as the order or the cancellation it makes, so the key is spent if and only if the
write commits. A repeat finds the row and answers the first result instead of writing again.

Concurrent repeats: on PostgreSQL the second INSERT of the same key waits for the first
transaction (the unique index) and then fails; it rolls back to a savepoint and reads the
winner's row, now committed. On SQLite the IMMEDIATE transaction serialises writers, so the
second request finds the row at once. Either way one order is made and every request answers
it. A request that fails (bad input, an unconfirmed member) rolls back its claim too, so the
client may send it again, corrected, with the same key.

Only keyed hashes are stored (the blind-index key): of the key, which a client may have built
from anything, and of the request, to tell a true repeat from another request reusing a key
(refused). A key is honoured for ``WINDOW``; older rows are disposable and deleted by
:func:`idempotency_keys_prune`.
"""

import hmac
import json
import re
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kirakira.common import clock
from kirakira.privacy.crypto.keyring import keyring

from . import lifecycle, services
from .models import Cancellation, IdempotencyKey, Order

WINDOW = timedelta(hours=24)
KEY_MAX = 255
# 1 to 255 visible ASCII characters (no space): a UUID, a ULID or any token a client draws.
KEY_PATTERN = rf"\A[!-~]{{1,{KEY_MAX}}}\Z"
_KEY = re.compile(KEY_PATTERN)
PRUNE_BATCH = 1000

Scope = IdempotencyKey.Scope


def is_valid_key(value) -> bool:
    return isinstance(value, str) and _KEY.match(value) is not None


def new_form_token() -> str:
    """The one-time token of a form, drawn when the form is shown."""
    return secrets.token_urlsafe(24)


def _digest(*parts) -> str:
    message = "|".join(["orders.IdempotencyKey", *(str(part) for part in parts)]).encode()
    return hmac.digest(keyring().blind_index_key, message, "sha256").hex()


def request_digest(data) -> str:
    """A request's body as parsed JSON, in one canonical form: a repeat that differs only in
    spacing or key order is the same request."""
    return _digest(json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def _reused() -> ValidationError:
    return ValidationError(
        _("This key was already used for a different request. Use a new key for a new request."),
        code="key_reused",
    )


def _claim(
    *, member, scope: str, key: str, digest: str
) -> tuple[IdempotencyKey | None, IdempotencyKey | None]:
    """In the caller's transaction: ``(claim, None)`` when this request is the first with the
    key (the caller goes ahead and links ``claim`` to what it writes), or ``(None, earlier)``
    when a request with it already committed."""
    if not is_valid_key(key):
        raise ValidationError(_("This key is not valid."), code="key_invalid")
    key_digest = _digest(member.pk, scope, key)
    rows = IdempotencyKey.objects.select_for_update().filter(
        member=member, scope=scope, key_digest=key_digest
    )
    for _attempt in range(3):
        earlier = rows.first()
        if earlier is not None and earlier.created_at <= clock.now() - WINDOW:
            earlier.delete()  # expired: the key is free again
            earlier = None
        if earlier is not None:
            if earlier.request_digest != digest:
                raise _reused()
            return None, earlier
        try:
            with transaction.atomic():
                return (
                    IdempotencyKey.objects.create(
                        member=member, scope=scope, key_digest=key_digest, request_digest=digest
                    ),
                    None,
                )
        except IntegrityError:
            continue  # a concurrent request claimed it and committed: read its row
    raise ValidationError(_("The request could not be completed. Please try again."), code="key_busy")


def order_place_once(*, member, scope: str, key: str, request: str, **order_fields) -> tuple[Order, bool]:
    """``services.order_place`` at most once per member, ``scope`` and ``key`` within
    ``WINDOW``: ``(order, False)`` for the order placed now, ``(the first order, True)`` for a
    repeat. ``request`` identifies what is asked (``request_digest`` of an API body); a repeat
    asking something else raises ``ValidationError`` (code ``key_reused``)."""
    with transaction.atomic():
        claim, earlier = _claim(member=member, scope=scope, key=key, digest=request)
        if earlier is not None:
            return earlier.order, True
        order = services.order_place(member=member, **order_fields)
        claim.order = order
        claim.save(update_fields=["order"])
    return order, False


def order_cancel_once(
    *, order_id, member, key: str, reason: str, refund_account=None
) -> tuple[Cancellation, bool]:
    """``lifecycle.order_cancel`` at most once per cancel form: ``(cancellation, replayed)``.
    The form's token is tied to its order; the same token sent for another order is refused."""
    with transaction.atomic():
        claim, earlier = _claim(
            member=member, scope=Scope.CANCEL_FORM, key=key, digest=_digest("order", order_id)
        )
        if earlier is not None:
            return Cancellation.objects.get(order_id=earlier.order_id), True
        cancellation = lifecycle.order_cancel(
            order_id=order_id, member=member, reason=reason, refund_account=refund_account
        )
        claim.order_id = cancellation.order_id
        claim.save(update_fields=["order"])
    return cancellation, False


def form_request(service) -> str:
    """What an order form's token is tied to: the service it orders (the fields may change
    between two sends of one form, after the back button; the second shows the first order)."""
    return _digest("service", service.pk)


def idempotency_keys_prune(*, batch_size: int = PRUNE_BATCH) -> int:
    """Delete the keys older than ``WINDOW`` (no longer honoured), in short transactions;
    return how many. Safe to run at any time and twice at once."""
    cutoff = clock.now() - WINDOW
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                IdempotencyKey.objects.filter(created_at__lte=cutoff)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                return deleted
            count, _by_model = IdempotencyKey.objects.filter(pk__in=batch).delete()
            deleted += count
