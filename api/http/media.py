"""The media type of a GraphQL response: ``application/graphql-response+json`` when the client prefers it."""

from __future__ import annotations

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


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
