"""The server under test: the production app once per executor, the reference endpoints and a stats route.

Run by the bench as its own process (``uvicorn bench.server:create --factory``), configured through the same
environment variables as ``customer360 serve``. Nothing here is part of the production app.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass

from pymongo import monitoring
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from api.http.app import create_app
from api.settings import Settings
from api.storage.client import create_client
from auth.tokens import TokenVerifier
from bench.reference import Reference
from resolvers.schema import build_schema


@dataclass(frozen=True, slots=True)
class Target:
    """One way of running the same schema: which executor, and whether pipelines read the customers."""

    compiled_execution: bool
    compiled_pipelines: bool
    title: str


# Each target serves the same schema at /<name>/graphql, so one run measures them side by side.
TARGETS: dict[str, Target] = {
    "stock": Target(False, False, "graphql-core's executor, every read through the loaders"),
    "compiled": Target(True, False, "the compiled executor, every read through the loaders"),
    "pipelines": Target(True, True, "the compiled executor, customers read in one pipeline (the default)"),
}


TARGETS_VARIABLE = "CUSTOMER360_BENCH_TARGETS"

# Set while a request is served: background work (change feeds, sweepers) runs in tasks started by the
# lifespan, outside any request, so its commands are not counted.
IN_REQUEST: ContextVar[bool] = ContextVar("in_request", default=False)


class CommandCounter(monitoring.CommandListener):
    """Counts the commands sent to the database on behalf of requests, by name."""

    def __init__(self) -> None:
        self.names: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if IN_REQUEST.get():
            self.names[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def create() -> ASGIApp:
    """The benchmark app; settings come from the environment like the production server's."""
    return counted(build())


def build() -> Starlette:
    """The benchmark app's routes and lifespan, without the request marking."""
    settings = Settings()
    if not settings.mongodb_uri:
        raise SystemExit("the bench server needs MONGODB_URI")
    uri = settings.mongodb_uri
    counter = CommandCounter()
    # A server for one target only (the closed loop's) runs one app, like a production process.
    only = [name for name in os.environ.get(TARGETS_VARIABLE, "").split(",") if name]
    apps = {
        name: create_app(
            settings.model_copy(update={"compiled_pipelines": target.compiled_pipelines}),
            schema=build_schema(compiled=target.compiled_execution),
            event_listeners=[counter],
        )
        for name, target in TARGETS.items()
        if not only or name in only
    }
    reference = Reference(TokenVerifier(settings.token_settings()))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            client = create_client(uri, event_listeners=[counter])
            stack.push_async_callback(client.close)
            reference.db = client[settings.database_name]
            yield

    async def stats(_: Request) -> Response:
        return JSONResponse({"commands": sum(counter.names.values()), "byName": dict(counter.names)})

    return Starlette(
        routes=[
            Route("/_bench/stats", stats),
            *reference.routes(),
            *(Mount(f"/{name}", app) for name, app in apps.items()),
        ],
        lifespan=lifespan,
    )


def counted(app: ASGIApp) -> ASGIApp:
    """Marks every HTTP request as one whose database commands count."""

    async def marked(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            IN_REQUEST.set(True)
        await app(scope, receive, send)

    return marked
