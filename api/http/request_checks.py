"""Request hygiene before GraphQL sees a request: headers, size, media type, JSON, parameters, `$` keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import Scope

from domain.errors import ErrorCode
from resolvers.errors import ServerErrorCode

JsonObject = dict[str, Any]


class RequestRejected(Exception):
    """The HTTP request itself is unacceptable; it gets ``status`` and one coded error."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: ErrorCode | ServerErrorCode = ErrorCode.VALIDATION,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.extensions = extensions


def authorization_of(scope: Scope, limit: int) -> str | None:
    """The value of the request's one ``Authorization`` header, checked before any token work.

    Two headers are refused (400), since proxies and servers disagree on which one counts; a value over
    ``limit`` bytes is refused (431) whatever its signature.
    """
    values = [value for name, value in scope["headers"] if name == b"authorization"]
    if not values:
        return None
    if len(values) > 1:
        raise RequestRejected(
            400, f"send one Authorization header, not {len(values)}", header="Authorization"
        )
    if len(values[0]) > limit:
        raise RequestRejected(
            431,
            f"the Authorization header exceeds {limit} bytes",
            code=ServerErrorCode.LIMIT_EXCEEDED,
            limit="authorizationSize",
        )
    return values[0].decode("latin-1") or None


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to be larger than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> RequestRejected:
    return RequestRejected(
        413, f"the request body exceeds {limit} bytes", code=ServerErrorCode.LIMIT_EXCEEDED, limit="bodySize"
    )


def request_payload(request: Request, body: bytes) -> object:
    """The operation (a JSON object) or batch (an array) a GET or POST request carries."""
    if request.method == "GET":
        return _query_string_payload(request)
    media, _, params = request.headers.get("content-type", "").partition(";")
    if media.strip().lower() != "application/json":
        raise RequestRejected(415, "POST requests must have Content-Type: application/json")
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise RequestRejected(415, "the body must be encoded in UTF-8")
    if not body.strip():
        raise RequestRejected(400, "a POST request needs a JSON body")
    try:
        payload: object = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestRejected(400, "the body is not valid JSON") from None
    if not isinstance(payload, dict | list):
        raise RequestRejected(400, "the body must be a JSON object (or an array for a batch)")
    return payload


def _query_string_payload(request: Request) -> JsonObject:
    params = request.query_params
    payload: JsonObject = {
        key: params[key] for key in ("query", "operationName", "documentId", "id") if key in params
    }
    for key in ("variables", "extensions"):
        if key in params:
            try:
                payload[key] = orjson.loads(params[key])
            except orjson.JSONDecodeError:
                raise RequestRejected(400, f"{key} must be URL-encoded JSON") from None
    return payload


def forbidden_key(value: object) -> str | None:
    """The first key beginning with ``$`` anywhere in ``value``: such keys are operators to MongoDB."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and key.startswith("$"):
                    return key
                pending.append(inner)
        elif isinstance(item, list):
            pending.extend(item)
    return None


@dataclass(frozen=True, slots=True)
class Params:
    """One operation of a request, as sent."""

    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None
    document_id: str | None


def params_of(payload: object) -> Params:
    """The parameters of one operation, each of the type the spec asks for."""
    if not isinstance(payload, dict):
        raise RequestRejected(400, "each operation must be a JSON object")
    query = payload.get("query")
    if query is not None and not isinstance(query, str):
        raise RequestRejected(400, "query must be a string")
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        raise RequestRejected(400, "operationName must be a string")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRejected(400, "variables must be a JSON object")
    extensions = payload.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestRejected(400, "extensions must be a JSON object")
    document_id = payload.get("documentId", payload.get("id"))
    if document_id is not None and not isinstance(document_id, str):
        raise RequestRejected(400, "documentId must be a string")
    if document_id is not None and query is not None:
        raise RequestRejected(400, "send either query or documentId, not both")
    for name_, value in (("variables", variables), ("extensions", extensions)):
        if (key := forbidden_key(value)) is not None:
            raise RequestRejected(400, f"{name_} may not hold keys beginning with '$' ({key!r})")
    return Params(query, name, variables, extensions, document_id)
