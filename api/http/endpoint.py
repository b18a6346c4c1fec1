"""The ``/graphql`` endpoint: GraphiQL for browsers, bearer tokens for HTTP, WebSockets to their own view."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path

import orjson
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from api.http.graphiql import Caller, graphiql_page
from api.http.request_checks import RequestRejected, authorization_of
from api.http.transport import GraphQLHTTP
from api.http.websocket import GraphQLWebSocket
from auth.principal import Principal
from auth.tokens import TokenVerifier
from domain.errors import Unauthenticated


def wants_ide(scope: Scope) -> bool:
    """A browser asking for the GraphQL page itself, not running an operation."""
    if scope["method"] != "GET" or b"query=" in scope.get("query_string", b""):
        return False
    accept = dict(scope["headers"]).get(b"accept", b"")
    return b"text/html" in accept


def from_this_machine(scope: Scope) -> bool:
    """Whether the client connected from a loopback address."""
    host = (scope.get("client") or ("", 0))[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


def refused(rejected: RequestRejected, request_id: str) -> Response:
    """A request refused before authentication, with a GraphQL error body like ``unauthenticated``."""
    extensions = {"code": rejected.code.value, **rejected.extensions, "requestId": request_id}
    body = {"errors": [{"message": rejected.message, "extensions": extensions}]}
    return Response(
        orjson.dumps(body),
        status_code=rejected.status,
        media_type="application/json",
        headers=rejected.headers,
    )


class GraphQLEndpoint:
    """Serves GraphiQL, and lets only authenticated operations through (ids come from ``RequestContext``).

    ``graphiql_callers`` (development only) sign GraphiQL in, so it loads the schema with no pasted token.
    """

    def __init__(
        self,
        http: GraphQLHTTP,
        websocket: GraphQLWebSocket,
        *,
        verifier: TokenVerifier,
        graphiql_assets: Path | None,
        max_authorization_bytes: int,
        graphiql_callers: Sequence[Caller] = (),
    ) -> None:
        self._http = http
        self._websocket = websocket
        self._verifier = verifier
        self._graphiql_assets = graphiql_assets
        self._max_authorization_bytes = max_authorization_bytes
        self._graphiql_callers = tuple(graphiql_callers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["state"]
        try:
            authorization = authorization_of(scope, self._max_authorization_bytes)
        except RequestRejected as rejected:
            refusal = refused(rejected, state["request_id"])
            if scope["type"] == "http" or "websocket.http.response" in scope.get("extensions", {}):
                await refusal(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self._websocket(scope, receive, send)
            return
        if self._graphiql_assets is not None and wants_ide(scope):
            # Development tokens go only to a browser on this machine, and are never cached.
            callers = self._graphiql_callers if from_this_machine(scope) else ()
            page = graphiql_page(self._graphiql_assets, callers)
            headers = {"Cache-Control": "no-store"} if callers else None
            await HTMLResponse(page, headers=headers)(scope, receive, send)
            return
        try:
            principal: Principal = await self._verifier.principal(authorization)
        except Unauthenticated as error:
            await unauthenticated(error.message, state["request_id"])(scope, receive, send)
            return
        state["principal"] = principal
        await self._http(scope, receive, send)
