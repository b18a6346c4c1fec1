"""The GraphQL endpoint: bearer authentication in front of strawberry's ASGI view."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api.graphiql import graphiql_page
from api.graphql_http import GraphQLHTTP
from api.settings import Settings
from auth.policy import aggregate_scope, row_scope
from auth.principal import Principal, Role
from auth.tokens import TokenVerifier
from domain.errors import Unauthenticated
from domain.events import EventSource
from domain.repositories import Repositories
from domain.scope import RowScope
from domain.store import Database, UnitOfWork
from resolvers.context import Context
from resolvers.errors import classify
from resolvers.loaders import Loaders


@dataclass(frozen=True, slots=True)
class Runtime:
    """What the running application shares between requests."""

    settings: Settings
    db: Database
    verifier: TokenVerifier
    uow: UnitOfWork
    events: EventSource


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's view with a typed context built per request and orjson encoding."""

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        runtime: Runtime = request.app.state.runtime
        # A WebSocket proves who it is in connection_init (see on_ws_connect); until then it may read nothing.
        principal: Principal = request.scope["state"].get("principal", NOBODY)
        if principal is NOBODY:
            no_rows = Repositories.on(runtime.db, RowScope.none())
            scope, repos, insight = RowScope.none(), no_rows, no_rows
        else:
            scope, repos, insight = bound_to(principal, runtime)
        return Context(
            request=request,
            response=response,
            principal=principal,
            settings=runtime.settings,
            repos=repos,
            insight=insight,
            loaders=Loaders.create(repos),
            request_id=request.scope["state"]["request_id"],
            uow=runtime.uow,
            events=runtime.events,
            scope=scope,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticates a WebSocket with the token of its connection_init payload, or closes it (4403)."""
        runtime: Runtime = context.request.app.state.runtime
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if authorization is None and isinstance(params.get("token"), str):
            authorization = f"Bearer {params['token']}"
        try:
            principal = await runtime.verifier.principal(
                authorization if isinstance(authorization, str) else None
            )
        except Unauthenticated:
            raise ConnectionRejectionError from None
        act_as(context, principal, runtime)
        acknowledged: UnsetType = UNSET
        return acknowledged

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error gets a code here, the one place that sees parse, validation and execution errors."""
        if result.errors:
            request_id = request.scope["state"]["request_id"]
            runtime: Runtime = request.app.state.runtime
            suggestions = runtime.settings.field_suggestions_enabled
            result.errors = [classify(error, request_id, suggestions=suggestions) for error in result.errors]
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


NOBODY = Principal(subject="", role=Role.BOARD)


def bound_to(principal: Principal, runtime: Runtime) -> tuple[RowScope, Repositories, Repositories]:
    """The row scope of ``principal``, its repositories and those it aggregates over (``insight``)."""
    scope = row_scope(principal)
    zones = runtime.settings.rollup_time_zones
    repos = Repositories.on(runtime.db, scope, rollup_zones=zones)
    return scope, repos, Repositories.on(runtime.db, aggregate_scope(principal), rollup_zones=zones)


def act_as(context: Context, principal: Principal, runtime: Runtime) -> None:
    """Binds the context to ``principal``: every read from now on is limited to its rows."""
    scope, repos, insight = bound_to(principal, runtime)
    context.principal = principal
    context.scope = scope
    context.repos = repos
    context.insight = insight
    context.loaders = Loaders.create(repos)


def wants_ide(scope: Scope) -> bool:
    """A browser asking for the GraphQL page itself, not running an operation."""
    if scope["method"] != "GET" or b"query=" in scope.get("query_string", b""):
        return False
    accept = dict(scope["headers"]).get(b"accept", b"")
    return b"text/html" in accept


def unauthenticated(message: str, request_id: str) -> Response:
    """401 with a GraphQL error body, so clients handle it like any other error."""
    body = {
        "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED", "requestId": request_id}}]
    }
    return Response(
        orjson.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="customer360"'},
    )


class GraphQLEndpoint:
    """Serves GraphiQL, and lets only authenticated operations through (ids come from ``RequestContext``)."""

    def __init__(self, view: GraphQLView, *, verifier: TokenVerifier, graphiql_assets: Path | None) -> None:
        self._view = view
        self._verifier = verifier
        self._graphiql_assets = graphiql_assets
        self._http = GraphQLHTTP(view)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        state = scope["state"]
        if scope["type"] == "http":
            if self._graphiql_assets is not None and wants_ide(scope):
                await HTMLResponse(graphiql_page(self._graphiql_assets))(scope, receive, send)
                return
            try:
                principal: Principal = await self._verifier.principal(
                    headers.get(b"authorization", b"").decode("latin-1") or None
                )
            except Unauthenticated as error:
                await unauthenticated(error.message, state["request_id"])(scope, receive, send)
                return
            state["principal"] = principal
            await self._http(scope, receive, send)
            return
        await self._view(scope, receive, send)
