"""OpenTelemetry spans for MongoDB commands (the ``otel`` extra; only imported when tracing is configured).

One client span per command a traced request sends, child of the span current when the driver started it.
Commands outside any trace (the change feed's polling, the sweep, start-up) make no span. Attributes name the
command, collection, database and server, never the command's documents, filters or values: no
``db.query.text``, and a failure carries the server's error code name, not its message (which can quote keys).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from pymongo import monitoring


class CommandTracer(monitoring.CommandListener):
    """A driver command listener that turns each traced command into a span."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer
        self._spans: dict[tuple[int, object], Span] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not trace.get_current_span().get_span_context().is_valid:
            return
        collection = _collection_of(event)
        host, port = event.connection_id
        attributes: dict[str, str | int] = {
            "db.system.name": "mongodb",
            "db.operation.name": event.command_name,
            "db.namespace": event.database_name,
            "server.address": str(host),
        }
        if port is not None:
            attributes["server.port"] = port
        if collection is not None:
            attributes["db.collection.name"] = collection
        name = f"{event.command_name} {collection}" if collection else event.command_name
        span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        self._spans[(event.request_id, event.connection_id)] = span

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        span = self._spans.pop((event.request_id, event.connection_id), None)
        if span is not None:
            span.end()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        span = self._spans.pop((event.request_id, event.connection_id), None)
        if span is None:
            return
        failure = event.failure if isinstance(event.failure, dict) else {}
        code_name = failure.get("codeName")
        if isinstance(code_name, str):
            span.set_attribute("db.response.status_code", code_name)
        span.set_status(Status(StatusCode.ERROR))
        span.end()


def _collection_of(event: monitoring.CommandStartedEvent) -> str | None:
    """The collection a command works on, when it names one (``getMore`` names it apart)."""
    named = event.command.get("collection") if event.command_name == "getMore" else None
    named = named if named is not None else event.command.get(event.command_name)
    return named if isinstance(named, str) else None
