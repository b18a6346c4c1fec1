"""HTTP caching of GET queries: aggregates may be kept briefly by the caller's own cache; nothing else is.

Aggregates carry no personal data and change slowly, so a BI tool or browser may reuse one for a short
while. Anything else (records, personal data whose reads are audited) must be fetched anew every time.
Responses depend on the token, so every one varies by Authorization and none may be shared.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import orjson
from graphql import FieldNode, GraphQLError, OperationType, parse

from auth.policy import CACHEABLE_OPERATIONS
from resolvers.cost.walk import operation_of


def cache_headers(document: str, operation_name: str | None, data: object, *, max_age: int) -> dict[str, str]:
    """The caching headers of a successful GET response to ``document`` that answered ``data``.

    Aggregates also get a strong ETag over their answer (``data``; the cost report in ``extensions`` is
    the request's own), so a dashboard pulling the same figures again is told 304 Not Modified.
    """
    headers = {"Vary": "Authorization"}
    if _only_aggregates(document, operation_name):
        headers["ETag"] = entity_tag(data)
        headers["Cache-Control"] = f"private, max-age={max_age}" if max_age > 0 else "no-cache"
    else:
        headers["Cache-Control"] = "no-store"
    return headers


def entity_tag(data: object) -> str:
    """A strong validator of an answer: the same figures give the same tag, on every replica."""
    return '"' + hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32] + '"'


def not_modified(if_none_match: str | None, etag: str | None) -> bool:
    """Whether the client's ``If-None-Match`` names the answer it would get (RFC 9110: any listed tag)."""
    if not if_none_match or etag is None:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags


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
