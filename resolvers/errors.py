"""Every error in a response carries a code; unexpected ones are masked and logged with the request id."""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError
from pymongo.errors import ConnectionFailure

from domain.errors import DomainError, ErrorCode, LimitExceeded, RateLimited

logger = logging.getLogger("customer360.errors")

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


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
        if isinstance(original, LimitExceeded):
            extensions["limit"] = original.limit
        if isinstance(original, RateLimited):
            extensions["retryAfter"] = round(original.retry_after, 1)
        return _with(error, original.message, extensions)
    if isinstance(original, ConnectionFailure):
        # The database is down or unreachable: a condition to retry, not a bug.
        logger.warning("database unavailable: %s", original, extra={"request_id": request_id})
        return _with(error, "the database is unavailable; retry later", {"code": ErrorCode.UNAVAILABLE.value})
    if original is None or isinstance(original, GraphQLError):
        if _TOO_MANY_TOKENS.search(error.message):
            limit: dict[str, object] = {"code": ErrorCode.LIMIT_EXCEEDED.value, "limit": "tokens"}
            return _with(error, error.message.removeprefix("Syntax Error: "), limit)
        code = PARSE_FAILED if error.message.startswith("Syntax Error") else VALIDATION_FAILED
        message = error.message if suggestions else _SUGGESTION.sub("", error.message)
        return _with(error, message, {"code": code, **(error.extensions or {})})
    logger.error(
        "unexpected error in %s",
        ".".join(str(p) for p in error.path or ()),
        exc_info=original,
        extra={"request_id": request_id},
    )
    return _with(error, "internal error", {"code": ErrorCode.INTERNAL.value, "requestId": request_id})


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )
