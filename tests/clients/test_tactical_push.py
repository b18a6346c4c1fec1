"""A tactical alert raised by intake reaches the region's manager live, and not its frontline (Python gql)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gql import GraphQLRequest

from auth.principal import Role
from domain.employees.models import EmployeeRole
from domain.repositories import Repositories
from tests import factories as f
from tests.clients.conftest import Served
from tests.clients.documents import SUBMIT, closed_loop
from tests.clients.test_gql_client import DEADLINE, session

PUSHED = "subscription Raised { alertRaised { kind reasons region tactical { metric target windowDays } } }"
STANDARD = """mutation Standard($input: ServiceStandardInput!) {
  setServiceStandard(input: $input) { __typename ... on ServiceStandardSaved { standard { version } } } }"""


@pytest.fixture(scope="module")
def served(serve: Any) -> Served:
    """A server that checks a touchpoint's window half a second after a response arrives."""
    return serve(CUSTOMER360_TACTICAL_DEBOUNCE_SECONDS="0.5")


async def test_a_breach_raised_by_intake_is_pushed_to_the_manager_and_not_to_frontline(
    served: Served, repos: Repositories, token: Any
) -> None:
    loop = await closed_loop(repos)
    manager = f.employee(role=EmployeeRole.MANAGER, regions=("north",))
    await repos.employees.insert_many([manager])
    boss = token(Role.MANAGER, sub=manager.id, regions=["north"])
    standard = {
        "region": "north",
        "touchpoint": "DELIVERY",
        "npsAtMost": 3,
        "csatAtMost": 1,
        "satisfactionIndexBelow": 0.6,
        "acknowledgeWithinMinutes": 240,
        "resolveWithinMinutes": 2880,
        "targetCsat": 4.2,
        "targetNps": 30,
        "window": {"windowDays": 7, "minResponses": 1, "npsAtLeast": 0},
    }
    await served.wait_for_subscriptions(0)
    async with session(served, boss) as managing, session(served, loop.agent_token(token)) as agent:
        saved = await managing.execute(GraphQLRequest(STANDARD, variable_values={"input": standard}))
        assert saved == {
            "setServiceStandard": {"__typename": "ServiceStandardSaved", "standard": {"version": 1}}
        }
        to_manager = managing.subscribe(GraphQLRequest(PUSHED))
        to_agent = agent.subscribe(GraphQLRequest(PUSHED))
        manager_events = asyncio.create_task(_take(to_manager, 2))
        agent_events = asyncio.create_task(_take(to_agent, 2))
        try:
            await served.wait_for_subscriptions(2)
            async with session(served, loop.customer_token(token)) as customer:
                await customer.execute(GraphQLRequest(SUBMIT, variable_values=loop.detractor("tactical-1")))
                pushed = await asyncio.wait_for(manager_events, DEADLINE)
                # After the tactical alert, another bad response: the agent's next event is its alert.
                await customer.execute(GraphQLRequest(SUBMIT, variable_values=loop.detractor("tactical-2")))
                seen = await asyncio.wait_for(agent_events, DEADLINE)
        finally:
            manager_events.cancel()
            agent_events.cancel()
            await to_manager.aclose()
            await to_agent.aclose()

    operational = {"kind": "OPERATIONAL", "reasons": ["LOW_NPS"], "region": "north", "tactical": None}
    tactical = {
        "kind": "TACTICAL",
        "reasons": ["NPS_BELOW_TARGET"],
        "region": "north",
        "tactical": {"metric": "NPS", "target": 0.0, "windowDays": 7},
    }
    assert [event["alertRaised"] for event in pushed] == [operational, tactical]
    assert [event["alertRaised"] for event in seen] == [operational, operational]


async def _take(events: Any, count: int) -> list[dict[str, Any]]:
    taken = []
    async for event in events:
        taken.append(event)
        if len(taken) == count:
            break
    return taken
