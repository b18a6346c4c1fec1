"""Record pages completed straight from the pipeline's documents (``resolvers/pipeline/completion.py``).

That their answers equal every other path's, for every role and many selections, is shown in
``tests/fastpath/test_equivalence.py``. These tests show when the completion is used (no domain record is
built for the page), and that whatever it does not complete is left to the executor, which answers as it
does without it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from graphql import parse
from graphql.execution.values import VariableValues

from api.settings import Settings
from api.storage.client import MongoDatabase
from auth.principal import Role
from domain.crm.models import LineItem, SalesChannel
from domain.crm.repository import TransactionRepository
from domain.customers.models import Customer, ExternalId
from domain.money import Money
from domain.repositories import Repositories
from resolvers.loaders import CompletedPages
from resolvers.node import encode_global_id
from resolvers.schema import build_schema
from tests import factories as f
from tests.conftest import client_for

PAGE = """
query Page($id: ID!) {
  customer(id: $id) {
    ...Page
  }
}
"""
# What an integration reads a customer by.
BY_EXTERNAL_ID = """
query Page {
  customer: customerByExternalId(system: "crm", id: "CRM-1") {
    ...Page
  }
}
"""
FRAGMENT = """
fragment Page on Customer {
    transactions(first: 2) {
      __typename
      pageInfo { hasNextPage endCursor }
      edges { cursor node { __typename id channel touchpoint occurredAt amount { amount currency }
        items { sku name quantity unitPrice { amountMinor } } } }
      nodes { id }
    }
}
"""

Body = dict[str, Any]
Ask = Callable[..., Any]


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the transactions mapped to domain records while a test runs."""
    seen: list[str] = []
    original = TransactionRepository.from_document

    def counted(document: dict[str, Any]) -> Any:
        seen.append(document["_id"])
        return original(document)

    monkeypatch.setattr(TransactionRepository, "from_document", staticmethod(counted))
    return seen


@pytest.fixture
async def ask(settings: Settings, token: Any, db: MongoDatabase) -> AsyncIterator[Ask]:
    """Asks a query as a role, with the pipelines on (the default) or off; the answer's bytes."""
    schema = build_schema(compiled=True)
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[bool, httpx.AsyncClient] = {}
        for pipelines in (True, False):
            app = client_for(settings.model_copy(update={"compiled_pipelines": pipelines}), schema=schema)
            clients[pipelines] = await stack.enter_async_context(app)

        async def asking(
            query: str, variables: Body, role: Role = Role.FRONTLINE, *, pipelines: bool = True
        ) -> bytes:
            response = await clients[pipelines].post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token(role)}"},
            )
            return response.content

        yield asking


def answered(answer: bytes) -> Body:
    """An answer's data and errors, without the request ids and the cost budget left, which differ from
    request to request."""
    body: Body = orjson.loads(answer)
    for error in body.get("errors", ()):
        error["extensions"].pop("requestId", None)
    return {"data": body["data"], "errors": body.get("errors")}


async def a_customer_with_purchases(repos: Repositories) -> Customer:
    customer = f.customer(region="north", external_ids=(ExternalId("crm", "CRM-1"),))
    await repos.customers.insert_many([customer])
    await repos.transactions.insert_many(
        [
            f.transaction(
                customer,
                occurred_at=f.NOW - timedelta(days=n),
                amount=Money(12_34 * (n + 1), "EUR"),
                channel=SalesChannel.ONLINE,
                items=(LineItem("SKU-9", "Lamp", n + 1, Money(12_34, "EUR")),),
            )
            for n in range(3)
        ]
    )
    return customer


@pytest.mark.parametrize(
    ("role", "query"), [(Role.FRONTLINE, PAGE), (Role.MANAGER, PAGE), (Role.INTEGRATION, BY_EXTERNAL_ID)]
)
async def test_a_page_of_stored_fields_is_completed_without_building_records(
    ask: Ask, repos: Repositories, converted: list[str], role: Role, query: str
) -> None:
    customer = await a_customer_with_purchases(repos)
    variables = {"id": encode_global_id("Customer", customer.id)} if "$id" in query else {}

    completed = answered(await ask(query + FRAGMENT, variables, role))
    assert converted == []  # every role that reads transactions in full: no record was built

    loaded = answered(await ask(query + FRAGMENT, variables, role, pipelines=False))
    assert converted  # the loaders' path maps each record
    assert completed == loaded
    page = completed["data"]["customer"]["transactions"]
    assert page["__typename"] == "TransactionConnection"
    assert page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["amount"] for e in page["edges"]] == [
        {"amount": "12.34", "currency": "EUR"},
        {"amount": "24.68", "currency": "EUR"},
    ]
    assert page["edges"][1]["node"]["items"] == [
        {"sku": "SKU-9", "name": "Lamp", "quantity": 2, "unitPrice": {"amountMinor": 12_34}}
    ]
    assert page["nodes"] == [{"id": e["node"]["id"]} for e in page["edges"]]


@pytest.mark.parametrize(
    "selection",
    [
        "totalCount edges { node { id } }",  # a total: counted by its own loader
        "edges { node { id customer { displayName } } }",  # a reference: read by its resolver
    ],
)
async def test_a_page_selecting_more_than_stored_fields_is_completed_by_the_executor(
    ask: Ask, repos: Repositories, converted: list[str], selection: str
) -> None:
    customer = await a_customer_with_purchases(repos)
    query = f"query($id: ID!) {{ customer(id: $id) {{ transactions(first: 2) {{ {selection} }} }} }}"
    variables = {"id": encode_global_id("Customer", customer.id)}

    completed = answered(await ask(query, variables))
    assert completed["errors"] is None, completed
    assert converted  # the page was primed as records and completed by the executor
    assert completed == answered(await ask(query, variables, pipelines=False))


@pytest.mark.parametrize(
    ("stored", "where", "code"),
    [
        ({"touchpoint": None}, ["touchpoint"], "INTERNAL"),  # null in a non-null field
        ({"items.0.quantity": 2**40}, ["items", 0, "quantity"], "GRAPHQL_VALIDATION_FAILED"),  # not an Int
    ],
)
async def test_a_stored_value_the_executor_refuses_is_reported_as_without_the_completion(
    ask: Ask, repos: Repositories, db: MongoDatabase, stored: Body, where: list[Any], code: str
) -> None:
    customer = await a_customer_with_purchases(repos)
    newest = await db["transactions"].find_one({"customerId": customer.id}, sort=[("occurredAt", -1)])
    assert newest is not None
    await db["transactions"].update_one({"_id": newest["_id"]}, {"$set": stored})
    variables = {"id": encode_global_id("Customer", customer.id)}

    completed = answered(await ask(PAGE + FRAGMENT, variables))
    assert completed == answered(await ask(PAGE + FRAGMENT, variables, pipelines=False))
    assert completed["data"] == {"customer": None}
    [reported] = completed["errors"]
    assert reported["path"] == ["customer", "transactions", "edges", 0, "node", *where]
    assert reported["extensions"]["code"] == code


def test_a_completed_page_answers_the_execution_it_was_completed_in_once() -> None:
    # A WebSocket's operations share one context (and loaders): two may run the same document at once.
    [operation] = parse("{ customer(id: 1) { transactions(first: 1) { edges { cursor } } } }").definitions
    node = operation.selection_set.selections[0].selection_set.selections[0]  # type: ignore[attr-defined]
    pages, one, other = CompletedPages(), VariableValues({}, {}), VariableValues({}, {})
    pages.put(one, node, "c1", "one's page")
    pages.put(other, node, "c1", "other's page")

    assert pages.take(other, node, "c1") == "other's page"
    assert pages.take(one, node, "c2") is None
    assert pages.take(one, node, "c1") == "one's page"
    assert pages.take(one, node, "c1") is None
