"""The body and HTTP status of one operation's answer.

Requests that never reach execution (unparsable, invalid, variables that do not coerce) have no ``data`` and
get 400 with ``application/graphql-response+json``, 200 with ``application/json``; refusals for limits, rate,
time and an unavailable database get their own status with both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from api.http.media import GRAPHQL_RESPONSE_JSON
from resolvers.errors import DATABASE_UNAVAILABLE, ServerErrorCode

# Refusals that say what happened with their status whatever the media type.
_STATUS_OF = {
    ServerErrorCode.RATE_LIMITED.value: 429,
    ServerErrorCode.LIMIT_EXCEEDED.value: 400,
    ServerErrorCode.TIMEOUT.value: 504,
    ServerErrorCode.UNAVAILABLE.value: 503,
}


@dataclass(slots=True)
class Outcome:
    """One operation's response body and status."""

    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    operation: str = "invalid"


def request_error(code: str, message: str, request_id: str, **extra: Any) -> dict[str, Any]:
    """The body of a request refused before (or instead of) execution: one error, its code, no data."""
    return {
        "errors": [{"message": message, "extensions": {"code": code, **extra}}],
        "extensions": {"requestId": request_id},
    }


def unavailable(request_id: str) -> Outcome:
    """The database cannot be reached right now: 503, retry in a second."""
    body = request_error(ServerErrorCode.UNAVAILABLE.value, DATABASE_UNAVAILABLE, request_id)
    return Outcome(body, 503, {"Retry-After": "1"})


def executed(body: dict[str, Any], media: str, request_id: str, operation: str) -> Outcome:
    """The outcome of an operation that reached the executor (its errors already coded)."""
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
            (e["extensions"].get("retryAfter") for e in errors if "retryAfter" in e.get("extensions", {})),
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
