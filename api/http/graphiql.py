"""GraphiQL, served with its assets from this server so it works without internet access."""

from __future__ import annotations

import functools
import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.http.ides import get_graphql_ide_html

PREFIX = "/graphiql-assets"
CDN = "https://unpkg.com"
# Versioned paths never change content, so browsers may keep them for a year.
_CACHE = "public, max-age=31536000, immutable"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of an npm package that strawberry's GraphiQL page loads."""

    package: str
    version: str
    path: str

    @property
    def key(self) -> str:
        """Where the file lives, both under the asset directory and under ``PREFIX``."""
        return f"{self.package}@{self.version}/{self.path}"


# Must match the URLs in strawberry's page; graphiql_page() fails loudly when they drift.
ASSETS = (
    Asset("react", "18.2.0", "umd/react.production.min.js"),
    Asset("react-dom", "18.2.0", "umd/react-dom.production.min.js"),
    Asset("js-cookie", "3.0.5", "dist/js.cookie.min.js"),
    Asset("graphiql", "3.8.3", "graphiql.min.css"),
    Asset("graphiql", "3.8.3", "graphiql.min.js"),
    Asset("@graphiql/plugin-explorer", "1.0.2", "dist/style.css"),
    Asset("@graphiql/plugin-explorer", "1.0.2", "dist/index.umd.js"),
)
_BY_KEY = {asset.key: asset for asset in ASSETS}

DEFAULT_QUERY = """# customer360 GraphQL API
#
# Operations need a bearer token. Print a development one with
#   customer360 token --role frontline --regions north,south
# and add it in the Headers tab below:
#   {"Authorization": "Bearer <token>"}
#
# Run with Ctrl-Enter or the play button; Ctrl-Space completes fields.
{
  customers(first: 5) {
    edges {
      node {
        id
        displayName
      }
    }
  }
}
"""
_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)


def missing_assets(asset_dir: Path) -> list[str]:
    """The asset files (as ``package@version/path``) not present under ``asset_dir``."""
    return [asset.key for asset in ASSETS if not (asset_dir / asset.key).is_file()]


def integrities() -> dict[str, str]:
    """Each asset's ``integrity`` attribute (``sha384-…``) as strawberry's page pins it."""
    page = get_graphql_ide_html(graphql_ide="graphiql")
    found = {}
    for asset in ASSETS:
        match = re.search(re.escape(f'"{CDN}/{asset.key}"') + r'\s+integrity="([^"]+)"', page)
        if match is None:
            raise RuntimeError(f"strawberry's GraphiQL page no longer loads {asset.key}: update ASSETS")
        found[asset.key] = match.group(1)
    return found


@functools.cache
def _local_page() -> str:
    page = get_graphql_ide_html(graphql_ide="graphiql")
    for asset in ASSETS:
        url = f"{CDN}/{asset.key}"
        if page.count(url) != 1:
            raise RuntimeError(f"strawberry's GraphiQL page no longer loads {url} once: update ASSETS")
        page = page.replace(url, f"{PREFIX}/{asset.key}")
    if CDN in page:
        raise RuntimeError("strawberry's GraphiQL page loads assets missing from ASSETS")
    # A template literal: the query must contain neither a backtick nor "${".
    return _EXAMPLE_QUERY.sub(lambda _: f"const EXAMPLE_QUERY = `{DEFAULT_QUERY}`;", page, count=1)


def _missing_page(asset_dir: Path, missing: list[str]) -> str:
    items = "".join(f"<li><code>{html.escape(key)}</code></li>" for key in missing)
    return (
        "<!doctype html><html><head><title>GraphiQL assets missing</title></head><body>"
        "<h1>GraphiQL assets missing</h1>"
        f"<p>Run <code>make graphiql-assets</code> to fetch them into "
        f"<code>{html.escape(str(asset_dir))}</code>, then reload this page.</p>"
        f"<p>Missing:</p><ul>{items}</ul></body></html>"
    )


def graphiql_page(asset_dir: Path) -> str:
    """The GraphiQL page loading its assets from this server, or how to fetch them when missing."""
    missing = missing_assets(asset_dir)
    return _missing_page(asset_dir, missing) if missing else _local_page()


def graphiql_routes(asset_dir: Path) -> list[BaseRoute]:
    """Serves exactly the files in ``ASSETS`` from ``asset_dir`` under ``PREFIX``."""

    async def serve(request: Request) -> Response:
        asset = _BY_KEY.get(request.path_params["key"])
        if asset is None or not (asset_dir / asset.key).is_file():
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(
            asset_dir / asset.key,
            media_type=_TYPES[Path(asset.path).suffix],
            headers={"Cache-Control": _CACHE, "X-Content-Type-Options": "nosniff"},
        )

    return [Route(PREFIX + "/{key:path}", serve, methods=["GET", "HEAD"])]


def _print_manifest() -> None:
    """Tab-separated ``package version path integrity`` lines, read by scripts/fetch_graphiql_assets.sh."""
    for key, integrity in integrities().items():
        asset = _BY_KEY[key]
        print(asset.package, asset.version, asset.path, integrity, sep="\t")


if __name__ == "__main__":
    if sys.argv[1:] != ["manifest"]:
        sys.exit("usage: python -m api.http.graphiql manifest")
    _print_manifest()
