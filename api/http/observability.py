"""Request ids on every log line and response; one log line and metrics per HTTP request and per operation."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.logs import configure_logging
from api.http.prometheus import Metrics

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_OFFERED_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_ROUTES = ("/graphql", "/healthz", "/readyz", "/metrics")

logger = logging.getLogger("customer360.access")
operations_log = logging.getLogger("customer360.graphql")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


def configure(level: str = "INFO", *, readable: bool = False) -> None:
    """Logs on stderr with the request id on every record: JSON lines, or short lines for a terminal.

    Readable logs leave out uvicorn's start and stop notes, which the banner and the command say better.
    """
    configure_logging(level, readable=readable)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdFilter())
    # uvicorn's own access log would duplicate ours without the request id.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING if readable else logging.NOTSET)


def route_of(path: str) -> str:
    """A bounded label for a path: the known routes, else ``other``."""
    if path in _ROUTES or path == "/":
        return path
    return "/graphiql-assets" if path.startswith("/graphiql") else "other"


class RequestContext:
    """ASGI middleware: a request id for every request (the client's ``X-Request-Id`` when well formed)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        offered = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if _OFFERED_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
            if scope["type"] == "http":
                seconds = time.perf_counter() - started
                route = route_of(scope["path"])
                self._metrics.request_done(scope["method"], route, status, seconds)
                logger.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "request_id": request_id,
                        "fields": {
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "durationMs": round(seconds * 1000, 2),
                        },
                    },
                )


def record_operation(
    metrics: Metrics, *, operation: str, body: dict[str, Any], status: int, seconds: float
) -> None:
    """Counts and logs one GraphQL operation: its label, outcome (ok or the first error code) and cost."""
    errors = body.get("errors") or []
    outcome = errors[0].get("extensions", {}).get("code", "ERROR") if errors else "ok"
    metrics.operation_done(operation, str(outcome), seconds)
    cost = (body.get("extensions") or {}).get("cost") or {}
    operations_log.info(
        "graphql %s %s %d",
        operation,
        outcome,
        status,
        extra={
            "fields": {
                "operation": operation,
                "outcome": outcome,
                "status": status,
                "durationMs": round(seconds * 1000, 2),
                "cost": cost.get("requested"),
            }
        },
    )
