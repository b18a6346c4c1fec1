"""Schemathesis checks of our own, loaded with SCHEMATHESIS_HOOKS=tests.fuzz.hooks."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def no_masked_internal_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """An INTERNAL error means a bug was masked: the fuzzer found input the code did not expect."""
    try:
        body = response.json()
    except ValueError:
        return None
    results = body if isinstance(body, list) else [body]
    for result in results:
        for error in (result or {}).get("errors") or []:
            extensions = error.get("extensions") or {}
            if extensions.get("code") == "INTERNAL":
                raise AssertionError(f"masked internal error, request id {extensions.get('requestId')}")
    return None


@schemathesis.check
def no_5xx_status(ctx: Any, response: Any, case: Any) -> bool | None:
    """No answer may be a server error status.

    Schemathesis' own ``not_a_server_error`` also fails on every GraphQL field error, but coded field
    errors (VALIDATION, FORBIDDEN, NOT_FOUND...) are this API's documented answers to bad input.
    """
    if response.status_code >= 500:
        raise AssertionError(f"status {response.status_code}")
    return None
