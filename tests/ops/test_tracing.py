"""OpenTelemetry: spans for each HTTP request, GraphQL operation and database command; no personal data."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from api.http.app import _tracing, create_app
from api.settings import Settings
from auth.principal import Role
from domain.repositories import Repositories
from tests import factories as f

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
SECRET = "bjorn.odegard@example.no"  # personal data sent as a variable and as a literal: never in a span

QUERY = """
query FindCustomer($search: String!) {
  byVariable: customers(first: 5, search: $search) { edges { node { id emails } } }
  byLiteral: customers(first: 5, search: "bjorn.odegard@example.no") { edges { node { displayName } } }
}
"""


@contextlib.asynccontextmanager
async def traced(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(settings, tracer_provider=provider)
    async with app.router.lifespan_context(app):
        exporter.clear()  # start-up's own commands are outside any request
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, exporter


def by_kind(spans: tuple[ReadableSpan, ...], kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in spans if s.kind is kind]


@pytest.mark.parametrize("pipelines", [True, False], ids=["pipelines", "loaders"])
async def test_a_request_makes_http_operation_and_command_spans_under_the_incoming_trace(
    settings: Settings, repos: Repositories, token: Any, pipelines: bool
) -> None:
    await repos.customers.insert_many([f.customer(given_name="Bjørn", emails=(SECRET,), region="north")])
    settings = settings.model_copy(update={"compiled_pipelines": pipelines})
    async with traced(settings) as (http, exporter):
        response = await http.post(
            "/graphql",
            json={"query": QUERY, "variables": {"search": SECRET}, "operationName": "FindCustomer"},
            headers={
                "Authorization": f"Bearer {token(Role.FRONTLINE)}",
                "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01",
            },
        )
        assert response.status_code == 200
        assert response.json()["data"]["byVariable"]["edges"][0]["node"]["emails"] == [SECRET]
        spans = exporter.get_finished_spans()

    [request] = by_kind(spans, SpanKind.SERVER)
    [operation] = by_kind(spans, SpanKind.INTERNAL)
    commands = by_kind(spans, SpanKind.CLIENT)
    assert {format(s.context.trace_id, "032x") for s in spans} == {TRACE_ID}
    assert request.parent is not None
    assert format(request.parent.span_id, "016x") == PARENT_ID
    assert request.name == "POST /graphql"
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 200

    assert operation.parent is not None
    assert operation.parent.span_id == request.context.span_id
    assert operation.name == "query FindCustomer"
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.type"] == "query"
    assert operation.attributes["graphql.operation.name"] == "FindCustomer"
    assert operation.attributes["customer360.graphql.outcome"] == "ok"
    cost = response.json()["extensions"]["cost"]
    assert operation.attributes["customer360.graphql.cost.requested"] == cost["requested"]

    # One read per root field: an aggregation, of the whole selection when the pipelines read it.
    reads = [c for c in commands if c.name == "aggregate customers"]
    assert len(reads) == 2
    for command in commands:
        assert command.parent is not None
        assert command.parent.span_id == operation.context.span_id
        assert command.attributes is not None
        assert command.attributes["db.system.name"] == "mongodb"
        assert command.attributes["db.namespace"] == settings.database_name

    for span in spans:
        for value in (span.attributes or {}).values():
            text = str(value).lower()
            assert "bjorn" not in text, (span.name, value)
            assert "example.no" not in text, (span.name, value)
            assert "search" not in text, (span.name, value)  # no document text


async def test_a_request_without_traceparent_starts_a_trace_and_errors_mark_the_operation(
    settings: Settings, token: Any
) -> None:
    async with traced(settings) as (http, exporter):
        response = await http.post(
            "/graphql",
            json={"query": '{ customer(id: "not an id") { id } }'},
            headers={"Authorization": f"Bearer {token(Role.BOARD)}"},
        )
        assert response.status_code == 200
        spans = exporter.get_finished_spans()
    [request] = by_kind(spans, SpanKind.SERVER)
    [operation] = by_kind(spans, SpanKind.INTERNAL)
    assert request.parent is None
    assert operation.attributes is not None
    assert operation.attributes["customer360.graphql.outcome"] == "FORBIDDEN"
    assert operation.status.status_code.name == "ERROR"
    assert "not an id" not in str(operation.attributes)


def test_tracing_is_off_unless_the_otel_variables_configure_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings)
    assert not [m for m in app.user_middleware if m.cls.__name__ == "HTTPTracing"]

    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    assert not Settings().tracing_enabled
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert Settings().tracing_enabled
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not Settings().tracing_enabled
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert not Settings().tracing_enabled
    configured = _tracing(settings.model_copy(update={"otel_traces_exporter": "console"}), None)
    assert configured.owned is not None
    configured.owned.shutdown()
    assert [m.cls.__name__ for m in configured.middleware] == ["HTTPTracing"]
    assert configured.operations is not None
