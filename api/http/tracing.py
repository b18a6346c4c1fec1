"""OpenTelemetry tracing (the ``otel`` extra), on only when configured with the standard ``OTEL_*`` variables.

A server span per HTTP request (continuing the caller's ``traceparent``), a span per GraphQL operation inside
it, and a client span per MongoDB command the operation sends (``api/storage/tracing.py``). The SDK reads its
usual variables itself (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_EXPORTER_OTLP_*``,
``OTEL_TRACES_SAMPLER``, ``OTEL_PROPAGATORS``). Spans carry no personal data: no query string (GET requests
carry variables there), no variables, no document text, no client address, no database values. When tracing
is not configured this module is not even imported, and requests run exactly as without it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry import propagate
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.observability import route_of
from api.http.responses import Outcome
from api.settings import Settings

INSTRUMENTATION = "customer360"


def provider_from_settings(settings: Settings) -> TracerProvider | None:
    """A tracer provider exporting as the ``OTEL_*`` variables say, or None when tracing is not configured."""
    if not settings.tracing_enabled:
        return None
    exporter: SpanExporter
    if settings.otel_traces_exporter == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "customer360"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class HTTPTracing:
    """ASGI middleware: one server span per HTTP request, a child of the incoming ``traceparent`` if any."""

    def __init__(self, app: ASGIApp, *, tracer: Tracer) -> None:
        self._app = app
        self._tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        route = route_of(scope["path"])
        attributes: dict[str, str] = {
            "http.request.method": scope["method"],
            "http.route": route,
            "url.path": scope["path"] if route != "other" else "other",
            "url.scheme": scope.get("scheme", "http"),
        }
        if request_id := scope.get("state", {}).get("request_id"):
            attributes["customer360.request_id"] = request_id
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self._tracer.start_as_current_span(
            f"{scope['method']} {route}",
            context=propagate.extract(headers),
            kind=SpanKind.SERVER,
            attributes=attributes,
        ) as span:
            try:
                await self._app(scope, receive, send_with_status)
            finally:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))


class OperationTracing:
    """A span per GraphQL operation over HTTP: its name, type, root fields, outcome and cost."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    async def run(self, operation_name: str | None, execute: Callable[[], Awaitable[Outcome]]) -> Outcome:
        with self._tracer.start_as_current_span("graphql", kind=SpanKind.INTERNAL) as span:
            outcome = await execute()
            _describe(span, operation_name, outcome)
            return outcome


def _describe(span: Span, operation_name: str | None, outcome: Outcome) -> None:
    operation_type, _, root_fields = outcome.operation.partition(" ")
    errors: list[Any] = outcome.body.get("errors") or []
    result = str(errors[0].get("extensions", {}).get("code", "ERROR")) if errors else "ok"
    cost = (outcome.body.get("extensions") or {}).get("cost") or {}
    span.update_name(f"{operation_type} {operation_name}" if operation_name else outcome.operation)
    attributes: dict[str, str | int] = {
        "graphql.operation.type": operation_type,
        "customer360.graphql.root_fields": root_fields,
        "customer360.graphql.outcome": result,
    }
    if operation_name:
        attributes["graphql.operation.name"] = operation_name
    for key in ("requested", "actual"):
        if isinstance(cost.get(key), int):
            attributes[f"customer360.graphql.cost.{key}"] = cost[key]
    span.set_attributes(attributes)
    if errors:
        span.set_status(Status(StatusCode.ERROR, result))
