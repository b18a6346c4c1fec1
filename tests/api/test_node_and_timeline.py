"""Global ids through ``node``, and paging through the merged timeline."""

from __future__ import annotations

from datetime import timedelta

from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import GraphQLClient

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Customer { displayName }
    ... on Transaction { amount { amountMinor } customer { displayName } }
    ... on Employee { name }
    ... on Feedback { nps }
  }
}
"""

TIMELINE = """
query Timeline($id: ID!, $first: Int!, $after: String, $kinds: [TimelineKind!]) {
  customer(id: $id) {
    timeline(first: $first, after: $after, kinds: $kinds) {
      pageInfo { hasNextPage endCursor }
      edges { node { __typename ... on CustomerRecord { id } } }
    }
  }
}
"""


async def test_node_resolves_every_record_type_by_its_global_id(
    gql: GraphQLClient, repos: Repositories
) -> None:
    staff = f.employee(name="Sam Staff")
    customer = f.customer(given_name="Ada", family_name="Lovelace")
    purchase = f.transaction(customer, amount=f.Money(999, "EUR"))
    response = f.feedback(customer, nps=4)
    await repos.employees.insert_many([staff])
    await repos.customers.insert_many([customer])
    await repos.transactions.insert_many([purchase])
    await repos.feedback.insert_many([response])

    async def node(type_name: str, record_id: str) -> dict[str, object]:
        global_id = encode_global_id(type_name, record_id)
        data: dict[str, object] = (await gql.execute(NODE, {"id": global_id}))["data"]["node"]
        assert data["id"] == global_id
        assert data["__typename"] == type_name
        return data

    assert (await node("Customer", customer.id))["displayName"] == "Ada Lovelace"
    assert (await node("Employee", staff.id))["name"] == "Sam Staff"
    assert (await node("Transaction", purchase.id))["customer"] == {"displayName": "Ada Lovelace"}
    assert (await node("Feedback", response.id))["nps"] == 4


async def test_node_of_unknown_type_or_missing_record_is_null(gql: GraphQLClient) -> None:
    for global_id in (encode_global_id("Spaceship", f.next_id()), encode_global_id("Case", f.next_id())):
        body = await gql.execute(NODE, {"id": global_id})
        assert body["data"] == {"node": None}
        assert "errors" not in body


async def test_timeline_pages_through_all_kinds_with_ties_in_a_stable_order(
    gql: GraphQLClient, repos: Repositories
) -> None:
    customer = f.customer()
    same_moment = f.NOW - timedelta(days=1)
    records = {
        "Transaction": [f.transaction(customer, occurred_at=same_moment) for _ in range(3)],
        "Interaction": [
            f.interaction(customer, occurred_at=same_moment - timedelta(hours=i)) for i in range(3)
        ],
        "Case": [f.case(customer, opened_at=same_moment)],
        "Feedback": [f.feedback(customer, occurred_at=same_moment) for _ in range(2)],
        "Opportunity": [f.opportunity(customer, opened_at=same_moment + timedelta(hours=1))],
    }
    await repos.customers.insert_many([customer])
    await repos.transactions.insert_many(records["Transaction"])
    await repos.interactions.insert_many(records["Interaction"])
    await repos.cases.insert_many(records["Case"])
    await repos.feedback.insert_many(records["Feedback"])
    await repos.opportunities.insert_many(records["Opportunity"])
    customer_id = encode_global_id("Customer", customer.id)

    async def walk(page_size: int, kinds: list[str] | None = None) -> list[str]:
        seen: list[str] = []
        after = None
        while True:
            variables = {"id": customer_id, "first": page_size, "after": after, "kinds": kinds}
            timeline = (await gql.execute(TIMELINE, variables))["data"]["customer"]["timeline"]
            seen += [e["node"]["id"] for e in timeline["edges"]]
            if not timeline["pageInfo"]["hasNextPage"]:
                return seen
            after = timeline["pageInfo"]["endCursor"]

    everything = await walk(100)
    assert len(everything) == len(set(everything)) == 10
    # Every page size walks the same list: no record lost or repeated at page boundaries or time ties.
    for page_size in (1, 2, 3, 4):
        assert await walk(page_size) == everything
    # Newest first; at the same moment, kinds in timeline order, then ids descending.
    transaction_ids = {encode_global_id("Transaction", t.id) for t in records["Transaction"]}
    assert everything[0] == encode_global_id("Opportunity", records["Opportunity"][0].id)
    assert set(everything[1:4]) == transaction_ids
    only_people = await walk(2, ["INTERACTION", "CASE"])
    assert len(only_people) == 4
