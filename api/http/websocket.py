"""GraphQL over WebSocket (graphql-transport-ws): strawberry's view, authenticated by connection_init. Each
operation runs as its own request (queries and mutations under HTTP's time limit and database watch), a socket
runs a bounded number at once, and it ends when the token it was opened with expires or the server shuts down,
its running queries and mutations answered first."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import cast

import orjson
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.types.unset import UNSET, UnsetType

from api.http.caller import act_as, context_for
from api.http.runtime import runtime_of
from api.http.transport import stopped_past_the_limit, within_limits
from api.settings import Settings
from api.storage.availability import DatabaseLost
from domain.errors import Unauthenticated
from resolvers.context import OPERATION_DEADLINE, Context
from resolvers.errors import DATABASE_UNAVAILABLE, LimitExceeded, ServerErrorCode

# graphql-transport-ws's "Forbidden": the stock graphql-ws client retries it and asks its connectionParams
# again, so a client that hands out its current token there reconnects with it and subscribes again.
TOKEN_EXPIRED = 4403
# "Service restart": retried by graphql-transport-ws clients, on another server process.
SERVICE_RESTART = 1012
# The scope extension through which the server (api/http/serving.py) asks a socket to end as it shuts down.
ENDING = "customer360.ending"


class Ending:
    """Set by the server as it shuts down. A connection that watches it ends itself, answering what it runs;
    one nobody watches is closed at once by the server."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.watched = False


class Connection(BaseGraphQLTransportWSHandler[Context, None]):
    """A graphql-transport-ws connection that runs its queries and mutations as HTTP does (time limit,
    database watch), refuses an operation over the number it may run at once, and ends when the token of its
    connection_init stops being accepted or the server shuts down.

    A socket lives for hours and a token for minutes: without the end, a socket kept its caller's rows and
    pushes long after the token (and perhaps the person's access) had ended.
    """

    expiry: asyncio.Task[None] | None = None
    stopping: asyncio.Task[None] | None = None
    ending = False

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.ending:
            # Neither run (its token expired, or the server stops) nor answered: the stock client sends it
            # again once reconnected.
            return
        limit = self._settings.max_socket_operations
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

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """A subscription runs as strawberry runs it. A query or mutation runs as over HTTP: within the
        request time limit (TIMEOUT), and answered UNAVAILABLE as soon as the database is declared lost."""
        run = super().run_operation
        if _subscribes(operation.query, max_tokens=self.context.settings.max_tokens):
            await run(operation)
            return

        async def limited(deadline: float | None) -> None:
            OPERATION_DEADLINE.set(deadline)  # this task's: the operation's context takes it
            await run(operation)

        try:
            await within_limits(runtime_of(self.context.request), limited)
        except TimeoutError:
            message = stopped_past_the_limit(self._settings.request_timeout_seconds)
            await _stopped(operation, ServerErrorCode.TIMEOUT, message)
        except DatabaseLost:
            await _stopped(operation, ServerErrorCode.UNAVAILABLE, DATABASE_UNAVAILABLE)

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        extensions = self.context.request.scope.get("extensions") or {}
        ending = extensions.get(ENDING)
        if isinstance(ending, Ending):
            ending.watched = True
            self.stopping = asyncio.create_task(self._end_when_asked(ending))

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        caller = self.context.caller
        until = caller.accepted_until if caller is not None else None
        if self.connection_acknowledged and self.expiry is None and until is not None:
            self.expiry = asyncio.create_task(self._end_at(until))

    @property
    def _settings(self) -> Settings:
        return runtime_of(self.context.request).settings

    async def _end_at(self, accepted_until: float) -> None:
        await asyncio.sleep(max(0.0, accepted_until - time.time()))
        await self._end(TOKEN_EXPIRED, "Token expired")

    async def _end_when_asked(self, ending: Ending) -> None:
        await ending.asked.wait()
        await self._end(SERVICE_RESTART, "Service restart")

    async def _end(self, code: int, reason: str) -> None:
        """Ends the subscriptions now; queries and mutations already running finish and are answered, within
        the request time limit; then the socket closes, and nothing sends on it after.

        A mutation cut short and sent again by the client would meet its own work (a version conflict) and
        be told it failed.
        """
        if self.ending:
            return
        self.ending = True
        tokens = self.context.settings.max_tokens
        subscriptions = [i for i, o in self.operations.items() if _subscribes(o.query, max_tokens=tokens)]
        running = [operation.task for operation in self.operations.values() if operation.task]
        for operation_id in subscriptions:
            await self.cleanup_operation(operation_id)
        if running:
            # Waits for their ends without raising what they raised (only a cancel of this task).
            _, late = await asyncio.wait(running, timeout=self._settings.request_timeout_seconds)
            for operation_id in [i for i, o in self.operations.items() if o.task in late]:
                await self.cleanup_operation(operation_id)
            if late:
                await asyncio.wait(late)
        await self.websocket.close(code=code, reason=reason)

    async def shutdown(self) -> None:
        for task in (self.expiry, self.stopping):
            if task is not None:
                task.cancel()
                # A close that raced the client's own disconnect may have failed: the socket is gone anyway.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await super().shutdown()


async def _stopped(operation: Operation[Context, None], code: ServerErrorCode, message: str) -> None:
    """Answers an operation stopped as it ran, unless it was answered: its error in a ``next`` message (over
    HTTP, the same body with no data), then ``complete``."""
    error = {"message": message, "extensions": {"code": code.value}}
    await operation.send_operation_message(
        cast("Message", {"id": operation.id, "type": "next", "payload": {"errors": [error]}})
    )
    await operation.send_operation_message({"id": operation.id, "type": "complete"})


def _subscribes(document: str, *, max_tokens: int) -> bool:
    """Whether a document holds a subscription (one that does not parse, or is over the limit of tokens, is
    being refused)."""
    try:
        parsed = parse(document, max_tokens=max_tokens)
    except (GraphQLError, TypeError):  # TypeError: no document at all
        return False
    return any(
        isinstance(definition, OperationDefinitionNode) and definition.operation is OperationType.SUBSCRIPTION
        for definition in parsed.definitions
    )


class GraphQLWebSocket(GraphQL[Context, None]):
    """Strawberry's view, serving WebSockets only (HTTP has its own transport) with a typed context."""

    graphql_transport_ws_handler_class = Connection

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
