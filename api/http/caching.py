"""HTTP caching of GET queries: aggregates may be kept briefly by the caller's own cache; nothing else is.

Aggregates carry no personal data and change slowly, so a BI tool or browser may reuse one for a short
while. Anything else (records, personal data whose reads are audited) must be fetched anew every time.
Responses depend on the token, so every one varies by Authorization and none may be shared.
"""

from __future__ import annotations

from functools import lru_cache

from graphql import FieldNode, GraphQLError, OperationType, parse

from auth.policy import CACHEABLE_OPERATIONS
from resolvers.cost.walk import operation_of


def cache_headers(document: str, operation_name: str | None, *, max_age: int) -> dict[str, str]:
    """The caching headers of a successful GET response to ``document``."""
    headers = {"Vary": "Authorization"}
    if max_age > 0 and _only_aggregates(document, operation_name):
        headers["Cache-Control"] = f"private, max-age={max_age}"
    else:
        headers["Cache-Control"] = "no-store"
    return headers


@lru_cache(maxsize=512)  # BI tools and caches send the same few documents again and again
def _only_aggregates(document: str, operation_name: str | None) -> bool:
    try:
        operation = operation_of(parse(document), operation_name)
    except GraphQLError:
        return False
    if operation is None or operation.operation is not OperationType.QUERY:
        return False
    selections = operation.selection_set.selections
    # Fragments at the root could hide any field; such documents are simply not cached.
    return all(
        isinstance(s, FieldNode) and (s.name.value in CACHEABLE_OPERATIONS or s.name.value == "__typename")
        for s in selections
    )
