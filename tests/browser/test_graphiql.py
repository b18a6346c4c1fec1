"""GraphiQL works offline: every asset comes from this server, and a query runs in a real browser."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from api.http.app import create_app
from api.http.graphiql import ASSETS
from api.settings import Settings
from auth.principal import Role
from domain.repositories import Repositories
from tests import factories as f

HERE = Path(__file__).resolve().parent
HTML = {"Accept": "text/html"}
CHECK_TIMEOUT = 120.0
_ASSET = re.compile(r'(?:src|href)="(/graphiql-assets/[^"]+)"\s+integrity="([^"]+)"')


def sha384(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


async def test_page_loads_every_asset_from_this_server_with_matching_integrity(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/graphql", headers=HTML)

    assert page.status_code == 200
    assert "unpkg" not in page.text
    assets = _ASSET.findall(page.text)
    assert len(assets) == len(ASSETS)
    for url, integrity in assets:
        response = await http.get(url)
        assert response.status_code == 200, url
        assert sha384(response.content) == integrity, url
        assert response.headers["content-type"].startswith(("text/javascript", "text/css"))
        assert "immutable" in response.headers["cache-control"]


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql-assets/../api/settings.py",
        "/graphiql-assets/%2e%2e/api/settings.py",
        "/graphiql-assets/graphiql@3.8.3/../../../api/settings.py",
        "/graphiql-assets/react@18.2.0/package.json",
        "/graphiql-assets/react@18.2.0/umd/",
        "/graphiql-assets/",
    ],
)
async def test_files_outside_the_asset_list_are_not_found(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.get(path)).status_code == 404


async def test_page_says_how_to_fetch_missing_assets(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings.model_copy(update={"graphiql_assets_dir": tmp_path / "absent"}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        page = await client.get("/graphql", headers=HTML)

    assert page.status_code == 200
    assert "make graphiql-assets" in page.text
    assert "unpkg" not in page.text
    assert "<script" not in page.text


@pytest.mark.browser
async def test_graphiql_runs_a_query_in_chromium_without_leaving_this_server(
    live_server: str, repos: Repositories, token: Any, chromium: Path, puppeteer: Path, tmp_path: Path
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])

    report = await _check(
        f"{live_server}/graphql", token(Role.FRONTLINE), chromium, tmp_path / "graphiql.png"
    )

    assert "customers(first: 5)" in report["initialQuery"]
    result = json.loads(report["result"])
    assert result["data"] == {"customers": {"edges": [{"node": {"displayName": customer.display_name}}]}}
    assert "errors" not in result
    assert report["failures"] == []
    assert report["errors"] == []
    assert report["requests"]
    origin = urlsplit(live_server).netloc
    elsewhere = [r["url"] for r in report["requests"] if not _local(r["url"], origin)]
    assert elsewhere == []
    requested = {urlsplit(r["url"]).path for r in report["requests"]}
    assert {f"/graphiql-assets/{asset.key}" for asset in ASSETS} <= requested


def _local(url: str, origin: str) -> bool:
    # data: URLs (fonts inlined in GraphiQL's CSS) are decoded in the browser and reach no host.
    parts = urlsplit(url)
    return parts.scheme == "data" or (parts.scheme == "http" and parts.netloc == origin)


async def _check(url: str, bearer: str, chromium: Path, screenshot: Path) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(HERE / "graphiql_check.mjs"),
        url,
        bearer,
        str(screenshot),
        cwd=HERE,
        env={**os.environ, "CHROMIUM": str(chromium)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), CHECK_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode()
    report: dict[str, Any] = json.loads(stdout)
    return report
