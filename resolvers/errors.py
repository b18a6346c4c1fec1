"""Every error in a response carries a code; unexpected ones are masked and logged with the request id.

The domain's codes (``domain.errors.ErrorCode``) say why a request broke a business rule. The server
adds its own (``ServerErrorCode``): refusals before anything runs (limits, rate, trusted documents, time)
and failures of the service itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from graphql import GraphQLError
from pymongo.errors import ConnectionFailure, PyMongoError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult, StreamExecutionResult

from domain.errors import DomainError
from domain.store import OutOfTime
from resolvers.context import Context

logger = logging.getLogger("customer360.errors")


class ServerErrorCode(StrEnum):
    """Codes of errors that are not the domain's: the server's refusals and failures."""

    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    RATE_LIMITED = "RATE_LIMITED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"
    TIMEOUT = "TIMEOUT"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


# What a caller is told when the database cannot be reached (HTTP, WebSocket, a resolver's failure alike).
DATABASE_UNAVAILABLE = "the database is unavailable; retry later"


class Refused(Exception):
    """The server refuses to run the operation (nothing ran); the message is safe to show."""

    def __init__(self, code: ServerErrorCode, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = extensions


class LimitExceeded(Refused):
    """The request is larger or costlier than a configured limit allows; nothing was executed."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(ServerErrorCode.LIMIT_EXCEEDED, message, limit=limit)


class RateLimited(Refused):
    """The caller spent its cost budget for now; nothing was executed."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(ServerErrorCode.RATE_LIMITED, message, retryAfter=round(retry_after, 1))
        self.retry_after = retry_after


# graphql-core's message when a document has more tokens than the parser was allowed to read.
_TOO_MANY_TOKENS = re.compile(r"Document contains more than (\d+) tokens")
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def classify(error: GraphQLError, request_id: str | None, *, suggestions: bool = True) -> GraphQLError:
    """The error as the client sees it: a code always, details only when they are safe."""
    original = error.original_error
    if isinstance(original, DomainError):
        extensions: dict[str, object] = {"code": original.code.value}
        if original.field:
            extensions["field"] = original.field
        return _with(error, original.message, extensions)
    if isinstance(original, Refused):
        return _with(error, original.message, {"code": original.code.value, **original.extensions})
    if isinstance(original, ConnectionFailure):
        # The database is down or unreachable: a condition to retry, not a bug.
        logger.warning("database unavailable: %s", original, extra={"request_id": request_id})
        code = ServerErrorCode.UNAVAILABLE.value
        return _with(error, DATABASE_UNAVAILABLE, {"code": code})
    if isinstance(original, OutOfTime) or (isinstance(original, PyMongoError) and original.timeout):
        # The driver's deadline (the time limit and a grace) passed before a command it was to send: the
        # request's own limit could not stop it first, as nothing awaited meanwhile. (A transaction's is
        # translated by the unit of work.)
        logger.warning("database command past the time limit: %s", original, extra={"request_id": request_id})
        message = "the operation took longer than its time limit and was stopped"
        return _with(error, message, {"code": ServerErrorCode.TIMEOUT.value})
    if original is None or isinstance(original, GraphQLError):
        if _TOO_MANY_TOKENS.search(error.message):
            limit: dict[str, object] = {"code": ServerErrorCode.LIMIT_EXCEEDED.value, "limit": "tokens"}
            return _with(error, error.message.removeprefix("Syntax Error: "), limit)
        code = (
            ServerErrorCode.GRAPHQL_PARSE_FAILED
            if error.message.startswith("Syntax Error")
            else ServerErrorCode.GRAPHQL_VALIDATION_FAILED
        )
        message = error.message if suggestions else _SUGGESTION.sub("", error.message)
        return _with(error, message, {"code": code.value, **(error.extensions or {})})
    logger.error(
        "unexpected error in %s",
        ".".join(str(p) for p in error.path or ()),
        exc_info=original,
        extra={"request_id": request_id},
    )
    internal: dict[str, object] = {"code": ServerErrorCode.INTERNAL.value, "requestId": request_id}
    return _with(error, "internal error", internal)


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class StreamedErrorCodes(SchemaExtension):
    """Classifies the errors of every result a streaming transport (WebSocket) sends, as HTTP's view does.

    Each streamed result passes through ``on_stream_result`` before the transport sees it, whatever went
    wrong (parse, validation, a refusal by a limit, a resolver, a subscription's source). A classified
    error is a plain ``GraphQLError``, so graphql-transport-ws answers a document that does not parse
    with an ``error`` message carrying its code too, instead of closing the whole connection.
    """

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(result, ExecutionResult) and result.errors and isinstance(context, Context):
            suggestions = context.settings.field_suggestions_enabled
            result.errors = [
                classify(error, context.request_id, suggestions=suggestions) for error in result.errors
            ]
        yield
