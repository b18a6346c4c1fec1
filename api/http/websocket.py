"""GraphQL over WebSocket (graphql-transport-ws): strawberry's view, authenticated by connection_init, closed
when the token it was opened with expires, with a bound on the operations a socket runs at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.unset import UNSET, UnsetType

from api.http.caller import act_as, context_for
from api.http.runtime import runtime_of
from domain.errors import Unauthenticated
from resolvers.context import Context
from resolvers.errors import LimitExceeded

# graphql-transport-ws's "Forbidden": the stock graphql-ws client retries it and asks its connectionParams
# again, so a client that hands out its current token there reconnects with it and subscribes again.
TOKEN_EXPIRED = 4403


class Connection(BaseGraphQLTransportWSHandler[Context, None]):
    """A graphql-transport-ws connection that ends when the token of its connection_init stops being accepted,
    and refuses an operation over the number it may run at once.

    A socket lives for hours and a token for minutes: without the end, a socket kept its caller's rows and
    pushes long after the token (and perhaps the person's access) had ended.
    """

    expiry: asyncio.Task[None] | None = None

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = cast("GraphQLWebSocket", self.view).max_operations
        known = message["id"] in self.operations  # the protocol's own error: the socket is closed (4409)
        if self.connection_acknowledged and not known and len(self.operations) >= limit:
            error = LimitExceeded(f"this socket already runs {limit} operations", limit="operations")
            extensions = {"code": error.code.value, **error.extensions}
            await self.send_message(
                {
                    "id": message["id"],
                    "type": "error",
                    "payload": [{"message": error.message, "extensions": extensions}],
                }
            )
            return
        await super().handle_subscribe(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        caller = self.context.caller
        until = caller.accepted_until if caller is not None else None
        if self.connection_acknowledged and self.expiry is None and until is not None:
            self.expiry = asyncio.create_task(self._close_at(until))

    async def _close_at(self, accepted_until: float) -> None:
        await asyncio.sleep(max(0.0, accepted_until - time.time()))
        # The operations end first, so that none sends on the closed socket, and the subscriptions are no
        # longer served by the time the client hears the close.
        running = [operation.task for operation in self.operations.values() if operation.task]
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        if running:
            # Waits for their ends without raising what they raised (only a cancel of this task).
            await asyncio.wait(running)
        await self.websocket.close(code=TOKEN_EXPIRED, reason="Token expired")

    async def shutdown(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            # A close that raced the client's own disconnect may have failed: the socket is gone either way.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.expiry
        await super().shutdown()


class GraphQLWebSocket(GraphQL[Context, None]):
    """Strawberry's view, serving WebSockets only (HTTP has its own transport) with a typed context."""

    graphql_transport_ws_handler_class = Connection

    def __init__(self, *args: Any, max_operations: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_operations = max_operations

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
