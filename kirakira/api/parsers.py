"""The API's JSON parser: DRF's, with a size limit and a nesting limit.

Threat: a body of a thousand nested brackets made Python's decoder raise ``RecursionError``
(a 500 from every JSON endpoint, the unauthenticated ones included), and a body of any size was
read into memory. Here the body is refused before decoding when it is larger than
``API_MAX_BODY_BYTES`` (413) or nested deeper than ``MAX_DEPTH`` (400). The API middleware
already refuses a declared ``Content-Length`` over the limit without reading anything; the
parser counts the bytes it actually got, which also covers a body of undeclared length.

The depth is measured by hand because neither ``json`` nor DRF offers a limit: string literals
are blanked out first, so brackets inside text do not count.
"""

import io
import json
import re
from itertools import accumulate

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, status

# The deepest legitimate body (an order's cancellation with its refund account) nests two levels.
MAX_DEPTH = 32

# A JSON string literal, quotes and escapes included; an unclosed one runs to the end of the
# body. The quantifiers are possessive and an unclosed literal still matches, so the engine never
# backtracks or rescans from the next quote: linear in time on any body, where a body of many
# unclosed quotes made the plain form quadratic (seconds for 40 KB, unauthenticated).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# What each bracket does to the depth, indexed by byte value.
_STEP = [0] * 256
for _opening, _closing in (b"[]", b"{}"):
    _STEP[_opening], _STEP[_closing] = 1, -1


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def max_body_bytes() -> int:
    return settings.API_MAX_BODY_BYTES


def too_large_message(limit: int | None = None) -> str:
    limit = max_body_bytes() if limit is None else limit
    return _("The request body is too large: the limit is %(limit)s bytes.") % {"limit": limit}


def nesting_exceeds(body: bytes, limit: int) -> bool:
    """Whether the brackets outside string literals nest deeper than ``limit``.

    On a malformed body this may count more than the decoder would reach, never less: both read
    string literals alike up to the first error, where the decoder stops.
    """
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    # A running sum and its maximum, all in C: a megabyte of brackets takes about 30 ms.
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(too_large_message(limit))
        if nesting_exceeds(body, MAX_DEPTH):
            raise _too_deep()
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            # Not reachable within MAX_DEPTH; kept so that a deep body can never be a 500.
            raise _too_deep() from None
        except exceptions.ParseError as exc:
            # DRF's message quotes the decoder's English text; this one is in the request's
            # language, with where the decoder stopped.
            raise exceptions.ParseError(_not_json(exc.__context__)) from None


def _not_json(error: BaseException | None) -> str:
    if isinstance(error, json.JSONDecodeError):
        return _("The request body is not valid JSON (line %(line)d, column %(column)d).") % {
            "line": error.lineno,
            "column": error.colno,
        }
    return _("The request body is not valid JSON.")


def _too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(
        _("The JSON is nested too deeply (more than %(depth)s levels).") % {"depth": MAX_DEPTH}
    )
