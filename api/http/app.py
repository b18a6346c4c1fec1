"""The Starlette application: built by ``create_app(settings)``, connected to the database in its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import strawberry
from pymongo.monitoring import _EventListener
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.http.endpoint import GraphQLEndpoint
from api.http.graphiql import Caller, graphiql_routes
from api.http.graphiql_files import PACKAGED
from api.http.observability import RequestContext
from api.http.persisted import PersistedDocuments
from api.http.prometheus import CONTENT_TYPE, Metrics
from api.http.runtime import Runtime, runtime_of
from api.http.transport import GraphQLHTTP
from api.http.websocket import GraphQLWebSocket
from api.settings import Settings
from api.storage.availability import DatabaseWatch
from api.storage.change_feed import ChangeFeed
from api.storage.client import Client, MongoUnitOfWork, create_client, prepare_database
from api.storage.intake_checks import IntakeChecks
from api.storage.standing_worker import StandingWorker, sweep_standings_forever
from api.storage.sweeper import sweep_forever
from auth.tokens import TokenVerifier
from domain.alerts.repository import AlertRepository
from domain.customers.repository import CustomerRepository
from domain.paging import PageEnds
from domain.repositories import Repositories
from resolvers.cost.budget import CostBudget
from resolvers.schema import build_schema

logger = logging.getLogger("customer360.server")
_frozen = False

# What a page on a listed origin may send besides the CORS-safelisted headers.
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Accept", "X-Request-Id"]
# zlib's fastest level. Starlette's default, 9, took 32 ms of CPU for a 955 KB answer against 2.5 ms here,
# for 46 KB sent against 71 KB: the server's CPU is what a large answer costs, not the bytes.
GZIP_LEVEL = 1

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from api.http.tracing import OperationTracing


def freeze_startup_objects() -> None:
    """Moves what the process has built so far out of the collector's sight, once per process.

    Modules, schemas and settings live as long as the process; frozen, the full collections that requests
    trigger stop walking them (about half the collector's time per request on the bench's responses).
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def _cors(origins: Sequence[str]) -> list[Middleware]:
    """CORS for the listed origins; none listed, responses stay as they are (no ``Vary: Origin`` either).

    It goes inside RequestContext, so preflights and refusals get a request id, logs and metrics too.
    """
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=["X-Request-Id", "Retry-After"],
            max_age=600,
        )
    ]


@dataclass(frozen=True, slots=True)
class _Tracing:
    """What tracing adds to the app: nothing at all unless it is configured."""

    middleware: list[Middleware] = field(default_factory=list)
    listeners: list[_EventListener] = field(default_factory=list)
    operations: OperationTracing | None = None
    owned: TracerProvider | None = None  # a provider built here, shut down with the app


def _tracing(settings: Settings, given: TracerProvider | None) -> _Tracing:
    if given is None and not settings.tracing_enabled:
        return _Tracing()
    try:
        from api.http.tracing import HTTPTracing, OperationTracing, provider_from_settings
        from api.storage.tracing import CommandTracer
    except ImportError as missing:
        raise RuntimeError(
            f"tracing is configured (OTEL_*) but the otel extra is not installed ({missing}): "
            "pip install 'customer360[otel]'"
        ) from None
    provider = given or provider_from_settings(settings)
    assert provider is not None
    tracer = provider.get_tracer("customer360")
    return _Tracing(
        middleware=[Middleware(HTTPTracing, tracer=tracer)],
        listeners=[CommandTracer(tracer)],
        operations=OperationTracing(tracer),
        owned=None if given is not None else provider,
    )


def _standings(settings: Settings, background: Client, stopping: asyncio.Event) -> list[asyncio.Task[None]]:
    """The standing worker and time sweep on the background connections (none when turned off)."""
    if not settings.standing_worker:
        return []
    db = background[settings.database_name]
    repos = Repositories.on(db, rollup_zones=settings.rollup_time_zones)
    uow = MongoUnitOfWork(background)
    worker = StandingWorker(
        db, repos, uow, stopping=stopping, gather_seconds=settings.standing_gather_seconds
    )
    sweep = sweep_standings_forever(
        repos, uow, every_seconds=settings.standing_sweep_seconds, stopping=stopping
    )
    return [
        asyncio.create_task(worker.run(), name="standing-worker"),
        asyncio.create_task(sweep, name="standing-sweep"),
    ]


def create_app(
    settings: Settings,
    *,
    schema: strawberry.Schema | None = None,
    event_listeners: Sequence[_EventListener] = (),
    tracer_provider: TracerProvider | None = None,
    graphiql_callers: Sequence[Caller] = (),
) -> Starlette:
    """The application; it needs ``settings.mongodb_uri`` (``serve`` starts an embedded database if unset).

    Traces go to ``tracer_provider`` when given, else where the ``OTEL_*`` variables say, if anywhere.
    ``graphiql_callers``: development tokens GraphiQL opens with (``serve`` passes them, never in production).
    """
    if not settings.mongodb_uri:
        raise ValueError("create_app needs settings.mongodb_uri")
    uri = settings.mongodb_uri
    verifier = TokenVerifier(settings.token_settings())
    schema = schema or build_schema(compiled=settings.compiled_execution, federation=settings.federation)
    assets = (settings.graphiql_assets_dir or PACKAGED) if settings.graphiql_enabled else None
    if settings.is_production and graphiql_callers:
        raise ValueError("a production server never hands out development tokens")
    graphql = GraphQLEndpoint(
        GraphQLHTTP(schema),
        # A WebSocket handshake from a page on another origin is refused (403) unless that origin is listed.
        # graphql-transport-ws only: the legacy subscriptions-transport-ws protocol would escape the closing
        # of a socket whose token expired and the bound on its operations (websocket.Connection), and its
        # stock clients are unmaintained.
        GraphQLWebSocket(
            schema=schema,
            graphql_ide=None,
            allowed_origins=settings.cors_origins,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        ),
        verifier=verifier,
        graphiql_assets=assets,
        max_authorization_bytes=settings.max_authorization_bytes,
        graphiql_callers=graphiql_callers,
    )
    metrics = Metrics()
    persisted = PersistedDocuments.load(
        settings.persisted_documents_path,
        trusted_only=settings.trusted_documents_only,
        automatic=settings.automatic_persisted_queries,
    )

    tracing = _tracing(settings, tracer_provider)
    listeners = [*event_listeners, metrics.command_listener, *tracing.listeners]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = create_client(uri, event_listeners=listeners)
        # The watch pings on a client of its own: its probes are no request's commands, and the pool it
        # probes through is not the one a dropped connection just cleared.
        probe_client = create_client(uri)
        watch = DatabaseWatch(probe_client, timeout=settings.database_probe_timeout_seconds)
        # Background work (the standing worker and sweep) has its own connections, so it never waits for a
        # request's or makes one wait; its commands count in the metrics, not in what requests cost.
        background = create_client(uri, event_listeners=[metrics.command_listener])
        stopping = asyncio.Event()
        watching = asyncio.create_task(watch.run(stopping), name="database-watch")
        db = client[settings.database_name]
        await prepare_database(db)
        if rebuilt := await CustomerRepository(db).refresh_search_tokens():
            logger.info("rebuilt the search tokens of %d customers", rebuilt)
        if keyed := await AlertRepository(db).refresh_scope_keys():
            logger.info("stored the scope keys of %d alerts", keyed)
        feed = ChangeFeed(db, stopping=stopping)
        uow = MongoUnitOfWork(client)
        zones = settings.rollup_time_zones
        checks = IntakeChecks(
            db,
            uow,
            debounce_seconds=settings.tactical_debounce_seconds,
            stopping=stopping,
            rollup_zones=zones,
        )
        app.state.runtime = Runtime(
            settings=settings,
            graphql=settings.graphql_settings(),
            verifier=verifier,
            metrics=metrics,
            cost_budget=CostBudget(settings.cost_budget_per_minute),
            persisted=persisted,
            client=client,
            db=db,
            uow=uow,
            feed=feed,
            window_checks=checks,
            page_ends=PageEnds(),
            watch=watch,
            tracing=tracing.operations,
        )
        background_loops = [
            asyncio.create_task(feed.run(), name="change-feed"),
            asyncio.create_task(
                sweep_forever(
                    db,
                    uow,
                    every_seconds=settings.escalation_sweep_seconds,
                    stopping=stopping,
                    rollup_zones=zones,
                ),
                name="sweeper",
            ),
            asyncio.create_task(checks.run(), name="intake-checks"),
        ]
        background_work = _standings(settings, background, stopping)
        # The feed knows how many subscriptions this process serves; the gauge reads it when scraped.
        metrics.active_subscriptions.set_function(lambda: feed.subscribers)
        freeze_startup_objects()
        try:
            yield
        finally:
            # Stop the loops between database calls, so no connection is cut mid-command (and none is
            # cancelled: a cancellation lost in the driver would leave its loop running and this waiting).
            stopping.set()
            await asyncio.gather(*background_loops, *background_work, watching, return_exceptions=True)
            await background.close()
            await client.close()
            await probe_client.close()
            if tracing.owned is not None:
                tracing.owned.shutdown()  # exports the spans still queued

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "subscriptions": runtime_of(request).feed.subscribers})

    async def readyz(request: Request) -> Response:
        # The last verdict answers at once while the database is known to be down; else ask it now.
        runtime = runtime_of(request)
        ready = runtime.watch.available and await runtime.watch.probe()
        return JSONResponse(
            {"status": "ready" if ready else "unavailable"}, status_code=200 if ready else 503
        )

    async def home(_: Request) -> Response:
        return RedirectResponse("/graphql")

    async def metrics_page(request: Request) -> Response:
        runtime = runtime_of(request)
        return Response(
            await metrics.scrape(runtime.db, available=runtime.watch.available), media_type=CONTENT_TYPE
        )

    return Starlette(
        routes=[
            Route("/", home),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_page),
            *(graphiql_routes(assets) if assets is not None else []),
        ],
        # Large answers (an aggregate pulled by a BI tool) travel compressed to clients that accept gzip.
        middleware=[
            Middleware(RequestContext, metrics=metrics),
            *tracing.middleware,
            *_cors(settings.cors_origins),
            Middleware(GZipMiddleware, minimum_size=1024, compresslevel=GZIP_LEVEL),
        ],
        lifespan=lifespan,
    )
