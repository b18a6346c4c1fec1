"""The stock npm graphql-ws client (on ws) against ``customer360 serve``: what any JavaScript client sees."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings
from auth.principal import Role
from auth.tokens import issue_dev_token
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.clients.conftest import Served, graphql_ws, graphql_ws_token_refresh
from tests.clients.documents import (
    ALIASES,
    ALIASES_OF_NOTHING,
    COSTLY,
    DEEP,
    MISSPELT,
    RAISED,
    SUBMIT,
    TOKENS,
    VIEWER,
    closed_loop,
)


def only(report: dict[str, Any], name: str) -> dict[str, Any]:
    """The single event an operation ended with, then its `complete` if it had one."""
    events: list[dict[str, Any]] = report["operations"][name]
    assert events, f"{name} received nothing"
    assert events[-1]["type"] in {"complete", "error"}, events
    return events[0]


async def test_a_query_a_mutation_and_a_subscription_with_a_pushed_alert(
    node_modules: Path, development: Served, repos: Repositories, token: Any
) -> None:
    loop = await closed_loop(repos)
    report = await graphql_ws(
        node_modules,
        development,
        {
            "tokens": {"agent": loop.agent_token(token), "customer": loop.customer_token(token)},
            "operations": [
                {"name": "alerts", "token": "agent", "query": RAISED, "background": 1},
                {"name": "viewer", "token": "agent", "query": VIEWER},
                {
                    "name": "submit",
                    "token": "customer",
                    "query": SUBMIT,
                    "variables": loop.detractor("graphql-ws-loop"),
                },
            ],
        },
    )

    assert report["operations"]["viewer"] == [
        {"type": "next", "payload": {"data": {"viewer": {"subject": loop.agent.id, "role": "FRONTLINE"}}}},
        {"type": "complete"},
    ]
    submitted = {"__typename": "FeedbackSubmitted", "feedback": {"status": "BEING_HANDLED"}}
    assert report["operations"]["submit"] == [
        {"type": "next", "payload": {"data": {"submitFeedback": submitted}}},
        {"type": "complete"},
    ]
    alerts = report["operations"]["alerts"]
    assert alerts[0] == {"type": "next", "payload": {"data": {"alertRaised": loop.pushed}}}
    # Clean closes only: 1000 when the client disposed of its connections.
    assert {close["code"] for close in report["closed"].values()} <= {1000}


UPDATED = "subscription Updated { alertUpdated { id state version } }"
ACKNOWLEDGE = """mutation Acknowledge($id: ID!, $version: Int!) {
  acknowledgeAlert(id: $id, version: $version) {
    __typename ... on AlertChanged { alert { state version } } } }"""


async def test_an_alert_a_client_acknowledges_is_pushed_as_updated_to_its_region_only(
    node_modules: Path, development: Served, repos: Repositories, token: Any
) -> None:
    # Subscribers hear of the acknowledgement through the change feed, as of any write to an alert.
    loop = await closed_loop(repos)
    now = datetime.now(UTC)  # raised now: not due, so no escalation changes it before the client does
    response = f.feedback(loop.customer, nps=1, occurred_at=now, received_at=now)
    alert = f.alert(loop.customer, response, now)
    await repos.feedback.insert(response)
    await repos.alerts.insert(alert)
    alert_id = encode_global_id("Alert", alert.id)

    report = await graphql_ws(
        node_modules,
        development,
        {
            "tokens": {
                "agent": loop.agent_token(token),
                "outsider": token(Role.FRONTLINE, sub="south-agent", regions=["south"]),
            },
            "operations": [
                {"name": "updates", "token": "agent", "query": UPDATED, "background": 1},
                # Awaited after the agent's update came: by then it would have come here too.
                {"name": "elsewhere", "token": "outsider", "query": UPDATED, "background": 0},
                {
                    "name": "acknowledge",
                    "token": "agent",
                    "query": ACKNOWLEDGE,
                    "variables": {"id": alert_id, "version": alert.version},
                },
            ],
        },
    )

    changed = {"state": "ACKNOWLEDGED", "version": alert.version + 1}
    acknowledged = {
        "type": "next",
        "payload": {"data": {"acknowledgeAlert": {"__typename": "AlertChanged", "alert": changed}}},
    }
    assert report["operations"]["acknowledge"] == [
        acknowledged,
        {"type": "complete"},
    ]
    assert report["operations"]["updates"] == [
        {"type": "next", "payload": {"data": {"alertUpdated": {"id": alert_id, **changed}}}}
    ]
    assert report["operations"]["elsewhere"] == []


@pytest.mark.parametrize(
    ("role", "query", "code"),
    [
        pytest.param(Role.BOARD, RAISED, "FORBIDDEN", id="forbidden-subscription"),
        pytest.param(Role.FRONTLINE, "{ viewer { nope } }", "GRAPHQL_VALIDATION_FAILED", id="invalid-query"),
        # A document that does not parse is an error of that operation, not of the connection.
        pytest.param(Role.FRONTLINE, "{ viewer { ", "GRAPHQL_PARSE_FAILED", id="unparsable-query"),
        pytest.param(
            Role.FRONTLINE, 'query { customer(id: "x") { id } }', "VALIDATION", id="invalid-argument"
        ),
    ],
)
async def test_every_error_carries_the_code_it_has_over_http(
    node_modules: Path, development: Served, token: Any, role: Role, query: str, code: str
) -> None:
    report = await graphql_ws(
        node_modules,
        development,
        {
            "tokens": {"caller": token(role, sub="someone")},
            "operations": [{"name": "op", "token": "caller", "query": query}],
        },
    )

    event = only(report, "op")
    errors = event["payload"] if event["type"] == "error" else event["payload"]["errors"]
    assert [error["extensions"]["code"] for error in errors] == [code], event


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        pytest.param(ALIASES, "aliases", id="aliases"),
        pytest.param(ALIASES_OF_NOTHING, "aliases", id="aliases-of-unknown-fields"),
        pytest.param(DEEP, "depth", id="depth"),
        pytest.param(COSTLY, "cost", id="cost"),
        pytest.param(TOKENS, "tokens", id="tokens"),
    ],
)
async def test_an_operation_over_a_limit_gets_an_error_message_with_the_limit(
    node_modules: Path, development: Served, token: Any, query: str, limit: str
) -> None:
    report = await graphql_ws(
        node_modules,
        development,
        {
            "tokens": {"agent": token(Role.FRONTLINE)},
            "operations": [{"name": "op", "token": "agent", "query": query}],
        },
    )

    [event] = report["operations"]["op"]
    assert event["type"] == "error"
    [error] = event["payload"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": limit}
    assert "more than" in error["message"] or "at most" in error["message"]


async def test_an_operation_over_the_sockets_bound_gets_an_error_message_and_the_others_run_on(
    node_modules: Path, serve: Any, repos: Repositories, token: Any
) -> None:
    bounded = serve(CUSTOMER360_MAX_SOCKET_OPERATIONS="2")
    loop = await closed_loop(repos)
    report = await graphql_ws(
        node_modules,
        bounded,
        {
            "tokens": {"agent": loop.agent_token(token), "customer": loop.customer_token(token)},
            "operations": [
                {"name": "first", "token": "agent", "query": RAISED, "background": 1},
                {"name": "second", "token": "agent", "query": RAISED, "background": 1},
                {"name": "third", "token": "agent", "query": RAISED},
                {
                    "name": "submit",
                    "token": "customer",
                    "query": SUBMIT,
                    "variables": loop.detractor("graphql-ws-bounded"),
                },
            ],
        },
    )

    [refused] = report["operations"]["third"]
    assert refused["type"] == "error"
    [error] = refused["payload"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "operations"}
    pushed = {"type": "next", "payload": {"data": {"alertRaised": loop.pushed}}}
    # Each ran on and was pushed the alert (then, unsubscribed, perhaps completed).
    assert report["operations"]["first"][0] == pushed
    assert report["operations"]["second"][0] == pushed
    assert {close["code"] for close in report["closed"].values()} <= {1000}


async def test_production_suggests_no_field_names_over_websocket(
    node_modules: Path, production: Served, token: Any
) -> None:
    report = await graphql_ws(
        node_modules,
        production,
        {
            "tokens": {"agent": token(Role.FRONTLINE)},
            "operations": [{"name": "op", "token": "agent", "query": MISSPELT}],
        },
    )

    event = only(report, "op")
    assert event["type"] == "error"
    [error] = event["payload"]
    assert "Did you mean" not in error["message"]
    assert "viewr" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_development_suggests_field_names_over_websocket(
    node_modules: Path, development: Served, token: Any
) -> None:
    report = await graphql_ws(
        node_modules,
        development,
        {
            "tokens": {"agent": token(Role.FRONTLINE)},
            "operations": [{"name": "op", "token": "agent", "query": MISSPELT}],
        },
    )

    [error] = only(report, "op")["payload"]
    assert "Did you mean 'viewer'?" in error["message"]


TTL = 8  # seconds: accepted at connection_init after a slow start on a loaded machine, expired soon after


async def test_a_socket_is_closed_when_its_token_expires_and_the_client_goes_on_with_a_fresh_one(
    node_modules: Path, serve: Any, settings: Settings, repos: Repositories, token: Any
) -> None:
    """The client's first connection is acknowledged, closed with 4403 once its token expires (no leeway
    here), and the client's retry connects with its next token, subscribes again and is pushed the alert."""
    strict = serve(CUSTOMER360_JWT_LEEWAY_SECONDS="0")
    loop = await closed_loop(repos)
    short = issue_dev_token(
        settings.token_settings(), role=Role.FRONTLINE, subject=loop.agent.id, regions=["north"], ttl=TTL
    )
    report = await graphql_ws_token_refresh(
        node_modules,
        strict,
        {
            "tokens": [short, loop.agent_token(token)],
            "query": RAISED,
            "trigger": {
                "token": loop.customer_token(token),
                "query": SUBMIT,
                "variables": loop.detractor("graphql-ws-token-refresh"),
            },
        },
    )

    assert report["timeouts"] == []
    assert report["closes"][0] == {"code": 4403, "reason": "Token expired"}
    assert (report["tokensGiven"], report["connected"]) == (2, 2)
    assert report["triggered"]["data"]["submitFeedback"]["__typename"] == "FeedbackSubmitted"
    assert report["events"] == [{"type": "next", "payload": {"data": {"alertRaised": loop.pushed}}}]
