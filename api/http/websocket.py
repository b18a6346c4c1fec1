"""GraphQL over WebSocket (graphql-transport-ws): strawberry's view, authenticated by connection_init."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from api.http.caller import act_as, context_for
from api.http.runtime import runtime_of
from domain.errors import Unauthenticated
from resolvers.context import Context


class GraphQLWebSocket(GraphQL[Context, None]):
    """Strawberry's view, serving WebSockets only (HTTP has its own transport) with a typed context."""

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        # A WebSocket proves who it is in connection_init (see on_ws_connect); until then it may read nothing.
        return context_for(request, response, None, runtime_of(request))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticates a WebSocket with the token of its connection_init payload, or closes it (4403)."""
        runtime = runtime_of(context.request)
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

    def encode_json(self, data: object) -> str:
        """A WebSocket message (HTTP encodes its own responses, in api/http/transport.py).

        graphql-transport-ws messages must travel in text frames, and strawberry sends bytes as binary
        frames: orjson's bytes are decoded to text here.
        """
        return orjson.dumps(data).decode()
