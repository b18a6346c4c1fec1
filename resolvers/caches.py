"""strawberry's parse and validation caches, adapted so that failures stay the operation's errors.

An exception raised in an extension's hook is answered over HTTP (``Schema.execute`` catches it) but not
by the streaming path WebSocket operations take, which lets it end the operation with a bare
``complete``. So the caches raise nothing: a document that does not parse is left for strawberry's own
parse step, which reports it, and an operation already refused (``OperationLimits``) is not validated.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import ParserCache, ValidationCache


class CachedParsing(ParserCache):
    """Parses through the cache; a document that fails is parsed again by strawberry, which reports it."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        except Exception:
            # Failures are not cached: the second parse costs what the first did, within the token limit.
            context.graphql_document = None
        yield


class CachedValidation(ValidationCache):
    """Validates through the cache, unless an earlier extension already refused the operation.

    ``ValidationCache`` replaces the operation's errors with what validation finds; a refused operation
    keeps its refusal and is not validated at all (the limits bound what validation costs).
    """

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors:
            yield
            return
        yield from super().on_validate()
