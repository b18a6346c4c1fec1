"""GraphiQL, served with its assets from this server so it works without internet access."""

from __future__ import annotations

from strawberry.http.ides import get_graphql_ide_html


def graphiql_page() -> str:
    """The GraphiQL page."""
    return get_graphql_ide_html(graphql_ide="graphiql")
