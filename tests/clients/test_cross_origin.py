"""Browsers on another origin: CUSTOMER360_CORS_ORIGINS lists exact origins for HTTP and WebSocket alike."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
import websockets

from api.settings import Settings
from auth.principal import Role
from domain.repositories import Repositories
from tests.clients.conftest import HERE, Served
from tests.clients.documents import RAISED, SUBMIT, VIEWER, closed_loop
from tests.conftest import client_for
from tests.node import run_in_chromium

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>another origin</title>
<script src="/graphql-ws.min.js"></script></head><body>a page on another origin</body></html>
"""


@dataclass(frozen=True)
class Pages:
    """Two tiny static sites on 127.0.0.1: one whose origin the server lists, one whose it does not."""

    listed: str
    unlisted: str


def _static_site(files: dict[str, tuple[bytes, str]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, media = files.get(self.path, (b"not found", "text/plain"))
            self.send_response(200 if self.path in files else 404)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture(scope="module")
def pages(node_modules: Path) -> Iterator[Pages]:
    umd = (node_modules / "graphql-ws" / "umd" / "graphql-ws.min.js").read_bytes()
    files = {"/": (PAGE, "text/html"), "/graphql-ws.min.js": (umd, "text/javascript")}
    sites = [_static_site(files) for _ in range(2)]
    threads = [threading.Thread(target=site.serve_forever, daemon=True) for site in sites]
    for thread in threads:
        thread.start()
    try:
        listed, unlisted = (f"http://127.0.0.1:{site.server_address[1]}" for site in sites)
        yield Pages(listed=listed, unlisted=unlisted)
    finally:
        for site in sites:
            site.shutdown()
            site.server_close()


@pytest.fixture(scope="module")
def listing(serve: Any, pages: Pages) -> Served:
    """A server that lists the first page's origin (and one more, to show the list is a list)."""
    return serve(CUSTOMER360_CORS_ORIGINS=f"https://app.example.com, {pages.listed}")


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "https://*.example.com",
        "null",
        "app.example.com",
        "https://app.example.com/graphql",
        "https://app.example.com?x=1",
        "https://user@app.example.com",
        "ftp://app.example.com",
    ],
)
def test_only_exact_origins_are_accepted(value: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="CUSTOMER360_CORS_ORIGINS"):
        Settings(cors_origins=value)


def test_origins_are_read_as_browsers_send_them() -> None:
    settings = Settings(cors_origins="HTTPS://App.Example.com:443/ , http://127.0.0.1:9000,http://[::1]:80")

    assert settings.cors_origins == ["https://app.example.com", "http://127.0.0.1:9000", "http://[::1]"]
    assert Settings().cors_origins == []


async def test_by_default_no_other_origin_is_allowed(settings: Settings, token: Any) -> None:
    origin = "https://app.example.com"
    async with client_for(settings) as http:
        refused = await http.options("/graphql", headers=preflight(origin))
        answered = await http.post(
            "/graphql",
            json={"query": VIEWER},
            headers={"Origin": origin, "Authorization": f"Bearer {token(Role.FRONTLINE)}"},
        )

    assert refused.status_code >= 400
    assert "access-control-allow-origin" not in refused.headers
    assert answered.status_code == 200
    assert "access-control-allow-origin" not in answered.headers


async def test_a_listed_origin_gets_its_preflight_and_its_responses_answered(
    listing: Served, pages: Pages, token: Any
) -> None:
    async with httpx.AsyncClient(base_url=listing.url, timeout=10) as http:
        allowed = await http.options("/graphql", headers=preflight(pages.listed))
        answered = await http.post(
            "/graphql",
            json={"query": VIEWER},
            headers={"Origin": pages.listed, "Authorization": f"Bearer {token(Role.FRONTLINE)}"},
        )
        unauthenticated = await http.post(
            "/graphql", json={"query": VIEWER}, headers={"Origin": pages.listed}
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == pages.listed
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert {"POST", "GET"} <= {m.strip() for m in allowed.headers["access-control-allow-methods"].split(",")}
    allowed_headers = {h.strip().lower() for h in allowed.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    for response in (answered, unauthenticated):
        assert response.headers["access-control-allow-origin"] == pages.listed
        assert "origin" in response.headers["vary"].lower()
        assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    assert answered.json()["data"]["viewer"]["role"] == "FRONTLINE"
    assert unauthenticated.status_code == 401


async def test_an_unlisted_origin_is_refused(listing: Served, pages: Pages, token: Any) -> None:
    async with httpx.AsyncClient(base_url=listing.url, timeout=10) as http:
        refused = await http.options("/graphql", headers=preflight(pages.unlisted))
        answered = await http.post(
            "/graphql",
            json={"query": VIEWER},
            headers={"Origin": pages.unlisted, "Authorization": f"Bearer {token(Role.FRONTLINE)}"},
        )

    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in answered.headers


async def connects(served: Served, origin: str | None) -> int | str:
    """What a WebSocket handshake with this Origin gets: "acknowledged", or the HTTP status refusing it."""
    try:
        async with websockets.connect(
            served.ws,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            origin=origin,  # type: ignore[arg-type]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await ws.recv()
            return "acknowledged"
    except websockets.InvalidStatus as refused:
        return refused.response.status_code
    except websockets.ConnectionClosed:
        # Accepted, then closed for the missing token: the handshake itself went through.
        return "acknowledged"


async def test_websocket_handshakes_are_checked_against_the_same_origins(
    listing: Served, pages: Pages
) -> None:
    assert await connects(listing, pages.listed) == "acknowledged"
    assert await connects(listing, "https://app.example.com") == "acknowledged"
    assert await connects(listing, pages.unlisted) == 403
    # Clients that are not browsers send no Origin and carry no ambient credentials.
    assert await connects(listing, None) == "acknowledged"


async def browse(chromium: Path, page: str, plan: dict[str, Any]) -> dict[str, Any]:
    return await run_in_chromium(HERE / "cross_origin_check.mjs", page, json.dumps(plan), chromium=chromium)


@pytest.mark.browser
async def test_a_page_on_a_listed_origin_runs_a_query_and_a_subscription_in_chromium(
    listing: Served, pages: Pages, repos: Repositories, token: Any, chromium: Path
) -> None:
    loop = await closed_loop(repos)
    await listing.wait_for_subscriptions(0)
    plan = {
        "api": listing.graphql,
        "ws": listing.ws,
        "healthz": f"{listing.url}/healthz",
        "agent": loop.agent_token(token),
        "customer": loop.customer_token(token),
        "viewer": VIEWER,
        "raised": RAISED,
        "submit": SUBMIT,
        "variables": loop.detractor("browser-loop"),
    }

    report = await browse(chromium, pages.listed, plan)

    assert report["query"]["status"] == 200
    assert report["query"]["body"]["data"] == {"viewer": {"subject": loop.agent.id, "role": "FRONTLINE"}}
    assert report["mutation"]["body"]["data"]["submitFeedback"]["__typename"] == "FeedbackSubmitted"
    assert report["subscription"] == {"next": {"data": {"alertRaised": loop.pushed}}}
    assert report["errors"] == []


@pytest.mark.browser
async def test_a_page_on_an_unlisted_origin_is_refused_in_chromium(
    listing: Served, pages: Pages, token: Any, chromium: Path
) -> None:
    bearer = token(Role.FRONTLINE)
    plan = {
        "api": listing.graphql,
        "ws": listing.ws,
        "healthz": f"{listing.url}/healthz",
        "agent": bearer,
        "customer": bearer,
        "viewer": VIEWER,
        "raised": RAISED,
        "submit": SUBMIT,
        "variables": {},
    }

    report = await browse(chromium, pages.unlisted, plan)

    assert "Failed to fetch" in report["query"]["failed"]
    assert "mutation" not in report
    assert "next" not in report["subscription"]
    # Why, in the browser's words: no CORS answer for this origin, and the handshake refused with 403.
    console = "\n".join(report["console"])
    assert "blocked by CORS policy" in console
    assert "Unexpected response code: 403" in console
