"""GraphiQL, served with its assets from this server so it works without internet access."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from string import Template

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.http.ides import get_graphql_ide_html

from api.http.graphiql_files import ASSETS, missing_assets
from auth.principal import Role

PREFIX = "/graphiql-assets"
CDN = "https://unpkg.com"
# Versioned paths never change content, so browsers may keep them for a year.
_CACHE = "public, max-age=31536000, immutable"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


_BY_KEY = {asset.key: asset for asset in ASSETS}

DEFAULT_QUERY = """# customer360 GraphQL API
#
# Operations need a bearer token: add one in the Headers tab below as
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
# Where the signed-in page changes strawberry's: each must occur exactly once.
_HEADERS_STATE = "const [headers, setHeaders] = React.useState(parameters.headers);"
_LAST_PROP = "shouldPersistHeaders: true,\n        });"
DOCS = "Documentation Explorer"  # GraphiQL's title of its Docs pane


@dataclass(frozen=True, slots=True)
class Caller:
    """A development caller GraphiQL can open as: its role, a token, and a first query that answers for it."""

    role: str
    token: str
    query: str


_FIRST_QUERIES = {
    Role.FRONTLINE: """{
  customers(first: 3) {
    edges { node { id displayName segment region } }
  }
}""",
    Role.MANAGER: """{
  customers(first: 5) {
    edges { node { id displayName emails region } }
  }
}""",
    Role.CUSTOMER: """{
  me {
    displayName
    feedback(first: 5) {
      edges { node { occurredAt touchpoint nps comment status reply { message } } }
    }
  }
}""",
    Role.INTEGRATION: """{
  customerByExternalId(system: $system, id: $id) {
    id displayName emails
  }
}""",
}
_DASHBOARD = """{
  experience(filter: {from: $start, to: $end}, groupBy: [REGION], interval: MONTH) {
    periodStart region suppressed responses nps csatMean
  }
}"""


def first_query(
    role: Role, *, regions: Sequence[str] = (), today: date, external_id: tuple[str, str] | None = None
) -> str:
    """What GraphiQL's editor holds for ``role``: a short guide, and a query that answers for it."""
    signed_in = f"{role.value} ({', '.join(regions)})" if regions else role.value
    guide = (
        f"# Signed in as {signed_in};\n"
        "# switch role at the top right.\n"
        "# Ctrl-Enter runs, Ctrl-Space completes.\n"
    )
    if role in (Role.BOARD, Role.BI):
        start = (today.replace(day=1) - timedelta(days=62)).replace(day=1)
        query = Template(_DASHBOARD).substitute(start=_string(str(start)), end=_string(str(today)))
    elif role is Role.INTEGRATION and external_id is not None:
        system, known = external_id
        query = Template(_FIRST_QUERIES[role]).substitute(system=_string(system), id=_string(known))
    else:
        query = _FIRST_QUERIES.get(role, "{\n  viewer { subject role operations }\n}")
    return guide + query + "\n"


def _string(text: str) -> str:
    """A GraphQL string literal (JSON's escapes are GraphQL's)."""
    return orjson.dumps(text).decode()


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


def graphiql_page(asset_dir: Path, callers: Sequence[Caller] = ()) -> str:
    """The GraphiQL page loading its assets from this server, or how to fetch them when missing.

    With ``callers`` (development only), the page opens signed in as the first one, with its query in the
    editor and the Docs pane showing the schema, and a picker in the top right corner switches role.
    """
    missing = missing_assets(asset_dir)
    if missing:
        return _missing_page(asset_dir, missing)
    return _signed_in_page(tuple(callers)) if callers else _local_page()


@functools.cache
def _signed_in_page(callers: tuple[Caller, ...]) -> str:
    known = {c.role: {"token": c.token, "query": c.query} for c in callers}
    # JSON inside a script element: "</" must not close it.
    data = orjson.dumps(known).decode().replace("</", "<\\/")
    first = orjson.dumps(callers[0].role).decode()
    script = f"""// Development: the demo roles, each with a token and a first query that answers for it.
      const CALLERS = {data};
      const ASKED = new URLSearchParams(window.location.search).get("role");
      const ROLE = ASKED !== null && Object.hasOwn(CALLERS, ASKED) ? ASKED : {first};
      const EXAMPLE_QUERY = CALLERS[ROLE].query;
      const SIGNED_IN = JSON.stringify({{ Authorization: "Bearer " + CALLERS[ROLE].token }}, null, 2);

      // Switching role reloads the page with that role's token and query.
      function rolePicker() {{
        const options = Object.keys(CALLERS).map((role) =>
          React.createElement("option", {{ key: role, value: role }}, role),
        );
        const select = React.createElement(
          "select",
          {{
            id: "customer360-role",
            value: ROLE,
            onChange: (event) => {{
              window.location.search = "?role=" + encodeURIComponent(event.target.value);
            }},
          }},
          options,
        );
        return React.createElement("label", {{ className: "customer360-role" }}, "Signed in as ", select);
      }}"""
    page = _local_page()
    page = _replace_once(page, _EXAMPLE_QUERY.search(page), script)
    page = _replace_once(
        page, _HEADERS_STATE, "const [headers, setHeaders] = React.useState(parameters.headers || SIGNED_IN);"
    )
    page = _replace_once(
        page,
        _LAST_PROP,
        f"shouldPersistHeaders: true,\n          visiblePlugin: {orjson.dumps(DOCS).decode()},\n"
        "        }, React.createElement(GraphiQL.Logo, null, rolePicker()));",
    )
    style = ".customer360-role { font-size: 14px; } .customer360-role select { margin-left: 4px; }"
    return _replace_once(page, "</style>", f"  {style}\n    </style>")


def _replace_once(page: str, old: str | re.Match[str] | None, new: str) -> str:
    """``page`` with ``old`` (text or a match) replaced; fails loudly if strawberry's page drifted."""
    if isinstance(old, re.Match):
        return page[: old.start()] + new + page[old.end() :]
    if old is None or page.count(old) != 1:
        raise RuntimeError(f"strawberry's GraphiQL page changed: cannot sign it in at {old!r}")
    return page.replace(old, new)


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
