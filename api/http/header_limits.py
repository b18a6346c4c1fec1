"""uvicorn's httptools protocol with a bound on the request head, enforced while the head is being received.

httptools itself reads headers of any size, and the application sees a request only once its head is
complete, so no middleware can stop an 8 MB header from being read in full. This protocol counts the bytes
received while a head is incomplete and refuses with 431 (``LIMIT_EXCEEDED``, ``extensions.limit:
"headerSize"``) as soon as they pass the limit; a complete head is measured exactly before the application is
called. After the refusal the connection stops answering, discards what the client still sends for a moment
(so the client reads the 431 rather than a connection reset) and closes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, ClassVar

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

logger = logging.getLogger("customer360.access")

# After a refusal: how much more of the request is read and dropped, and for how long, before closing.
LINGER_BYTES = 1024 * 1024
LINGER_SECONDS = 2.0


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a refused request."""


class BoundedHeadProtocol(HttpToolsProtocol):
    """HTTP/1.1 with requests whose line and headers exceed ``max_head_bytes`` refused with 431."""

    max_head_bytes: ClassVar[int] = 32_768

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # between requests, or receiving a request line and headers
        self._head_bytes = 0  # bytes received since the current head began (chunk-granular)
        self._refused = False
        self._refusal_pending = False
        self._linger_bytes = 0
        self._linger: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        # uvicorn's own data_received, with the count and refusals added (it would answer 400 to a parser
        # stopped on purpose).
        if self._refused:
            # Read and dropped, so the client gets to read the 431; a client sending more is cut off.
            self._linger_bytes -= len(data)
            if self._linger_bytes <= 0:
                self.transport.close()
            return
        self._unset_keepalive_if_required()
        if self._in_head:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._refused:
                return
            message = "Invalid HTTP request received."
            self.logger.warning(message)
            self.send_400_response(message)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._in_head and self._head_bytes > self.max_head_bytes:
            self._refuse()

    def on_headers_complete(self) -> None:
        self._in_head = False
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_head_bytes:
            self._refuse()
            raise _HeadTooLarge
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes = True, 0

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger is not None:
            self._linger.cancel()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        if not self._refused or self.pipeline:
            super().on_response_complete()
            return
        self.server_state.total_requests += 1
        if self._refusal_pending:
            self._send_refusal()

    def _refuse(self) -> None:
        self._refused = True
        self._linger_bytes = LINGER_BYTES
        self._unset_keepalive_if_required()
        if self.cycle is not None and not self.cycle.response_complete:
            # Requests received before are still being answered: the 431 follows their responses.
            self._refusal_pending = True
            return
        self._send_refusal()

    def _send_refusal(self) -> None:
        self._refusal_pending = False
        if self.transport.is_closing():
            return
        request_id = uuid.uuid4().hex
        message = f"the request headers exceed {self.max_head_bytes} bytes"
        extensions = {"code": "LIMIT_EXCEEDED", "limit": "headerSize", "requestId": request_id}
        body = orjson.dumps({"errors": [{"message": message, "extensions": extensions}]})
        head = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: %d\r\n" % len(body),
                b"connection: close\r\n",
                b"x-request-id: %s\r\n\r\n" % request_id.encode(),
            ]
        )
        self.transport.write(b"".join(head) + body)
        logger.warning(
            "request headers over %d bytes refused",
            self.max_head_bytes,
            extra={"request_id": request_id, "fields": {"status": 431, "limit": "headerSize"}},
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._linger = self.loop.call_later(LINGER_SECONDS, self.transport.close)


def bounded_head_protocol(max_head_bytes: int) -> type[BoundedHeadProtocol]:
    """The protocol class for uvicorn's ``http`` setting, with this limit."""
    return type("BoundedHeadProtocol", (BoundedHeadProtocol,), {"max_head_bytes": max_head_bytes})
