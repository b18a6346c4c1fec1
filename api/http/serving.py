"""uvicorn as ``serve`` runs it: connection timeouts, and a shutdown that finishes what was received.

On top of the bounded request head (``header_limits``). uvicorn's HTTP protocol starts its keep-alive
timer only once a response is sent, so a connection that never sends anything, or trickles its headers a
byte at a time, is held for good; and on shutdown it closes every connection without a request in
progress, including one whose request has begun to arrive or waits unread in its socket: that client gets
a reset for a request it did send. Here:

- a connection that sends nothing is closed after the idle timeout, a new one as well as a kept-alive one;
- a request's head (request line and headers) must arrive within the header timeout of its first byte,
  else the server answers 408 and closes the connection;
- on SIGTERM the server first accepts the connections the kernel has already completed, then stops
  listening; a request that has begun to arrive, or waits unread, is read, run and answered with
  ``Connection: close``; connections with nothing received are closed at once, as before;
- on SIGTERM a WebSocket is asked to end itself (``api.http.websocket.Ending``) instead of being closed at
  once: the queries and mutations it runs are answered, then it closes with 1012.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, ClassVar

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from api.http.header_limits import BoundedHeadProtocol
from api.http.websocket import ENDING, Ending
from api.settings import Settings

_TOO_SLOW = b"the request headers did not arrive in time"
REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_TOO_SLOW), _TOO_SLOW)
)


class Draining:
    """Whether the server has begun to shut down; shared by all its connections."""

    def __init__(self) -> None:
        self.active = False


class HttpProtocol(BoundedHeadProtocol):
    """The bounded-head protocol with an idle timer from the start, a header timer, a graceful close."""

    header_timeout: ClassVar[float]
    draining: ClassVar[Draining]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._closing = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.draining.active:
            # Accepted from the backlog while shutting down: its request is answered, then it closes.
            self.shutdown()
            return
        # uvicorn arms its keep-alive timer after a response only; a new connection gets one too.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()
        if self._closing or self.draining.active:
            self.cycle.keep_alive = False

    def shutdown(self) -> None:
        """Closes the connection once what it has received is answered, or now if it received nothing."""
        self._closing = True
        if self._head_timer is not None:
            # A request has begun to arrive: it is read (within the header timeout), run and answered.
            return
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self._unread():
            # A request is waiting in the socket: closing now would reset it; it is read and answered.
            return
        super().shutdown()

    def _unread(self) -> bool:
        """Whether bytes the client sent wait in the socket, not yet read by the event loop."""
        sock = self.transport.get_extra_info("socket")
        if sock is None:
            return False
        try:
            # A duplicate descriptor of the same socket, non-blocking like the original.
            with sock.dup() as duplicate:
                return bool(duplicate.recv(1, socket.MSG_PEEK))
        except OSError:  # BlockingIOError: nothing waiting
            return False

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self._refused:
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(REQUEST_TIMEOUT)
        self.transport.close()


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, which on shutdown asks the application to end a socket it watches
    (finishing what it runs) rather than closing it at once with 1012; uvicorn's grace period bounds that."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ending = Ending()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if hasattr(self, "scope"):  # not when the handshake was refused
            self.scope["extensions"][ENDING] = self.ending  # type: ignore[assignment]

    def shutdown(self) -> None:
        if self.ending.watched and self.handshake_complete and not self.close_sent:
            self.ending.asked.set()
            return
        super().shutdown()


class Server(uvicorn.Server):
    """uvicorn's server; on shutdown it first takes the connections waiting in the listen backlog."""

    def __init__(self, config: uvicorn.Config, draining: Draining) -> None:
        super().__init__(config)
        self._draining = draining
        self._accepting: set[asyncio.Task[Any]] = set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._draining.active = True
        self._accept_waiting()
        await super().shutdown(sockets)

    def _accept_waiting(self) -> None:
        """Accepts what the kernel has already connected: closing the listener would reset them."""
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.Protocol:
            return self.config.http_protocol_class(  # type: ignore[call-arg]
                config=self.config, server_state=self.server_state, app_state=self.lifespan.state
            )

        for server in self.servers:
            for listener in server.sockets:
                with listener.dup() as sock:
                    while True:
                        try:
                            connection, _ = sock.accept()
                        except OSError:  # BlockingIOError: none left
                            break
                        connection.setblocking(False)
                        task = loop.create_task(loop.connect_accepted_socket(protocol, connection))
                        self._accepting.add(task)
                        task.add_done_callback(self._accepting.discard)


def server_for(app: ASGIApp, settings: Settings) -> Server:
    """The uvicorn server for ``app`` on the configured host and port, with the configured timeouts."""
    draining = Draining()
    protocol = type(
        "HttpProtocol",
        (HttpProtocol,),
        {
            # Request heads are bounded while they arrive; httptools alone reads headers of any size.
            "max_head_bytes": settings.max_header_bytes,
            "header_timeout": float(settings.header_timeout_seconds),
            "draining": draining,
        },
    )
    # On SIGTERM or SIGINT uvicorn stops accepting and lets in-flight requests finish (up to the grace
    # period); WebSockets answer what they run, then close with 1012 (service restart), which
    # graphql-transport-ws clients retry.
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        lifespan="on",
        http=protocol,
        ws=WebSocketProtocol,
        timeout_keep_alive=settings.idle_timeout_seconds,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    return Server(config, draining)
