"""Request headers at the edge, through ``customer360 serve``'s own socket: one Authorization, bounded sizes.

Proxies and servers disagree on which of two ``Authorization`` headers counts, so a request with more than one
is refused rather than read either way. Headers are bounded before anything reads them in full: the
``Authorization`` value (default 8 KiB) before any signature work, and the whole request head (default 32 KiB)
while it is being received.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from api.storage.embedded import free_port
from tests.conftest import TEST_SECRET
from tests.e2e.servers import Server

START_DEADLINE = 60.0
VIEWER = {"query": "{ viewer { subject role } }"}


def token(role: str = "frontline", *, subject: str = "agent", padding: int = 0) -> str:
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role,
        "iss": "customer360",
        "aud": "customer360",
        "exp": int(time.time()) + 600,
    }
    if role in ("frontline", "manager"):
        claims["regions"] = ["north"]
    if padding:
        claims["padding"] = "x" * padding
    return jwt.encode(claims, TEST_SECRET, algorithm="HS256")


@pytest.fixture(scope="module")
def port(mongodb_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One development server with default limits for the whole module."""
    env = {
        "MONGODB_URI": mongodb_uri,
        "CUSTOMER360_DATABASE_NAME": f"test_{uuid.uuid4().hex[:16]}",
        "CUSTOMER360_JWT_SECRET": TEST_SECRET,
    }
    server = Server(tmp_path_factory.mktemp("headers"), free_port(), env, "--no-demo")
    try:
        server.wait_for("customer360 is running", time.monotonic() + START_DEADLINE)
        yield server.port
    finally:
        server.stop()


def post(port: int, headers: list[tuple[str, str]]) -> httpx.Response:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        return http.post("/graphql", json=VIEWER, headers=headers)


def only_error(response: httpx.Response) -> dict[str, Any]:
    [error] = response.json()["errors"]
    assert isinstance(error, dict)
    return error


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(["Bearer not-a-token", f"Bearer {token()}"], id="invalid-then-valid"),
        pytest.param([f"Bearer {token()}", "Bearer not-a-token"], id="valid-then-invalid"),
        pytest.param([f"Bearer {token('board')}", f"Bearer {token('frontline')}"], id="board-then-frontline"),
        pytest.param([f"Bearer {token()}", f"Bearer {token()}"], id="the-same-twice"),
    ],
)
def test_more_than_one_authorization_header_is_a_400_naming_the_header(port: int, values: list[str]) -> None:
    response = post(port, [("Authorization", value) for value in values])
    assert response.status_code == 400
    error = only_error(response)
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["header"] == "Authorization"
    assert "Authorization" in error["message"]
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "data" not in response.json()


def test_one_authorization_header_is_still_accepted(port: int) -> None:
    response = post(port, [("Authorization", f"Bearer {token('board', subject='chair')}")])
    assert response.status_code == 200
    assert response.json() == {
        "data": {"viewer": {"subject": "chair", "role": "BOARD"}},
        **extensions(response),
    }


def extensions(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    return {"extensions": body["extensions"]} if "extensions" in body else {}


async def test_a_websocket_upgrade_with_two_authorization_headers_is_refused_with_400(port: int) -> None:
    headers = [("Authorization", f"Bearer {token('board')}"), ("Authorization", f"Bearer {token()}")]
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers=headers,
            open_timeout=30,
        ):
            pass
    assert refused.value.response.status_code == 400
    [error] = json.loads(refused.value.response.body)["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["header"] == "Authorization"


def test_an_authorization_header_over_8_kib_is_refused_with_431_even_when_its_signature_is_valid(
    port: int,
) -> None:
    large = token(padding=7_500)
    assert 9_000 < len(large) < 12_000
    response = post(port, [("Authorization", f"Bearer {large}")])
    assert response.status_code == 431
    error = only_error(response)
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["limit"] == "authorizationSize"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]

    below = token(padding=5_000)
    assert 6_000 < len(below) < 8_000
    assert post(port, [("Authorization", f"Bearer {below}")]).status_code == 200


async def test_a_websocket_token_over_8_kib_is_refused_at_connection_init(port: int) -> None:
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=30,
    ) as ws:
        payload = {"Authorization": f"Bearer {token(padding=7_500)}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([("Authorization", f"Bearer {token(padding=75_000)}")], id="a-100-kB-token"),
        pytest.param([(f"X-Padding-{n}", "y" * 1_000) for n in range(40)], id="40-headers-of-1-kB"),
    ],
)
def test_request_headers_over_32_kib_are_refused_with_431(port: int, headers: list[tuple[str, str]]) -> None:
    response = post(port, headers)
    assert response.status_code == 431
    error = only_error(response)
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["limit"] == "headerSize"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert response.headers["connection"] == "close"


def test_a_header_of_many_megabytes_is_refused_without_being_read_in_full(port: int) -> None:
    # Larger than what the kernel's socket buffers on both ends could hold for a server that stopped reading.
    size = 64 * 1024 * 1024
    sent = 0
    failure: list[OSError] = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        sock.settimeout(60)
        sock.connect(("127.0.0.1", port))

        def send() -> None:
            nonlocal sent
            chunk = b"z" * 65_536
            try:
                sock.sendall(b"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ")
                while sent < size:
                    sock.sendall(chunk)
                    sent += len(chunk)
                sock.sendall(b"\r\n\r\n")
            except OSError as error:
                failure.append(error)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        head, body = read_response(sock)
        sender.join(timeout=60)
    assert not sender.is_alive()
    assert head.startswith(b"HTTP/1.1 431 "), head
    [error] = json.loads(body)["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["limit"] == "headerSize"
    assert failure, "the server read the whole header"
    assert sent < size


def read_response(sock: socket.socket, pending: bytearray | None = None) -> tuple[bytes, bytes]:
    """The head and body of one HTTP response with a Content-Length, read from a raw socket.

    Bytes received past that response stay in ``pending`` for the next call.
    """
    received = pending if pending is not None else bytearray()
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65_536)
        assert chunk, f"connection closed before a response: {bytes(received)!r}"
        received += chunk
    end = received.index(b"\r\n\r\n")
    head = bytes(received[:end])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")[1:]
        if line.lower().startswith(b"content-length:")
    )
    while len(received) < end + 4 + length:
        chunk = sock.recv(65_536)
        assert chunk, "connection closed inside the body"
        received += chunk
    body = bytes(received[end + 4 : end + 4 + length])
    del received[: end + 4 + length]
    return head, body


def test_a_head_over_the_limit_behind_a_pipelined_request_is_refused_after_its_response(port: int) -> None:
    def request(extra: bytes = b"") -> bytes:
        body = json.dumps(VIEWER).encode()
        return (
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {token('bi', subject='pipelined')}\r\n".encode()
            + extra
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )

    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request() + request(b"X-Padding: " + b"p" * 40_000 + b"\r\n"))
        pending = bytearray()
        first_head, first_body = read_response(sock, pending)
        second_head, second_body = read_response(sock, pending)
    assert first_head.startswith(b"HTTP/1.1 200 "), first_head
    assert json.loads(first_body)["data"] == {"viewer": {"subject": "pipelined", "role": "BI"}}
    assert second_head.startswith(b"HTTP/1.1 431 "), second_head
    assert json.loads(second_body)["errors"][0]["extensions"]["limit"] == "headerSize"
