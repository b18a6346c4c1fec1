"""The Starlette application: built by ``create_app(settings)``, connected to the database in its lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import strawberry
from pymongo.monitoring import _EventListener
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute

from api.database import create_client, ensure_indexes, is_reachable
from api.graphiql import graphiql_routes
from api.graphql_app import GraphQLEndpoint, GraphQLView, Runtime
from api.settings import Settings
from auth.tokens import TokenVerifier
from domain.repositories import all_indexes
from resolvers.schema import build_schema


def create_app(
    settings: Settings,
    *,
    schema: strawberry.Schema | None = None,
    event_listeners: Sequence[_EventListener] = (),
) -> Starlette:
    """The application; it needs ``settings.mongodb_uri`` (``serve`` starts an embedded database if unset)."""
    if not settings.mongodb_uri:
        raise ValueError("create_app needs settings.mongodb_uri")
    uri = settings.mongodb_uri
    verifier = TokenVerifier(settings)
    schema = schema or build_schema()
    view = GraphQLView(schema=schema, graphql_ide=None)
    assets = settings.graphiql_assets_dir if settings.graphiql_enabled else None
    graphql = GraphQLEndpoint(view, verifier=verifier, graphiql_assets=assets)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = create_client(uri, event_listeners=event_listeners)
        db = client[settings.database_name]
        await ensure_indexes(db, all_indexes())
        runtime = Runtime(settings=settings, db=db, verifier=verifier)
        app.state.client = client
        app.state.runtime = runtime
        try:
            yield
        finally:
            await client.close()

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready = await is_reachable(request.app.state.client)
        return JSONResponse(
            {"status": "ready" if ready else "unavailable"}, status_code=200 if ready else 503
        )

    async def home(_: Request) -> Response:
        return RedirectResponse("/graphql")

    return Starlette(
        routes=[
            Route("/", home),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *(graphiql_routes(assets) if assets is not None else []),
        ],
        lifespan=lifespan,
    )
