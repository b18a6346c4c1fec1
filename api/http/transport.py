"""GraphQL over HTTP: checks the request, runs it within the time limit, answers with the right status.

``application/graphql-response+json`` is used when the client asks for it, ``application/json`` otherwise.
GET runs queries only. A JSON array runs a batch, answered in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
import pymongo
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.http.caching import cache_headers, not_modified
from api.http.caller import context_for
from api.http.media import GRAPHQL_RESPONSE_JSON, negotiate
from api.http.observability import record_operation
from api.http.request_checks import Params, RequestRejected, params_of, read_body, request_payload
from api.http.responses import Outcome, executed, request_error, unavailable
from api.http.runtime import Runtime, runtime_of
from api.storage.availability import DatabaseLost
from domain.errors import DomainError, ErrorCode
from resolvers.cost.extension import OPERATION_KEY
from resolvers.errors import Refused, ServerErrorCode, classify

# How long past the time limit the driver may still wait on the database for work nobody awaits any more.
DRIVER_GRACE_SECONDS = 1.0

T = TypeVar("T")


class GraphQLHTTP:
    """The HTTP side of ``/graphql``; WebSockets have their own view."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self._schema = schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        runtime = runtime_of(request)
        media = negotiate(request.headers.get("accept"))
        request_id: str = scope["state"]["request_id"]
        settings = runtime.settings
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
                        code=ServerErrorCode.LIMIT_EXCEEDED,
                        limit="batch",
                    )
                batch = [params_of(item) for item in payload]
                outcomes = [await self._run(request, runtime, params, media) for params in batch]
                await self._respond([o.body for o in outcomes], 200, media, {}, scope, receive, send)
                return
            outcome = await self._run(request, runtime, params_of(payload), media)
            if not_modified(request.headers.get("if-none-match"), outcome.headers.get("ETag")):
                # The client holds this very answer: tell it so, without sending it again.
                await Response(status_code=304, headers=outcome.headers)(scope, receive, send)
                return
        except RequestRejected as rejected:
            body_ = request_error(rejected.code.value, rejected.message, request_id, **rejected.extensions)
            outcome = Outcome(body_, rejected.status, rejected.headers)
            record_operation(
                runtime.metrics,
                operation=outcome.operation,
                body=outcome.body,
                status=outcome.status,
                seconds=0.0,
            )
        await self._respond(outcome.body, outcome.status, media, outcome.headers, scope, receive, send)

    async def _body(self, request: Request, limit: int, seconds: float) -> bytes:
        """The POST body, read within the time limit too (a client trickling bytes holds a worker)."""
        if request.method != "POST":
            return b""
        try:
            async with asyncio.timeout(seconds):
                return await read_body(request, limit)
        except TimeoutError:
            raise RequestRejected(
                408, "the body did not arrive in time", code=ServerErrorCode.TIMEOUT
            ) from None

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

    async def _run(self, request: Request, runtime: Runtime, params: Params, media: str) -> Outcome:
        started = time.perf_counter()
        if runtime.tracing is None:
            outcome = await self._outcome(request, runtime, params, media)
        else:
            outcome = await runtime.tracing.run(
                params.operation_name, lambda: self._outcome(request, runtime, params, media)
            )
        record_operation(
            runtime.metrics,
            operation=outcome.operation,
            body=outcome.body,
            status=outcome.status,
            seconds=time.perf_counter() - started,
        )
        return outcome

    async def _outcome(self, request: Request, runtime: Runtime, params: Params, media: str) -> Outcome:
        request_id: str = request.scope["state"]["request_id"]
        try:
            document = runtime.persisted.resolve(params.query, params.document_id, params.extensions)
        except (DomainError, Refused) as error:
            validation = error.code is ErrorCode.VALIDATION
            status = 400 if media == GRAPHQL_RESPONSE_JSON or validation else 200
            return Outcome(request_error(error.code.value, error.message, request_id), status)
        if not runtime.watch.available:
            return unavailable(request_id)
        return await self._execute(request, runtime, params, document, media)

    async def _execute(
        self, request: Request, runtime: Runtime, params: Params, document: str, media: str
    ) -> Outcome:
        request_id: str = request.scope["state"]["request_id"]
        settings = runtime.settings
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        context = context_for(request, Response(), request.scope["state"]["principal"], runtime)

        async def execution(deadline: float | None) -> ExecutionResult:
            context.deadline = deadline
            return await self._schema.execute(
                document,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )

        try:
            result = await within_limits(runtime, execution)
        except DatabaseLost:
            return unavailable(request_id)
        except TimeoutError:
            message = stopped_past_the_limit(settings.request_timeout_seconds)
            return Outcome(request_error(ServerErrorCode.TIMEOUT.value, message, request_id), 504)
        except InvalidOperationTypeError as error:
            if request.method == "GET":
                code = ServerErrorCode.METHOD_NOT_ALLOWED.value
                body = request_error(code, error.as_http_error_reason("GET"), request_id)
                return Outcome(body, 405, {"Allow": "POST"})
            message = "subscriptions run over a WebSocket (graphql-transport-ws)"
            code = ServerErrorCode.GRAPHQL_VALIDATION_FAILED.value
            return Outcome(request_error(code, message, request_id), 400)
        except CannotGetOperationTypeError as error:
            code = ServerErrorCode.GRAPHQL_VALIDATION_FAILED.value
            body = request_error(code, error.as_http_error_reason(), request_id)
            return Outcome(body, 400 if media == GRAPHQL_RESPONSE_JSON else 200)
        except MissingQueryError:
            return Outcome(request_error(ErrorCode.VALIDATION.value, "the query is empty", request_id), 400)
        operation = _operation(result)
        outcome = executed(self._body_of(result, runtime, request_id), media, request_id, operation)
        if request.method == "GET" and outcome.status == 200 and "errors" not in outcome.body:
            max_age = settings.aggregate_cache_seconds
            data = outcome.body.get("data")
            outcome.headers.update(cache_headers(document, params.operation_name, data, max_age=max_age))
        return outcome

    def _body_of(self, result: ExecutionResult, runtime: Runtime, request_id: str) -> dict[str, Any]:
        """The response body; every error gets its code here, the one place that sees them all."""
        if result.errors:
            suggestions = runtime.settings.field_suggestions_enabled
            result.errors = [classify(error, request_id, suggestions=suggestions) for error in result.errors]
        return dict(process_result(result))


async def within_limits(runtime: Runtime, run: Callable[[float | None], Awaitable[T]]) -> T:
    """``run(deadline)`` as every query and mutation runs, over HTTP or WebSocket: within the request time
    limit (TimeoutError past it; ``deadline`` is when, on the event loop's clock) and the driver's deadline,
    or DatabaseLost as soon as the database is declared lost."""
    limit = runtime.settings.request_timeout_seconds

    async def limited() -> T:
        # The time limit cancels the operation at its first wait past the deadline, as it runs.
        async with asyncio.timeout(limit) as deadline:
            # The driver's own deadline ends what is left behind when the database is lost.
            with pymongo.timeout(limit + DRIVER_GRACE_SECONDS):
                return await run(deadline.when())

    # Losing the database mid-operation answers now, not when the driver gives up.
    return await runtime.watch.unless_lost(limited())


def stopped_past_the_limit(limit: float) -> str:
    """What an operation the time limit stopped is told."""
    return f"the operation took longer than {limit:g} s and was stopped"


def _operation(result: ExecutionResult) -> str:
    """The operation's label for metrics and logs, taken out of the result's extensions."""
    return str((result.extensions or {}).pop(OPERATION_KEY, "invalid"))
