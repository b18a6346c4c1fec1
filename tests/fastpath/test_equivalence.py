"""Every way of running a query answers alike: same bytes, same errors, same audit trail.

Every document runs for every role through apps on the same database: graphql-core's executor and the
compiled one on the loaders, and the compiled one with pipelines. The loaders on graphql-core's executor are
the reference. The documents are this file's own, the policy tests', the bench's scenarios and
every query of the README, so masks, hidden fields, denials, out-of-scope rows, errors and the audit are
compared on each path, on a world where one customer has many records of every kind (pages with more to
come, cursors, equal times, references to several employees, alerts raised by responses).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from graphql import OperationDefinitionNode, parse

from api.settings import Settings
from auth.principal import Role
from bench import dashboard, scenarios
from domain.alerts.models import AlertReason, Reply
from domain.alerts.rules import raise_alert, reassign, resolve
from domain.crm.models import CaseStatus, LineItem, OpportunityStage, SalesChannel
from domain.customers.models import Customer, ExternalId
from domain.feedback.models import ScoreItem, Touchpoint
from domain.money import Money
from domain.repositories import Repositories
from domain.standards.models import default_standard
from domain.store import UnitOfWork
from resolvers.node import encode_global_id
from resolvers.pipeline import ROOTS, fallbacks
from resolvers.schema import Customer360Schema, build_schema
from tests import factories as f
from tests.api import test_node_and_timeline, test_policy_matrix
from tests.api.world import World, build_world
from tests.conftest import CommandCounter, client_for

README = Path(__file__).resolve().parents[2] / "README.md"

WHOLE_CUSTOMER = """
query Whole($id: ID!) {
  customer(id: $id) {
    __typename id givenName familyName displayName emails phones birthDate birthYear
    address { street city postalCode country }
    externalIds { system id } segment tier region status tags createdAt updatedAt
    lifetimeValue { amount amountMinor currency } consent { email sms phone marketing }
    owner { id name email role regions team }
    transactions(first: 5) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id amount { amount } channel touchpoint occurredAt
        items { sku name quantity unitPrice { amount currency } } customer { id displayName } } }
    }
    interactions(first: 5) { totalCount edges { node { id kind direction channel summary occurredAt
      nextStep followUpOn employee { name } } } }
    cases(first: 5) { totalCount edges { node { id kind channel category severity status subject openedAt
      dueAt resolution history { status at note } customerNotified { at channel } assignee { name } } } }
    feedback(first: 5) { totalCount edges { node { id channel touchpoint occurredAt receivedAt nps csat
      effort satisfactionIndex comment items { dimension expectation perception gap }
      customer { emails } status reply { message channel } } } }
    opportunities(first: 5) { totalCount edges { node { id title stage amount { amount } probability
      expectedCloseOn openedAt owner { name } } } }
    alerts(first: 5) { totalCount edges { node { id state reasons raisedAt assignee { name }
      escalatedTo { name } history { action note assignee { name } } } } }
    timeline(first: 10) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { __typename ... on CustomerRecord { id customer { phones } }
        ... on Feedback { nps comment status } ... on Case { subject assignee { email } }
        ... on Transaction { amount { currency } } ... on Interaction { employee { name } }
        ... on Alert { assignee { name } } } }
    }
    metrics { responses lastNps csatMean satisfactionIndex openCases lifetimeValue { amount }
      lastContactAt daysSinceLastContact }
  }
}
"""

LISTS = """
query Lists($first: Int!, $withOwner: Boolean!) {
  all: customers(first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id displayName emails owner @include(if: $withOwner) { name }
      segment @skip(if: true)
      transactions(first: 2) { totalCount edges { node { amount { amountMinor } } } }
      metrics { openCases } } }
  }
  north: customers(first: 2, filter: {regions: ["north"]}) { edges { node { ...Names } } }
  search: customers(first: 2, search: "jane") { edges { node { ...Names } } }
}
fragment Names on Customer { __typename givenName familyName address { street } }
"""

# Pages after a cursor, pages of two sizes of one list, a timeline of some kinds after a cursor, and
# records whose customer's own lists are read again (the loaders read those, on demand).
PAGES = """
query Pages($id: ID!, $tx: String, $timeline: String, $kinds: [TimelineKind!]) {
  customer(id: $id) {
    few: transactions(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } }
    more: transactions(first: 7, after: $tx) { pageInfo { hasNextPage } edges { cursor node { id } } }
    timeline(first: 6, after: $timeline, kinds: $kinds) {
      pageInfo { hasNextPage endCursor } edges { cursor node { __typename ... on CustomerRecord { id } } }
    }
    all: timeline(first: 30) { edges { cursor } }
    feedback(first: 3) { edges { node { customer { displayName transactions(first: 1) { totalCount } } } } }
  }
}
"""

ERRORS = """
query Errors($id: ID!) {
  good: customer(id: $id) { displayName }
  badCursor: customer(id: $id) { transactions(first: 1, after: "nope") { totalCount } }
  badTimeline: customer(id: $id) { displayName timeline(first: 2, kinds: []) { edges { cursor } } }
  tooMany: customers(first: 1000) { edges { cursor } }
  tooManyNested: customer(id: $id) { displayName cases(first: 0) { totalCount } }
  badId: node(id: "not-an-id") { id }
}
"""

# Record pages of stored fields alone, which the pipelines complete from the documents: type names at every
# level, aliases, fragments, fields selected twice, a variable's @include, pages after a cursor, and a page
# without its records. (An error sends the whole query to the stock executor: a bad cursor does.)
PLAIN_PAGES = """
query PlainPages($id: ID!, $tx: String, $withItems: Boolean!) {
  customer(id: $id) {
    __typename
    transactions(first: 5) {
      __typename
      pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
      edges { __typename cursor node { __typename id ...Bought
        items @include(if: $withItems) { __typename sku quantity unitPrice { amountMinor __typename } } } }
      edges { node { id amount { amount } } }
    }
    later: transactions(first: 3, after: $tx) {
      nodes { id occurredAt price: amount { value: amount amountMinor currency } channel }
      edges { at: cursor }
    }
    count: transactions(first: 2) { pageInfo { hasNextPage } edges { cursor } }
  }
  customers(first: 4) { edges { node { transactions(first: 2) { edges { node { id touchpoint } } } } } }
}
fragment Bought on Transaction { touchpoint amount { currency } occurredAt channel }
"""

VIEWER_AND_TYPES = """
{ viewer { subject role regions operations types { name fields { name access } } }
  __type(name: "Customer") { name fields { name } } }
"""

NODES = """
query Nodes($id: ID!) {
  customers(first: 3) { nodes { id displayName emails owner { name } } }
  customer(id: $id) {
    transactions(first: 2) { totalCount nodes { id amount { amountMinor } } }
    feedback(first: 2) { nodes { comment } }
    timeline(first: 4) { nodes { __typename ... on Case { subject } ... on Alert { state } } }
  }
  alerts(first: 2) { nodes { id state customer { displayName } } }
  auditTrail(customerId: $id, first: 2) { nodes { role fields } }
}
"""

# A list of entries whose last two fields only managers may read: one denial per entry for the others.
MANAGED_LIST = """
{ managedList(kind: CASE_CATEGORY) { kind version entries { code label active parent updatedBy updatedAt } } }
"""

OTHERS = """
query Others($id: ID!) {
  me { displayName emails feedback(first: 10) { totalCount edges { node { nps comment status
    reply { message channel } } } } metrics { responses lastNps } }
  customerByExternalId(system: "crm", id: "CRM-RICH") { displayName owner { name } cases(first: 3) {
    totalCount edges { node { subject assignee { name } } } } }
  node(id: $id) { ... on Customer { displayName owner { name } } }
}
"""

TARGETS = {
    "stock": (False, False),  # the reference: graphql-core's executor over the loaders
    "compiled": (True, False),
    "pipelines": (True, True),
}


# The README's queries quoted inline, in prose.
README_INLINE = (
    "customers(first: 3) { edges { node { id owner { name } } } }",
    "me { feedback(first: 10) { edges { node { status reply { message channel } } } } }",
)


def readme_queries() -> list[str]:
    """Every query (not mutation) of the README's GraphQL examples, and those it quotes inline."""
    blocks = re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.DOTALL)
    found = [
        block
        for block in blocks
        if all(
            isinstance(d, OperationDefinitionNode) and d.operation.value == "query"
            for d in parse(block).definitions
        )
    ]
    assert len(found) >= 3, "the README's examples are read from its graphql blocks"
    assert all(query in " ".join(README.read_text().split()) for query in README_INLINE)
    return [*found, *(f"{{ {query} }}" for query in README_INLINE)]


async def rich_customer(repos: Repositories) -> Customer:
    """A north customer with many records of every kind: pages with more to come, equal times, several
    employees, open and closed cases, responses with and without scores, alerts with their history."""
    staff = [f.employee(name=f"North {n}") for n in range(3)]
    customer = f.customer(
        region="north",
        family_name="Rich",
        owner_id=staff[0].id,
        external_ids=(ExternalId("crm", "CRM-RICH"),),
    )
    await repos.employees.insert_many(staff)
    await repos.customers.insert_many([customer])
    day = timedelta(days=1)
    same = f.NOW - 3 * day  # records at exactly the same time: ordered by id
    transactions = [
        f.transaction(
            customer,
            occurred_at=same if n < 3 else f.NOW - n * day,
            amount=Money(10_00 * n - 500, "EUR"),
            channel=list(SalesChannel)[n % 4],
            items=tuple(LineItem(f"SKU-{i}", f"Item {i}", i, Money(2_50 * i, "EUR")) for i in range(n % 3)),
        )
        for n in range(12)
    ]
    interactions = [
        f.interaction(
            customer,
            occurred_at=same if n < 2 else f.NOW - n * day - timedelta(hours=1),
            employee_id=staff[n % 3].id if n != 4 else None,
            summary=f"Call {n}",
        )
        for n in range(8)
    ]
    cases = [
        f.case(
            customer,
            opened_at=same if n < 2 else f.NOW - n * day,
            status=list(CaseStatus)[n % 4],
            assignee_id=staff[(n + 1) % 3].id if n % 3 else None,
            subject=f"Case {n}",
        )
        for n in range(6)
    ]
    responses = [
        replace(
            f.feedback(
                customer,
                occurred_at=same if n < 2 else f.NOW - n * day,
                nps=None if n % 4 == 1 else n % 11,
                csat=None if n % 5 == 2 else 1 + n % 5,
                items=tuple(ScoreItem(d, 3 + n % 4, 2 + (n + i) % 6) for i, d in enumerate(("speed", "care")))
                if n % 3
                else (),
                comment=f"Response {n}",
            ),
            received_at=f.NOW - n * day + timedelta(minutes=5),
        )
        for n in range(15)
    ]
    opportunities = [
        f.opportunity(
            customer,
            opened_at=f.NOW - n * day,
            owner_id=staff[n % 2].id,
            stage=list(OpportunityStage)[n],
            title=f"Deal {n}",
        )
        for n in range(4)
    ]
    await repos.transactions.insert_many(transactions)
    await repos.interactions.insert_many(interactions)
    await repos.cases.insert_many(cases)
    await f.store_feedback(repos, responses)
    await repos.opportunities.insert_many(opportunities)
    for n, response in enumerate(responses[:3]):
        alert = raise_alert(
            alert_id=f.next_id(),
            customer_id=customer.id,
            region="north",
            standard=default_standard("north", Touchpoint.DELIVERY),
            reasons=(AlertReason.LOW_NPS,),
            assignee_id=staff[n].id,
            now=response.occurred_at,
            by=customer.id,
            feedback_id=response.id,
        )
        if n > 0:
            covering = staff[(n + 1) % 3].id
            alert = reassign(alert, by=staff[0].id, now=f.NOW, assignee_id=covering, note="Covering")
        if n > 1:
            reply = Reply("Sorry about that.", "EMAIL", f.NOW)
            alert = resolve(alert, by=staff[2].id, now=f.NOW, resolution="Refunded", reply=reply)
        await repos.alerts.insert(alert)
    return customer


@pytest.fixture(scope="module")
def schemas() -> dict[bool, Customer360Schema]:
    return {False: build_schema(compiled=False), True: build_schema(compiled=True)}


@pytest.fixture
async def clients(
    settings: Settings, schemas: dict[bool, Customer360Schema]
) -> AsyncIterator[dict[str, tuple[httpx.AsyncClient, CommandCounter]]]:
    found: dict[str, tuple[httpx.AsyncClient, CommandCounter]] = {}
    async with contextlib.AsyncExitStack() as stack:
        for name, (compiled, pipelines) in TARGETS.items():
            counter = CommandCounter()
            app = client_for(
                settings.model_copy(update={"compiled_pipelines": pipelines}),
                counter,
                schema=schemas[compiled],
            )
            found[name] = (await stack.enter_async_context(app), counter)
        yield found


@pytest.fixture
async def world(repos: Repositories, token: Any, uow: UnitOfWork) -> tuple[World, Customer]:
    return await build_world(repos, token, uow), await rich_customer(repos)


async def answer(client: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]) -> bytes:
    """The response's data and errors as bytes; the cost budget left differs with time, so it is dropped."""
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    return orjson.dumps(
        {"status": response.status_code, "data": _unclocked(body.get("data")), "errors": body.get("errors")}
    )


# Ages of the open alerts, measured from the instant a request is answered: two requests a few seconds
# apart may round them differently, whichever path answers.
CLOCKED = frozenset({"openMedianAgeHours", "openOldestAgeHours"})


def _unclocked(data: Any) -> Any:
    """``data`` with the figures of CLOCKED only told apart as shown or not."""
    if isinstance(data, dict):
        return {k: (v is not None) if k in CLOCKED else _unclocked(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_unclocked(v) for v in data]
    return data


async def documents(
    world: World, rich: Customer, stock: httpx.AsyncClient
) -> list[tuple[str, dict[str, Any]]]:
    """Every document to compare, with its variables; cursors come from first pages read by the reference."""
    north, south = world.north, world.south
    rich_id = encode_global_id("Customer", rich.id)
    frontline = world.tokens[Role.FRONTLINE]
    first = orjson.loads(await answer(stock, frontline, PAGES, {"id": rich_id}))["data"]["customer"]
    cursors = {
        "tx": first["few"]["pageInfo"]["endCursor"],
        "timeline": first["timeline"]["pageInfo"]["endCursor"],
    }
    middle = first["all"]["edges"][12]["cursor"]
    ids = {"id": north.customer_id, "tx": north.ids["Transaction"]}
    found: list[tuple[str, dict[str, Any]]] = [
        (WHOLE_CUSTOMER, {"id": north.customer_id}),
        (WHOLE_CUSTOMER, {"id": south.customer_id}),
        (WHOLE_CUSTOMER, {"id": rich_id}),
        (LISTS, {"first": 5, "withOwner": True}),
        (LISTS, {"first": 3, "withOwner": False}),
        (PAGES, {"id": rich_id}),
        (PAGES, {"id": rich_id, **cursors}),
        (PAGES, {"id": rich_id, "timeline": middle, "kinds": ["CASE", "FEEDBACK", "ALERT"]}),
        (PAGES, {"id": north.customer_id, "tx": "bad", "timeline": cursors["tx"]}),
        (ERRORS, {"id": north.customer_id}),
        (PLAIN_PAGES, {"id": rich_id, "withItems": True}),
        (PLAIN_PAGES, {"id": rich_id, "tx": cursors["tx"], "withItems": False}),
        (PLAIN_PAGES, {"id": north.customer_id, "tx": "bad", "withItems": True}),
        (OTHERS, {"id": rich_id}),
        (VIEWER_AND_TYPES, {}),
        (MANAGED_LIST, {}),
        (test_policy_matrix.PROFILE, {"id": north.customer_id}),
        (test_node_and_timeline.TIMELINE, {"id": rich_id, "first": 3, "kinds": None}),
        (test_node_and_timeline.TIMELINE, {"id": rich_id, "first": 3, "kinds": ["CASE", "FEEDBACK"]}),
        *((query, ids) for query, _ in test_policy_matrix.OPERATIONS.values()),
        *((test_node_and_timeline.NODE, {"id": global_id}) for global_id in north.ids.values()),
        ("{ me { displayName emails feedback(first: 5) { edges { node { nps comment } } } } }", {}),
        ("{ me { id segment } }", {}),
        (NODES, {"id": north.customer_id}),
        (NODES, {"id": rich_id}),
        ("query Back { customers(last: 2) { nodes { id displayName } pageInfo { hasPreviousPage } } }", {}),
        *((scenario.document, scenario_variables(scenario, rich_id)) for scenario in scenarios.SCENARIOS),
        (dashboard.DASHBOARD, dashboard.VARIABLES),
        *((query, {"id": rich_id} if "$id" in query else {}) for query in readme_queries()),
    ]
    return found


def scenario_variables(scenario: scenarios.Scenario, customer_id: str) -> dict[str, Any]:
    if scenario.name == "customer-360":
        return {"id": customer_id}
    return scenario.variables(None, 0)  # type: ignore[arg-type]


async def audit_rows(repos: Repositories, customers: list[str]) -> list[tuple[Any, ...]]:
    """The audit entries written about these customers (ids), in a stable order."""
    rows: list[tuple[Any, ...]] = []
    for customer_id in customers:
        page = await repos.audit.for_customer(customer_id, first=100, after=None)
        rows += [(e.subject, e.role, e.customer_id, e.fields, e.operation) for e in page.items]
    return sorted(rows, key=repr)


def root_names(query: str) -> list[str]:
    """The root fields a query reads."""
    [operation] = [d for d in parse(query).definitions if isinstance(d, OperationDefinitionNode)]
    return [s.name.value for s in operation.selection_set.selections if hasattr(s, "name")]


def customer_roots(query: str) -> int | None:
    """How many root fields read customers, when they are all the query reads (else None)."""
    names = root_names(query)
    return len(names) if names and all(n in ROOTS for n in names) else None


@pytest.mark.parametrize("role", list(Role))
async def test_every_document_gives_the_same_answer_and_audit_on_every_path(
    clients: dict[str, tuple[httpx.AsyncClient, CommandCounter]],
    world: tuple[World, Customer],
    repos: Repositories,
    role: Role,
    schemas: dict[bool, Customer360Schema],
) -> None:
    shown, rich = world
    executor: Any = schemas[True].execution_context_class
    audited = [shown.north.customer.id, shown.south.customer.id, rich.id]
    for query, variables in await documents(shown, rich, clients["stock"][0]):
        answers, reads = {}, {}
        retries = executor.retries
        for name, (client, counter) in clients.items():
            before = await audit_rows(repos, audited)
            counter.names.clear()
            counter.counting = True
            answers[name] = await answer(client, shown.tokens[role], query, variables)
            counter.counting = False
            written = await audit_rows(repos, audited)
            for row in before:
                written.remove(row)
            answers[name] += orjson.dumps(written)
            reads[name] = [c for c in counter.names if c != "insert"]
        for name in TARGETS:
            assert answers[name] == answers["stock"], (name, query, variables)
        if b'"errors":null' in answers["stock"]:
            # An answer without errors comes from the compiled run itself, not from its stock retry.
            assert executor.retries == retries, query
            roots = customer_roots(query)
            if roots is not None and not fallbacks(schemas[True]._schema, parse(query), variables):
                # Compiled fully: one command per root field (and the audit write).
                assert len(reads["pipelines"]) <= roots, (query, reads["pipelines"])


async def test_the_compiled_executor_runs_queries_through_cached_plans(
    clients: dict[str, tuple[httpx.AsyncClient, CommandCounter]],
    world: tuple[World, Customer],
    schemas: dict[bool, Customer360Schema],
) -> None:
    shown, _ = world
    executor: Any = schemas[True].execution_context_class
    body = await answer(clients["compiled"][0], shown.tokens[Role.FRONTLINE], WHOLE_CUSTOMER, {"id": "x"})
    assert b"errors" in body
    plans = executor.plans.for_document(WHOLE_CUSTOMER)
    assert len(plans) == 1
    assert plans[0] is not None


def test_the_bench_and_readme_customer_queries_compile_fully(schemas: dict[bool, Customer360Schema]) -> None:
    schema = schemas[True]._schema
    found = {
        s.name: fallbacks(schema, parse(s.document), scenario_variables(s, "x")) for s in scenarios.SCENARIOS
    }
    assert found == {s.name: [] for s in scenarios.SCENARIOS}
    customer_queries = [q for q in readme_queries() if "customer" in q]
    # The worklist and experience value read standings and cells through their own resolvers.
    own = ("worklist", "experienceValue")
    assert [fallbacks(schema, parse(q), {"id": "x"} if "$id" in q else {}) for q in customer_queries] == [
        [f"Query.{name}" for name in root_names(q) if name in own] for q in customer_queries
    ]
    # What is not read by pipelines is named: a nested customer's own lists, and other root fields.
    assert fallbacks(schema, parse(PAGES), {"id": "x"}) == ["Feedback.customer (beyond the profile)"]
    assert fallbacks(schema, parse(dashboard.DASHBOARD), dashboard.VARIABLES) == ["Query.experience"]
    # nodes { ... } is read like edges { node { ... } }.
    assert fallbacks(schema, parse(NODES), {"id": "x"}) == ["Query.alerts", "Query.auditTrail"]
