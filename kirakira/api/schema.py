"""What holds for every operation of the API, added to the schema after drf-spectacular has
described each view (a ``POSTPROCESSING_HOOKS`` entry in ``SPECTACULAR_SETTINGS``).

Each view documents its own answers; the answers that come from the layers every request passes
through are documented here once, so that no operation can forget them:

- a request body may be refused before any view reads it: not JSON (415), over
  ``API_MAX_BODY_BYTES`` (413), malformed or nested too deeply (400);
- an operation that needs a token answers 401 without a valid one;
- an operation with a throttle answers 429 with ``Retry-After``;
- every GET answered in JSON carries an ``ETag``, and a matching ``If-None-Match`` gets a 304
  (``ConditionalGetMiddleware``);
- links lead from one call to the next (an order to its cancellation, a consultation to its
  messages, a new member to a token, a token to the member), for clients and stateful fuzzers.

All error answers use the one error shape, ``kirakira.api.errors.ErrorOutput``.

``AutoSchema`` names a GET that answers a page of a list ``..._list``, as drf-spectacular does for a
bare array; otherwise a list and its items' detail would both be ``..._retrieve``, and a generated
client would tell them apart only by a number.
"""

import copy
import re

from django.conf import settings
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse


class AutoSchema(openapi.AutoSchema):
    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        if self.method == "GET" and _is_page(self.get_response_serializers()):
            return operation_id.removesuffix("_retrieve").removesuffix("_list") + "_list"
        return operation_id


def _is_page(serializer) -> bool:
    """Whether the answer is one page of a list (``kirakira.api.pagination.page_of``)."""
    if isinstance(serializer, dict):
        serializer = next((s for code, s in serializer.items() if str(code).startswith("2")), None)
    if isinstance(serializer, OpenApiResponse):
        serializer = serializer.response
    fields = getattr(serializer, "_declared_fields", None)  # a serializer class or instance
    return fields is not None and {"next", "previous", "results"} <= set(fields)


ERROR_REF = {"$ref": "#/components/schemas/ErrorOutput"}
# ErrorOutput as drf-spectacular renders it, for a schema in which no view names it.
ERROR_COMPONENT = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["errors", "message"],
}
_BODY_METHODS = {"post", "put", "patch"}
_METHODS = {"get", "post", "put", "patch", "delete"}


def _error(description: str, headers: dict | None = None) -> dict:
    response = {"content": {"application/json": {"schema": dict(ERROR_REF)}}, "description": description}
    if headers:
        response["headers"] = headers
    return response


def _body_refusals(operation: dict) -> dict[str, dict]:
    media_types = ", ".join(operation["requestBody"].get("content", {})) or "application/json"
    return {
        "400": _error(
            "The request is not valid: the body is not JSON, nests too deeply, or a field is wrong "
            "(`errors` names each field)."
        ),
        "413": _error(
            f"The body is larger than {settings.API_MAX_BODY_BYTES} bytes (API_MAX_BODY_BYTES); nothing "
            "was read or stored."
        ),
        "415": _error(f"The body's Content-Type is not one this operation takes ({media_types})."),
    }


UNAUTHENTICATED = "No valid token: none was sent, or it is unknown, expired or ended."
THROTTLED = "Too many requests from this client; `Retry-After` says in how many seconds to try again."
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}
}
ETAG = {
    "ETag": {
        "schema": {"type": "string"},
        "required": True,
        "description": "A tag of this body; send it back as `If-None-Match` to be told 304 when it is "
        "unchanged.",
    }
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The `ETag` of the copy the client holds: 304 and no body if it is still current.",
}
NOT_MODIFIED = {"description": "Not modified: the copy the client holds is current.", "headers": ETAG}

# Links: (source operation and status, link name, target operation, how the target is filled,
# description). ``{}`` in a path stands for its one parameter; "id" fills the target's path
# parameters from the source answer's ``id``.
LINKS = [
    ("POST /api/v1/orders 201", "GetOrder", "GET /api/v1/orders/{}", "id", "The new order."),
    (
        "POST /api/v1/orders 201",
        "CancelOrder",
        "POST /api/v1/orders/{}/cancel",
        "id",
        "Cancel the new order.",
    ),
    ("GET /api/v1/orders/{} 200", "CancelOrder", "POST /api/v1/orders/{}/cancel", "id", "Cancel this order."),
    (
        "POST /api/v1/consultations 201",
        "GetConsultation",
        "GET /api/v1/consultations/{}",
        "id",
        "The new consultation with its thread.",
    ),
    (
        "POST /api/v1/consultations 201",
        "PostMessage",
        "POST /api/v1/consultations/{}/messages",
        "id",
        "Write in the new consultation's thread.",
    ),
    (
        "GET /api/v1/consultations/{} 200",
        "PostMessage",
        "POST /api/v1/consultations/{}/messages",
        "id",
        "Write in this consultation's thread.",
    ),
    (
        "GET /api/v1/consultations/{} 200",
        "ReopenConsultation",
        "POST /api/v1/consultations/{}/reopen",
        "id",
        "Reopen this consultation once it is closed.",
    ),
    (
        "POST /api/v1/auth/register 201",
        "GetToken",
        "POST /api/v1/auth/token",
        "login_id",
        "Log in as the new member.",
    ),
    ("POST /api/v1/auth/token 200", "GetMe", "GET /api/v1/me", "token", "The member the token belongs to."),
]
_PARAMETER = re.compile(r"\{[^}]+\}")


def _find_path(paths: dict, pattern: str) -> str | None:
    """The schema's path for ``pattern``, whose ``{}`` stands for any one path parameter."""
    regex = re.compile("^" + re.escape(pattern).replace(r"\{\}", r"\{[^}/]+\}") + "$")
    return next((path for path in paths if regex.match(path)), None)


def _link(
    target_path: str, target_method: str, target_op: dict, how: str, description: str, ids: list
) -> dict:
    if ids.count(target_op["operationId"]) == 1:
        link = {"operationId": target_op["operationId"]}
    else:  # drf-spectacular numbers clashing IDs only after this hook: point at the path instead
        pointer = target_path.replace("~", "~0").replace("/", "~1")
        link = {"operationRef": f"#/paths/{pointer}/{target_method}"}
    link["description"] = description
    if how == "id":
        link["parameters"] = {
            name.strip("{}"): "$response.body#/id" for name in _PARAMETER.findall(target_path)
        }
    elif how == "login_id":
        # Merged into the body the client writes (the password is the client's to add).
        link["requestBody"] = {"login_id": "$response.body#/login_id"}
    elif how == "token":
        link["parameters"] = {"header.Authorization": "Bearer {$response.body#/token}"}
    return link


def _add_links(paths: dict) -> None:
    ids = [op.get("operationId") for ops in paths.values() for op in ops.values() if isinstance(op, dict)]
    for source_operation, name, target_operation, how, description in LINKS:
        method, source, status = source_operation.split()
        target_method, target = target_operation.split()
        method, target_method = method.lower(), target_method.lower()
        source_path, target_path = _find_path(paths, source), _find_path(paths, target)
        if source_path is None or target_path is None:
            continue  # an operation this version does not have
        source_op = paths[source_path].get(method)
        target_op = paths[target_path].get(target_method)
        if source_op is None or target_op is None or status not in source_op.get("responses", {}):
            continue
        links = source_op["responses"][status].setdefault("links", {})
        links.setdefault(name, _link(target_path, target_method, target_op, how, description, ids))


def _throttled_operations(generator) -> set[tuple[str, str]]:
    """(path, method) of the views with a DRF throttle."""
    throttled = set()
    for path, _regex, method, callback in generator.endpoints or ():
        view_class = getattr(callback, "cls", None)
        if view_class is not None and getattr(view_class, "throttle_classes", None):
            throttled.add((path, method.lower()))
    return throttled


def _needs_token(operation: dict) -> bool:
    requirements = operation.get("security")
    return bool(requirements) and all(requirement for requirement in requirements)


CONTRACT = (
    'Every error is JSON of one shape, `ErrorOutput`: `{"message": "…", "errors": {"field": ["…"]}}`, '
    "in the language of `Accept-Language` (ja, en or ko; Japanese otherwise). A body must be JSON "
    "unless an operation says otherwise (415), of at most {limit} bytes (API_MAX_BODY_BYTES; 413). "
    "A GET answer carries an `ETag`: send it back as `If-None-Match` and an unchanged object is "
    "answered 304 without a body. Links lead from an answer to the calls it makes possible."
)


def postprocess_contract(result, generator, request, public):
    info = result.setdefault("info", {})
    contract = CONTRACT.replace("{limit}", str(settings.API_MAX_BODY_BYTES))
    info["description"] = f"{info.get('description', '')}\n\n{contract}".strip()
    paths = result.get("paths", {})
    throttled = _throttled_operations(generator)
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation and method in _BODY_METHODS:
                for status, response in _body_refusals(operation).items():
                    responses.setdefault(status, response)
            if _needs_token(operation):
                responses.setdefault("401", _error(UNAUTHENTICATED))
            if (path, method) in throttled:
                responses.setdefault("429", _error(THROTTLED, copy.deepcopy(RETRY_AFTER)))
            if method == "get":
                _conditional(operation)
            operation["responses"] = dict(sorted(operation["responses"].items()))
    _add_links(paths)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorOutput", copy.deepcopy(ERROR_COMPONENT))
    return result


def _conditional(operation: dict) -> None:
    """ETag on the GET's JSON answers, If-None-Match and 304 (Django's ConditionalGetMiddleware,
    which tags every answer it holds whole: a streamed download gets no tag)."""
    tagged = [
        response
        for status, response in operation["responses"].items()
        if status.startswith("2") and "application/json" in response.get("content", {})
    ]
    if not tagged:
        return
    for response in tagged:
        response.setdefault("headers", {}).update(copy.deepcopy(ETAG))
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("in") == "header" and p.get("name", "").lower() == "if-none-match" for p in parameters):
        parameters.append(copy.deepcopy(IF_NONE_MATCH))
    operation["responses"].setdefault("304", copy.deepcopy(NOT_MODIFIED))
