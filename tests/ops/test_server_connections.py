"""Connections as a real server sees them: half-received requests at SIGTERM, idle and trickling clients.

On SIGTERM the server finishes every request it has begun to receive (on a new connection or a
keep-alive one), and every request sent on a connection it has not accepted or read yet, before closing
it; a connection that sends nothing, or sends its headers too slowly,
is closed after its timeout instead of being held for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from api.http.serving import server_for
from api.settings import Settings
from api.storage.embedded import free_port
from auth.principal import Role
from tests.ops.load import wait_until
from tests.ops.test_graceful_shutdown import serve, served

DEADLINE = 30.0
IDLE_SECONDS = 1
HEADER_SECONDS = 2


@contextlib.contextmanager
def server(settings: Settings, tmp_path: Path, **env: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    process = serve(settings, port, tmp_path / "server.log", env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: served(url), deadline=time.monotonic() + DEADLINE, message="serve did not start")
        yield port, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def request(bearer: str, *, query: str = "{ __typename }") -> bytes:
    body = json.dumps({"query": query}).encode()
    head = (
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {bearer}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body (what the server sends for GraphQL)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data[:60]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of a response")
        body += chunk
    return int(status_line.split()[1]), headers, body[:length]


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed the connection (end of stream or reset), without waiting."""
    timeout = sock.gettimeout()
    sock.settimeout(0)
    try:
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False
    except ConnectionError:
        return True
    finally:
        sock.settimeout(timeout)


def at_end(sock: socket.socket) -> bool:
    """Whether the server closes the connection (waiting for it up to the socket's timeout)."""
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)


def test_sigterm_finishes_the_requests_it_has_begun_to_receive(
    settings: Settings, token: Any, tmp_path: Path
) -> None:
    bearer = token(Role.FRONTLINE)
    whole = request(bearer)
    begun, rest = whole[:40], whole[40:]
    with server(settings, tmp_path) as (port, process):
        fresh = [connect(port) for _ in range(10)]
        kept = [connect(port) for _ in range(10)]
        try:
            for sock in kept:
                sock.sendall(whole)
                assert read_response(sock)[0] == 200
            # The start of a request on new and on kept-alive connections, then the signal, then the rest.
            for sock in fresh + kept:
                sock.sendall(begun)
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            answers = []
            for sock in fresh + kept:
                try:
                    sock.sendall(rest)
                    status, headers, body = read_response(sock)
                    answers.append((status, headers.get("connection"), json.loads(body).get("data")))
                except OSError as error:
                    answers.append((0, type(error).__name__, None))
            closed = [at_end(sock) for sock in fresh + kept]
        finally:
            for sock in fresh + kept:
                sock.close()
        assert process.wait(timeout=DEADLINE) == 0
    assert answers == [(200, "close", {"__typename": "Query"})] * 20
    # Each connection is closed once its request is answered.
    assert all(closed)


class HeldServer:
    """``serve``'s HTTP server in this process, on a loop of its own whose turns a test can hold.

    Holding the loop lets requests arrive at a chosen moment of the shutdown: sent on connections the kernel
    has completed but the server has not accepted yet, or accepted but not read yet, when shutdown begins.
    """

    def __init__(self, settings: Settings) -> None:
        async def ok(_: Request) -> Response:
            return PlainTextResponse("ok")

        app = Starlette(routes=[Route("/", ok)])
        self.port = free_port()
        self.server = server_for(app, settings.model_copy(update={"host": "127.0.0.1", "port": self.port}))
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self.loop.run_until_complete, args=(self._serve(),))

    async def _serve(self) -> None:
        # What uvicorn's Server.serve does, with the shutdown started by the test instead of a signal.
        self.server.config.load()
        self.server.lifespan = self.server.config.lifespan_class(self.server.config)
        await self.server.startup()
        self._started.set()
        await self._stop.wait()
        await self.server.shutdown()

    def __enter__(self) -> HeldServer:
        self._thread.start()
        assert self._started.wait(DEADLINE), "the server did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.join(timeout=DEADLINE)
        assert not self._thread.is_alive(), "the server did not shut down"
        self.loop.close()

    def connections(self) -> int:
        return len(self.server.server_state.connections)

    @contextlib.contextmanager
    def held_then_shut_down(self) -> Iterator[None]:
        """Holds the server's loop for the block; shutdown then begins before the loop reads any socket."""
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            holding.set()
            release.wait(DEADLINE)
            # Wakes the shutdown on the loop's next turn, ahead of what its sockets received meanwhile.
            self._stop.set()

        self.loop.call_soon_threadsafe(hold)
        assert holding.wait(DEADLINE)
        try:
            yield
        finally:
            release.set()


def test_shutdown_answers_requests_sent_on_connections_not_yet_accepted_or_read(settings: Settings) -> None:
    whole = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with HeldServer(settings) as held:
        accepted = [connect(held.port) for _ in range(10)]
        wait_until(
            lambda: held.connections() == 10, deadline=time.monotonic() + DEADLINE, message="not accepted"
        )
        with held.held_then_shut_down():
            # Completed by the kernel, waiting in the listen backlog.
            backlog = [connect(held.port) for _ in range(10)]
            for sock in accepted + backlog:
                sock.sendall(whole)
        answers = []
        try:
            for sock in accepted + backlog:
                try:
                    status, headers, body = read_response(sock)
                    answers.append((status, headers.get("connection"), body))
                except OSError as error:
                    answers.append((0, type(error).__name__, b""))
        finally:
            for sock in accepted + backlog:
                sock.close()
    assert answers == [(200, "close", b"ok")] * 20


def test_connections_that_send_nothing_are_closed_after_the_idle_timeout(
    settings: Settings, tmp_path: Path
) -> None:
    env = {"CUSTOMER360_IDLE_TIMEOUT_SECONDS": str(IDLE_SECONDS)}
    with server(settings, tmp_path, **env) as (port, _):
        idle = [connect(port) for _ in range(50)]
        try:
            wait_until(
                lambda: all(closed_by_server(sock) for sock in idle),
                deadline=time.monotonic() + DEADLINE,
                message=f"{sum(not closed_by_server(s) for s in idle)} of 50 idle connections are held",
            )
        finally:
            for sock in idle:
                sock.close()


def test_a_client_sending_its_headers_too_slowly_is_cut_off(
    settings: Settings, token: Any, tmp_path: Path
) -> None:
    env = {
        "CUSTOMER360_IDLE_TIMEOUT_SECONDS": str(IDLE_SECONDS),
        "CUSTOMER360_HEADER_TIMEOUT_SECONDS": str(HEADER_SECONDS),
    }
    with server(settings, tmp_path, **env) as (port, _):
        slow = [connect(port) for _ in range(20)]
        try:
            for sock in slow:
                sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            started = time.monotonic()
            open_ = list(slow)
            # One header byte per connection every 0.3 s, each well within the idle timeout.
            while open_ and time.monotonic() < started + DEADLINE:
                for sock in list(open_):
                    try:
                        sock.sendall(b"X")
                    except OSError:
                        open_.remove(sock)
                        continue
                    if closed_by_server(sock):
                        open_.remove(sock)
                time.sleep(0.3)
            held = len(open_)
            # Meanwhile a client that sends its request at once is served as always.
            with connect(port) as prompt:
                prompt.sendall(request(token(Role.FRONTLINE)))
                status = read_response(prompt)[0]
        finally:
            for sock in slow:
                sock.close()
    assert held == 0, f"{held} of 20 connections trickling their headers are still held after {DEADLINE:g} s"
    assert status == 200
