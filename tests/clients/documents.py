"""The operations and data the stock-client tests share: a closed loop from feedback to a pushed alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from auth.principal import Role
from domain.customers.models import Customer
from domain.employees.models import Employee
from domain.repositories import Repositories
from tests import factories as f

VIEWER = "query Viewer { viewer { subject role } }"
RAISED = "subscription Raised { alertRaised { reasons region assignee { name } } }"
SUBMIT = """mutation Submit($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { __typename ... on FeedbackSubmitted { feedback { status } } } }"""
# One alias over the default limit of 30.
ALIASES = "query Aliases { " + " ".join(f"a{i}: viewer {{ role }}" for i in range(40)) + " }"
# Over the limit and invalid too: refused for the limit, before validation (whose cost the limits bound).
ALIASES_OF_NOTHING = "query Nothing { " + " ".join(f"a{i}: nothing" for i in range(40)) + " }"
# 100 customers with 100 transactions each: 10,302 of the default 10,000.
COSTLY = (
    "query Costly { customers(first: 100) { edges { node {"
    " transactions(first: 100) { edges { node { id } } } } } } }"
)
# More tokens than the default 5,000.
TOKENS = "query Tokens { " + "__typename " * 5000 + "}"
# Deeper than the default limit of 20 (each customer of an alert has alerts again).
DEEP = "query Deep { alerts(first: 1) { edges { node { " + "customer { alerts(first: 1) { edges { node { " * 5
DEEP += "id" + " } } } }" * 5 + " } } } }"
# A field name one letter off: graphql-core suggests "viewer".
MISSPELT = "query Misspelt { viewr { role } }"


@dataclass(frozen=True)
class Loop:
    """A north customer owned by an agent: a detractor's feedback raises an alert assigned to the agent."""

    agent: Employee
    customer: Customer

    def agent_token(self, token: Any) -> str:
        bearer: str = token(Role.FRONTLINE, sub=self.agent.id, regions=["north"])
        return bearer

    def customer_token(self, token: Any) -> str:
        bearer: str = token(Role.CUSTOMER, sub=self.customer.id)
        return bearer

    def detractor(self, key: str) -> dict[str, Any]:
        """The variables of SUBMIT for a score of 0, which raises an alert."""
        occurred = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        return {
            "input": {
                "idempotencyKey": key,
                "channel": "APP",
                "touchpoint": "DELIVERY",
                "nps": 0,
                "occurredAt": occurred,
            }
        }

    @property
    def pushed(self) -> dict[str, Any]:
        """The alertRaised event the agent is pushed."""
        return {"reasons": ["LOW_NPS"], "region": "north", "assignee": {"name": self.agent.name}}


async def closed_loop(repos: Repositories) -> Loop:
    """Stores the agent and the customer of a new loop."""
    agent = f.employee(regions=("north",))
    customer = f.customer(region="north", owner_id=agent.id)
    await repos.employees.insert_many([agent])
    await repos.customers.insert_many([customer])
    return Loop(agent, customer)
