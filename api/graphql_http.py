"""GraphQL over HTTP: checks the request, runs it within the time limit, answers with the right status.

``application/graphql-response+json`` is used when the client asks for it, ``application/json`` otherwise.
Requests that never reach execution (unparsable, invalid, variables that do not coerce) have no ``data``
and get 400 with the former, 200 with the latter; refusals for limits, rate, time and an unavailable
database get their own status with both. GET runs queries only.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.availability import DatabaseWatch
from api.caching import cache_headers
from api.metrics import Metrics
from api.persisted import PersistedDocuments
from api.request_checks import RequestRejected, forbidden_key, read_body, request_payload
from domain.errors import DomainError, ErrorCode
from resolvers.limits import OPERATION_KEY

if TYPE_CHECKING:
    from api.graphql_app import GraphQLView

logger = logging.getLogger("customer360.graphql")

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

# Refusals that say what happened with their status whatever the media type.
_STATUS_OF = {
    ErrorCode.RATE_LIMITED.value: 429,
    ErrorCode.LIMIT_EXCEEDED.value: 400,
    ErrorCode.TIMEOUT.value: 504,
    ErrorCode.UNAVAILABLE.value: 503,
}


@dataclass(frozen=True, slots=True)
class Params:
    """One operation of a request, as sent."""

    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None
    document_id: str | None


@dataclass(slots=True)
class Outcome:
    """One operation's response body and status."""

    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    operation: str = "invalid"


def negotiate(accept: str | None) -> str:
    """The response media type: graphql-response+json when the client prefers it, else JSON."""
    best, best_q = JSON, -1.0
    for part in (accept or "").split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        if media not in (GRAPHQL_RESPONSE_JSON, JSON):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = media, q
    return best if best_q > 0 else JSON


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
            raise RequestRejected(
                400, f"{name_} may not hold keys beginning with '$' ({key!r})", code=ErrorCode.VALIDATION
            )
    return Params(query, name, variables, extensions, document_id)


def _request_error(code: str, message: str, request_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "errors": [{"message": message, "extensions": {"code": code, **extra}}],
        "extensions": {"requestId": request_id},
    }


class GraphQLHTTP:
    """The HTTP side of ``/graphql``; WebSockets stay with strawberry's view."""

    def __init__(self, view: GraphQLView) -> None:
        self._view = view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        media = negotiate(request.headers.get("accept"))
        request_id: str = scope["state"]["request_id"]
        settings = request.app.state.runtime.settings
        try:
            body = await self._body(request, settings.max_body_bytes, settings.request_timeout_seconds)
            payload = request_payload(request, body)
            if isinstance(payload, list):
                if not payload:
                    raise RequestRejected(400, "a batch needs at least one operation")
                if len(payload) > settings.max_batch_operations:
                    raise RequestRejected(
                        400,
                        f"a batch may hold at most {settings.max_batch_operations} operations",
                        code=ErrorCode.LIMIT_EXCEEDED,
                        limit="batch",
                    )
                batch = [params_of(item) for item in payload]
                outcomes = [await self._run(request, params, media) for params in batch]
                await self._respond([o.body for o in outcomes], 200, media, {}, scope, receive, send)
                return
            outcome = await self._run(request, params_of(payload), media)
        except RequestRejected as rejected:
            body_ = _request_error(rejected.code.value, rejected.message, request_id, **rejected.extensions)
            outcome = Outcome(body_, rejected.status, rejected.headers)
            self._record(request, outcome, 0.0)
        await self._respond(outcome.body, outcome.status, media, outcome.headers, scope, receive, send)

    async def _body(self, request: Request, limit: int, seconds: float) -> bytes:
        """The POST body, read within the time limit too (a client trickling bytes holds a worker)."""
        if request.method != "POST":
            return b""
        try:
            async with asyncio.timeout(seconds):
                return await read_body(request, limit)
        except TimeoutError:
            raise RequestRejected(408, "the body did not arrive in time", code=ErrorCode.TIMEOUT) from None

    async def _respond(
        self,
        body: object,
        status: int,
        media: str,
        headers: dict[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        response = Response(orjson.dumps(body), status_code=status, media_type=media, headers=headers)
        await response(scope, receive, send)

    async def _run(self, request: Request, params: Params, media: str) -> Outcome:
        started = time.perf_counter()
        outcome = await self._outcome(request, params, media)
        self._record(request, outcome, time.perf_counter() - started)
        return outcome

    def _record(self, request: Request, outcome: Outcome, seconds: float) -> None:
        errors = outcome.body.get("errors") or []
        result = errors[0].get("extensions", {}).get("code", "ERROR") if errors else "ok"
        metrics = getattr(request.app.state, "metrics", None)
        if isinstance(metrics, Metrics):
            metrics.operation_done(outcome.operation, str(result), seconds)
        cost = (outcome.body.get("extensions") or {}).get("cost") or {}
        logger.info(
            "graphql %s %s %d",
            outcome.operation,
            result,
            outcome.status,
            extra={
                "fields": {
                    "operation": outcome.operation,
                    "outcome": result,
                    "status": outcome.status,
                    "durationMs": round(seconds * 1000, 2),
                    "cost": cost.get("requested"),
                }
            },
        )

    async def _outcome(self, request: Request, params: Params, media: str) -> Outcome:
        request_id: str = request.scope["state"]["request_id"]
        state = request.app.state
        persisted = getattr(state, "persisted_documents", None)
        try:
            if isinstance(persisted, PersistedDocuments):
                document = persisted.resolve(params.query, params.document_id, params.extensions)
            elif params.query is None:
                raise RequestRejected(400, "the request has no query")
            else:
                document = params.query
        except DomainError as error:
            status = 400 if media == GRAPHQL_RESPONSE_JSON or error.code is ErrorCode.VALIDATION else 200
            return Outcome(_request_error(error.code.value, error.message, request_id), status)
        watch = getattr(state, "database_watch", None)
        if isinstance(watch, DatabaseWatch) and not watch.available:
            body = _request_error(
                ErrorCode.UNAVAILABLE.value, "the database is unavailable; retry later", request_id
            )
            return Outcome(body, 503, {"Retry-After": "1"})
        return await self._execute(request, params, document, media)

    async def _execute(self, request: Request, params: Params, document: str, media: str) -> Outcome:
        request_id: str = request.scope["state"]["request_id"]
        settings = request.app.state.runtime.settings
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        context = await self._view.get_context(request, Response())
        try:
            async with asyncio.timeout(settings.request_timeout_seconds):
                result = await self._view.schema.execute(
                    document,
                    variable_values=params.variables,
                    context_value=context,
                    operation_name=params.operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=params.extensions,
                )
        except TimeoutError:
            message = f"the operation took longer than {settings.request_timeout_seconds:g} s and was stopped"
            return Outcome(_request_error(ErrorCode.TIMEOUT.value, message, request_id), 504)
        except InvalidOperationTypeError as error:
            if request.method == "GET":
                body = _request_error("METHOD_NOT_ALLOWED", error.as_http_error_reason("GET"), request_id)
                return Outcome(body, 405, {"Allow": "POST"})
            message = "subscriptions run over a WebSocket (graphql-transport-ws)"
            return Outcome(_request_error("GRAPHQL_VALIDATION_FAILED", message, request_id), 400)
        except CannotGetOperationTypeError as error:
            body = _request_error("GRAPHQL_VALIDATION_FAILED", error.as_http_error_reason(), request_id)
            return Outcome(body, 400 if media == GRAPHQL_RESPONSE_JSON else 200)
        except MissingQueryError:
            return Outcome(_request_error(ErrorCode.VALIDATION.value, "the query is empty", request_id), 400)
        outcome = await self._outcome_of(request, result, media)
        if request.method == "GET" and outcome.status == 200 and "errors" not in outcome.body:
            max_age = settings.aggregate_cache_seconds
            outcome.headers.update(cache_headers(document, params.operation_name, max_age=max_age))
        return outcome

    async def _outcome_of(self, request: Request, result: ExecutionResult, media: str) -> Outcome:
        request_id: str = request.scope["state"]["request_id"]
        operation = str((result.extensions or {}).pop(OPERATION_KEY, "invalid"))
        body: dict[str, Any] = dict(await self._view.process_result(request, result))
        errors: list[Mapping[str, Any]] = body.get("errors") or []
        # Errors without a path come from before execution: the response then has no data at all.
        before_execution = body.get("data") is None and errors and all("path" not in e for e in errors)
        if before_execution:
            body.pop("data", None)
        if errors:
            body["extensions"] = {**(body.get("extensions") or {}), "requestId": request_id}
        codes = [str(e.get("extensions", {}).get("code")) for e in errors]
        forced = next((_STATUS_OF[c] for c in codes if c in _STATUS_OF), None)
        headers: dict[str, str] = {}
        if forced is not None and body.get("data") is None:
            status = forced
            retry = next(
                (
                    e["extensions"].get("retryAfter")
                    for e in errors
                    if "retryAfter" in e.get("extensions", {})
                ),
                None,
            )
            if retry is not None:
                headers["Retry-After"] = str(max(1, math.ceil(float(retry))))
            elif forced == 503:
                headers["Retry-After"] = "1"
        elif before_execution:
            status = 400 if media == GRAPHQL_RESPONSE_JSON else 200
        else:
            status = 200
        return Outcome(body, status, headers, operation)
