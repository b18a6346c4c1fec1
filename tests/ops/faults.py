"""Fault injection on real sockets: a TCP proxy in front of the database that can cut one connection or
hold every request back.

The proxy runs its own event loop in a thread, so the server under test (a child process or uvicorn in
this process) reaches the database through it like through any network. It reads the MongoDB wire
protocol just enough to know which command a message carries, so a test can drop the very connection a
given command travels on: before the command reaches the database (nothing happened there) or after it
did but before its reply comes back (it happened, the client cannot know). While it is ``silent`` the
database gets nothing and so answers nothing: its connections stay open and new ones are accepted, as with a
database busy with one long command.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import bson

from api.storage.embedded import free_port

OP_MSG = 2013
HEADER = struct.Struct("<iiii")


@dataclass
class _Cut:
    commands: frozenset[str]
    collection: str | None
    after_forwarding: bool
    done: threading.Event = field(default_factory=threading.Event)
    command: str | None = None


def command_of(message: bytes) -> tuple[str | None, object]:
    """The command an OP_MSG carries (the first key of its body) and its value (often a collection)."""
    _, _, _, opcode = HEADER.unpack_from(message)
    if opcode != OP_MSG or len(message) < 21 or message[20] != 0:
        return None, None
    body = bson.decode(message[21 : 21 + int.from_bytes(message[21:25], "little")])
    return next(iter(body.items()), (None, None))


class Proxy:
    """Forwards 127.0.0.1:``port`` to the database at ``target_port``; ``cut`` drops one connection,
    ``silent`` holds every request back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.cuts: list[_Cut] = []
        self._armed: _Cut | None = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        # Set while requests are forwarded; only the proxy's loop touches it (see _forward).
        self._forwarding = asyncio.Event()
        self._forwarding.set()
        self._thread = threading.Thread(target=self._run, name="db-proxy", daemon=True)

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def __enter__(self) -> Proxy:
        self._thread.start()
        assert self._ready.wait(10), "the proxy did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def cut(self, *commands: str, collection: str | None = None, after_forwarding: bool = False) -> _Cut:
        """Arms a cut: the next message carrying one of ``commands`` closes its connection at both ends.

        ``collection`` narrows it to commands on that collection. With ``after_forwarding`` the database
        gets the command first and only its reply is lost.
        """
        cut = _Cut(frozenset(commands), collection, after_forwarding)
        with self._lock:
            self._armed = cut
            self.cuts.append(cut)
        return cut

    @contextlib.contextmanager
    def silent(self) -> Iterator[None]:
        """No request reaches the database inside the block; those held back are forwarded after it.

        In effect when this returns, unlike a signal to the database process, and whatever else listens on
        the database's port: a reply while silent can only be to a request forwarded before.
        """
        self._forward(False)
        try:
            yield
        finally:
            self._forward(True)

    def _forward(self, forwarding: bool) -> None:
        async def apply() -> None:
            if forwarding:
                self._forwarding.set()
            else:
                self._forwarding.clear()

        asyncio.run_coroutine_threadsafe(apply(), self._loop).result(timeout=10)

    def _take(self, name: str | None, target: object) -> _Cut | None:
        with self._lock:
            cut = self._armed
            if cut is None or name not in cut.commands:
                return None
            if cut.collection is not None and target != cut.collection:
                return None
            self._armed = None
            cut.command = name
            return cut

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _accept(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        try:
            server_reader, server = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client.close()
            return
        self._writers |= {client, server}
        link = _Link(client, server)
        upstream = asyncio.ensure_future(self._requests(client_reader, link))
        downstream = asyncio.ensure_future(self._replies(server_reader, link))
        await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        for task in (upstream, downstream):
            task.cancel()
        for writer in (client, server):
            writer.close()
            self._writers.discard(writer)

    async def _requests(self, reader: asyncio.StreamReader, link: _Link) -> None:
        """Client to database, one wire message at a time."""
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                message = await _message(reader)
                cut = self._take(*command_of(message))
                if cut is not None and not cut.after_forwarding:
                    _abort(link.client, link.server)
                    cut.done.set()
                    return
                if cut is not None:
                    # The database runs it; its reply is what gets lost (see _replies).
                    link.lose_reply_to, link.cut = HEADER.unpack_from(message)[1], cut
                await self._forwarding.wait()
                link.server.write(message)
                await link.server.drain()

    @staticmethod
    async def _replies(reader: asyncio.StreamReader, link: _Link) -> None:
        """Database to client, one wire message at a time."""
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                message = await _message(reader)
                if link.cut is not None and HEADER.unpack_from(message)[2] == link.lose_reply_to:
                    _abort(link.client, link.server)
                    link.cut.done.set()
                    return
                link.client.write(message)
                await link.client.drain()


@dataclass
class _Link:
    """One proxied connection, and the request whose reply it is to lose, if any."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    lose_reply_to: int | None = None
    cut: _Cut | None = None


async def _message(reader: asyncio.StreamReader) -> bytes:
    header = await reader.readexactly(HEADER.size)
    return header + await reader.readexactly(HEADER.unpack(header)[0] - HEADER.size)


def _abort(*writers: asyncio.StreamWriter) -> None:
    """Closes with a reset, as a dying peer or a middlebox does, rather than an orderly FIN."""
    for writer in writers:
        transport = writer.transport
        with contextlib.suppress(OSError):
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
