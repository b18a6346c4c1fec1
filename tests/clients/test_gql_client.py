"""Python's gql client (websockets transport, graphql-transport-ws) against ``customer360 serve``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from auth.principal import Role
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests.clients.conftest import Served
from tests.clients.documents import ALIASES, DEEP, MISSPELT, RAISED, SUBMIT, VIEWER, closed_loop

DEADLINE = 30.0


@asynccontextmanager
async def session(served: Served, bearer: str) -> AsyncIterator[AsyncClientSession]:
    """A gql session over one graphql-transport-ws connection, authenticated in connection_init."""
    transport = WebsocketsTransport(
        url=served.ws,
        init_payload={"Authorization": f"Bearer {bearer}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    async with Client(transport=transport, execute_timeout=DEADLINE) as connected:
        yield connected


async def refusal(served: Served, bearer: str, query: str) -> list[dict[str, Any]]:
    """The errors gql raises for ``query``."""
    async with session(served, bearer) as gql:
        with pytest.raises(TransportQueryError) as raised:
            await gql.execute(GraphQLRequest(query))
    assert raised.value.errors is not None
    return raised.value.errors


async def test_a_query_a_mutation_and_a_subscription_with_a_pushed_alert(
    development: Served, repos: Repositories, token: Any
) -> None:
    loop = await closed_loop(repos)
    # Counting from none: no earlier test's subscription is still being closed.
    await development.wait_for_subscriptions(0)

    async with session(development, loop.agent_token(token)) as agent:
        alerts = agent.subscribe(GraphQLRequest(RAISED))
        first = asyncio.create_task(anext(alerts))
        try:
            await development.wait_for_subscriptions(1)
            viewer = await agent.execute(GraphQLRequest(VIEWER))
            async with session(development, loop.customer_token(token)) as customer:
                submitted = await customer.execute(
                    GraphQLRequest(SUBMIT, variable_values=loop.detractor("gql-loop"))
                )
            pushed = await asyncio.wait_for(first, DEADLINE)
        finally:
            first.cancel()
            await alerts.aclose()

    assert viewer == {"viewer": {"subject": loop.agent.id, "role": "FRONTLINE"}}
    assert submitted == {
        "submitFeedback": {"__typename": "FeedbackSubmitted", "feedback": {"status": "BEING_HANDLED"}}
    }
    assert pushed == {"alertRaised": loop.pushed}


@pytest.mark.parametrize(
    ("role", "query", "code"),
    [
        pytest.param(Role.BOARD, RAISED, "FORBIDDEN", id="forbidden-subscription"),
        pytest.param(Role.FRONTLINE, "{ viewer { nope } }", "GRAPHQL_VALIDATION_FAILED", id="invalid-query"),
    ],
)
async def test_every_error_carries_the_code_it_has_over_http(
    development: Served, token: Any, role: Role, query: str, code: str
) -> None:
    bearer = token(role, sub="someone")
    if query.startswith("subscription"):
        async with session(development, bearer) as gql:
            with pytest.raises(TransportQueryError) as raised:
                async for _ in gql.subscribe(GraphQLRequest(query)):
                    pass
        errors = raised.value.errors or []
    else:
        errors = await refusal(development, bearer, query)

    assert [error["extensions"]["code"] for error in errors] == [code]


@pytest.mark.parametrize(("query", "limit"), [(ALIASES, "aliases"), (DEEP, "depth")])
async def test_an_operation_over_a_limit_is_refused_with_the_limit(
    development: Served, token: Any, query: str, limit: str
) -> None:
    [error] = await refusal(development, token(Role.FRONTLINE), query)

    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": limit}


async def test_production_suggests_no_field_names(production: Served, token: Any) -> None:
    [error] = await refusal(production, token(Role.FRONTLINE), MISSPELT)

    assert "Did you mean" not in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


NAMED = "query Named($id: ID!) { node(id: $id) { ... on Customer { displayName } } }"
RECEIVED = """mutation Received($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { ... on FeedbackSubmitted { feedback { receivedAt } } } }"""


async def test_each_operation_on_one_websocket_reads_afresh_at_its_own_time(
    development: Served, repos: Repositories, db: Any, token: Any
) -> None:
    """A WebSocket lives for hours: what one operation read, and when, is not what the next one sees."""
    loop = await closed_loop(repos)
    customer_id = {"id": encode_global_id("Customer", loop.customer.id)}
    async with session(development, loop.agent_token(token)) as agent:
        before = await agent.execute(GraphQLRequest(NAMED, variable_values=customer_id))
        renamed = await db["customers"].update_one(
            {"_id": loop.customer.id}, {"$set": {"givenName": "Renamed"}}
        )
        assert renamed.modified_count == 1
        after = await agent.execute(GraphQLRequest(NAMED, variable_values=customer_id))
    async with session(development, loop.customer_token(token)) as customer:
        await asyncio.sleep(1.5)  # the socket is older than the submission by that much
        sent = datetime.now(UTC)
        submitted = await customer.execute(
            GraphQLRequest(RECEIVED, variable_values=loop.detractor("gql-received-now"))
        )

    assert before == {"node": {"displayName": loop.customer.display_name}}
    assert after == {"node": {"displayName": f"Renamed {loop.customer.family_name}"}}
    received = datetime.fromisoformat(submitted["submitFeedback"]["feedback"]["receivedAt"])
    assert received >= sent - timedelta(seconds=0.5), (received, sent)
