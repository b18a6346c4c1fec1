"""GraphiQL works offline: every asset comes from this server, and a query runs in a real browser."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from graphql import parse, print_ast

from api.cli.seeding import demo_callers
from api.http.app import create_app
from api.http.graphiql import ASSETS, Caller, integrities
from api.settings import Environment, Settings
from auth.principal import Role
from domain.repositories import Repositories
from tests import factories as f
from tests.browser.driver import first_load
from tests.conftest import served
from tests.node import run_in_chromium

HERE = Path(__file__).resolve().parent
README = (HERE.parents[1] / "README.md").read_text()
HTML = {"Accept": "text/html"}
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
    return await run_in_chromium(HERE / "graphiql_check.mjs", url, bearer, str(screenshot), chromium=chromium)


def test_the_asset_list_carries_the_integrity_hashes_of_strawberrys_page() -> None:
    assert {asset.key: asset.integrity for asset in ASSETS} == integrities()


async def test_only_a_browser_on_this_machine_gets_the_development_tokens(settings: Settings) -> None:
    callers = [Caller("frontline", "eyJ.signed.token", "{ viewer { role } }")]
    app = create_app(settings, graphiql_callers=callers)
    pages = {}
    for client in (("127.0.0.1", 50000), ("192.0.2.7", 50000)):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            pages[client[0]] = await http.get("/graphql", headers=HTML)

    assert "eyJ.signed.token" in pages["127.0.0.1"].text
    assert pages["127.0.0.1"].headers["cache-control"] == "no-store"
    assert "eyJ" not in pages["192.0.2.7"].text
    assert "customer360-role" not in pages["192.0.2.7"].text


async def test_a_production_server_has_no_development_callers(settings: Settings) -> None:
    production = settings.model_copy(update={"environment": Environment.PRODUCTION, "graphiql": True})
    assert await demo_callers(production) == []
    with pytest.raises(ValueError, match="never hands out development tokens"):
        create_app(production, graphiql_callers=[Caller("frontline", "eyJ.t.t", "{ viewer { role } }")])


@pytest.mark.browser
async def test_graphiql_opens_signed_in_with_the_schema_and_a_query_that_answers(
    settings: Settings, repos: Repositories, chromium: Path, puppeteer: Path, tmp_path: Path
) -> None:
    customers = [f.customer(region="north") for _ in range(3)]
    await repos.customers.insert_many(customers)
    callers = await demo_callers(settings)

    shot = tmp_path / "graphiql.png"
    with served(create_app(settings, graphiql_callers=callers)) as url:
        report = await first_load(f"{url}/graphql", chromium, switch_to="customer", screenshot=shot)

    first, switched = report["first"], report["switched"]
    # The Docs pane lists the root types without a click: the schema loaded with the page's own token.
    assert "query: Query" in first["docs"]
    assert first["role"] == "frontline"
    assert first["picker"] == [c.role for c in callers] == [r.value for r in Role]
    # The editor opens on the README's first query, and it answers.
    assert normalized(first["query"]) == normalized(readme_first_query())
    answer = json.loads(first["result"])
    assert "errors" not in answer, answer
    assert {e["node"]["displayName"] for e in answer["data"]["customers"]["edges"]} == {
        c.display_name for c in customers
    }
    # Switching role reloads GraphiQL signed in as that role, with a query that answers for it.
    assert switched["role"] == "customer"
    assert "query: Query" in switched["docs"]
    me = json.loads(switched["result"])
    assert "errors" not in me, me
    assert me["data"]["me"]["displayName"] == customers[0].display_name
    assert report["failures"] == []
    assert report["errors"] == []


def readme_first_query() -> str:
    found = re.search(r"```graphql\n(.*?)```", README, re.S)
    assert found is not None
    return found.group(1)


def normalized(document: str) -> str:
    """A GraphQL document without its comments, in graphql-core's layout."""
    return print_ast(parse(document, no_location=True))
