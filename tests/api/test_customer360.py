"""The customer-360 query: one request returns profile, records, timeline and metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.feedback.models import ScoreItem
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import GraphQLClient

CUSTOMER_360 = """
query Customer360($id: ID!) {
  customer(id: $id) {
    id displayName emails phones region segment tier status tags birthDate
    address { city country }
    externalIds { system id }
    lifetimeValue { amount currency }
    owner { name }
    transactions(first: 10) { totalCount edges { node { id amount { amount } occurredAt } } }
    interactions(first: 10) { totalCount edges { node { kind summary employee { name } } } }
    cases(first: 10) { totalCount edges { node { kind status subject history { status } } } }
    feedback(first: 10) { totalCount edges { node { nps csat satisfactionIndex items { dimension gap } } } }
    opportunities(first: 10) { totalCount edges { node { title stage probability } } }
    timeline(first: 20) {
      pageInfo { hasNextPage }
      edges { node { __typename ... on Feedback { nps } ... on Case { subject } } }
    }
    metrics {
      responses lastNps csatMean satisfactionIndex openCases lifetimeValue { amountMinor }
      lastContactAt daysSinceLastContact
    }
  }
}
"""


async def test_customer_360_returns_profile_records_timeline_and_metrics(
    gql: GraphQLClient, repos: Repositories
) -> None:
    owner = f.employee(name="Olivia Owner")
    customer = f.customer(owner_id=owner.id, tags=("vip",))
    await repos.employees.insert_many([owner])
    await repos.customers.insert_many([customer])
    await repos.transactions.insert_many([f.transaction(customer, occurred_at=f.NOW - timedelta(days=30))])
    await repos.interactions.insert_many([f.interaction(customer, employee_id=owner.id)])
    await repos.cases.insert_many([f.case(customer)])
    await repos.feedback.insert_many(
        [
            f.feedback(
                customer,
                nps=2,
                csat=1,
                occurred_at=f.NOW - timedelta(days=1),
                items=(ScoreItem("speed", 6, 3),),
            ),
            f.feedback(
                customer,
                nps=10,
                csat=5,
                occurred_at=f.NOW - timedelta(days=3),
                items=(ScoreItem("speed", 4, 4), ScoreItem("value", 4, 6)),
            ),
        ]
    )
    await repos.opportunities.insert_many([f.opportunity(customer)])

    body = await gql.execute(CUSTOMER_360, {"id": encode_global_id("Customer", customer.id)})

    assert "errors" not in body
    data = body["data"]["customer"]
    assert data["displayName"] == customer.display_name
    assert data["owner"] == {"name": "Olivia Owner"}
    assert data["externalIds"] == [{"system": "crm", "id": customer.external_ids[0].id}]
    for connection in ("transactions", "interactions", "cases", "opportunities"):
        assert data[connection]["totalCount"] == 1
    assert data["interactions"]["edges"][0]["node"]["employee"] == {"name": "Olivia Owner"}
    assert [e["node"]["nps"] for e in data["feedback"]["edges"]] == [2, 10]
    assert data["feedback"]["edges"][0]["node"]["items"] == [{"dimension": "speed", "gap": -3}]
    kinds = [e["node"]["__typename"] for e in data["timeline"]["edges"]]
    assert kinds == ["Feedback", "Feedback", "Case", "Interaction", "Opportunity", "Transaction"]
    assert data["timeline"]["pageInfo"]["hasNextPage"] is False
    metrics = data["metrics"]
    assert metrics["responses"] == 2
    assert metrics["lastNps"] == 2
    assert metrics["csatMean"] == pytest.approx(3.0)
    # (3/6) for the first response; (4/4 + 6/4) / 2 for the second; then the mean of both.
    assert metrics["satisfactionIndex"] == pytest.approx((0.5 + 1.25) / 2)
    assert metrics["openCases"] == 1
    assert metrics["lifetimeValue"] == {"amountMinor": customer.lifetime_value.amount_minor}
