"""Every error in a response carries a code; unexpected ones are masked and logged with the request id."""

from __future__ import annotations

import logging

from graphql import GraphQLError

from domain.errors import DomainError, ErrorCode

logger = logging.getLogger("customer360.errors")

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def classify(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """The error as the client sees it: a code always, details only when they are safe."""
    original = error.original_error
    if isinstance(original, DomainError):
        extensions: dict[str, object] = {"code": original.code.value}
        if original.field:
            extensions["field"] = original.field
        return _with(error, original.message, extensions)
    if original is None or isinstance(original, GraphQLError):
        code = PARSE_FAILED if error.message.startswith("Syntax Error") else VALIDATION_FAILED
        return _with(error, error.message, {"code": code, **(error.extensions or {})})
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
