"""``viewer`` tells each role exactly what enforcement does: every field it reports is checked for real."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)

from api.settings import Settings
from auth.policy import FIELDS, OPERATIONS
from auth.principal import Role
from domain.repositories import Repositories
from domain.store import UnitOfWork
from resolvers.schema import build_schema
from tests.api.world import World, build_world
from tests.conftest import GraphQLClient

VIEWER = "{ viewer { subject role regions operations types { name fields { name access } } } }"


@dataclass(frozen=True)
class Step:
    """One selection on the way from the root to a type: its text and the response key it fills."""

    selection: str
    key: str


# The world's records fall in October: company-wide figures come in whole months that have ended.
PERIOD = 'from: "2026-10-01", to: "2026-10-31"'


def root_steps(world: World, role: Role) -> dict[str, Step]:
    north = world.north
    external = north.customer.external_ids[0]
    steps = {
        "viewer": Step("viewer", "viewer"),
        "customer": Step(f'customer(id: "{north.customer_id}")', "customer"),
        "customers": Step("customers(first: 1)", "customers"),
        "me": Step("me", "me"),
        "customerByExternalId": Step(
            f'customerByExternalId(system: "{external.system}", id: "{external.id}")', "customerByExternalId"
        ),
        "auditTrail": Step(f'auditTrail(customerId: "{north.customer_id}", first: 1)', "auditTrail"),
        "alerts": Step("alerts(first: 1, filter: {states: [RESOLVED]})", "alerts"),
        "serviceStandards": Step('serviceStandards(region: "north")', "serviceStandards"),
        "serviceStandardHistory": Step(
            'serviceStandardHistory(region: "north", touchpoint: STORE_VISIT)', "serviceStandardHistory"
        ),
        "serviceStandardWindows": Step(
            f'serviceStandardWindows(region: "north", touchpoint: STORE_VISIT, {PERIOD})',
            "serviceStandardWindows",
        ),
        **{
            name: Step(f"{name}(filter: {{{PERIOD}}})", name)
            for name in (
                "experience",
                "complaints",
                "serviceStandardCompliance",
                "churn",
                "loopPerformance",
                "recurringIssues",
            )
        },
        "revenueAtRisk": Step('revenueAtRisk(filter: {asOf: "2026-10-31"})', "revenueAtRisk"),
        "managedList": Step("managedList(kind: SERVICE_DIMENSION)", "managedList"),
        # The day the world's north agent raised, handled and resolved an alert during a tactical breach.
        "digest": Step('digest(date: "2026-10-30")', "digest"),
        "experienceValue": Step(f"experienceValue(filter: {{{PERIOD}}})", "experienceValue"),
        "worklist": Step("worklist(first: 1)", "worklist"),
    }
    return {name: step for name, step in steps.items() if role in OPERATIONS[name]}


def call(field_name: str, graphql_type: GraphQLObjectType) -> str:
    """A field with the arguments it needs to return something."""
    args = graphql_type.fields[field_name].args
    return f"{field_name}(first: 1)" if "first" in args else field_name


def paths(
    schema: GraphQLSchema, roots: dict[str, Step], seen_by_role: dict[str, dict[str, str]]
) -> dict[str, list[Step]]:
    """A path of selections to every object type the role can reach, avoiding unions and interfaces."""
    query = schema.query_type
    assert query is not None
    found: dict[str, list[Step]] = {}
    pending: deque[tuple[GraphQLObjectType, list[Step]]] = deque()
    for name, step in roots.items():
        target = get_named_type(query.fields[name].type)
        if isinstance(target, GraphQLObjectType):
            pending.append((target, [step]))
    while pending:
        graphql_type, path = pending.popleft()
        if graphql_type.name in found:
            continue
        found[graphql_type.name] = path
        for field_name, access in seen_by_role.get(graphql_type.name, {}).items():
            target = get_named_type(graphql_type.fields[field_name].type)
            if access != "DENIED" and isinstance(target, GraphQLObjectType):
                pending.append((target, [*path, Step(call(field_name, graphql_type), field_name)]))
    return found


def document(path: list[Step], selection: str) -> str:
    text = selection
    for step in reversed(path):
        text = f"{step.selection} {{ {text} }}"
    return f"{{ {text} }}"


def value_at(data: Any, keys: list[str]) -> Any:
    for key in keys:
        while isinstance(data, list):
            assert data, f"empty list on the way to {keys}"
            data = data[0]
        data = data[key]
    return data


def selection_for(role: Role, field_name: str, graphql_type: GraphQLObjectType) -> str:
    """The field, with the leaves of its object type that ``role`` may read, so masks show in the result."""
    field_type = graphql_type.fields[field_name].type
    named = get_named_type(field_type)
    if is_leaf_type(named):
        return call(field_name, graphql_type)
    if isinstance(named, GraphQLObjectType):
        leaves = [n for n, f in named.fields.items() if is_leaf_type(get_named_type(f.type)) and not f.args]
        rules = FIELDS.get(named.name, {})
        allowed = [n for n in leaves if n in rules and rules[n].for_role(role).value != "DENIED"]
        return f"{call(field_name, graphql_type)} {{ __typename {' '.join(allowed)} }}"
    return f"{call(field_name, graphql_type)} {{ __typename }}"


# Every role reads the managed lists (the vocabulary of forms and codes).
LISTS = {"ManagedList", "ListEntry"}
QUERY_REACHABLE_SAMPLE = {
    Role.FRONTLINE: {
        "Customer",
        "Alert",
        "AlertStep",
        "Reply",
        "Feedback",
        "Case",
        "Employee",
        "Viewer",
        *LISTS,
        "TacticalBreach",
        "BreachContribution",
        "ActionPlan",
        "LoopPerformanceRow",
        "Digest",
        "DigestBreach",
        "DigestResolution",
        "DigestRisingCause",
        "RootCause",
        "Standing",
        "StandingReason",
        "WorklistEdge",
    },
    Role.MANAGER: {
        "Customer",
        "Standing",
        "WorklistConnection",
        "ExperienceValueRow",
        "CurrencySpend",
        "Alert",
        "AuditEntry",
        "ServiceStandard",
        "StandardWindow",
        "ServiceStandardChange",
        "WindowDay",
        "WindowTarget",
        "TacticalBreach",
        "Digest",
        "DigestBreach",
        "DigestResolution",
        "Feedback",
        "Viewer",
        "ExperienceBucket",
        *LISTS,
    },
    Role.BOARD: {
        "Viewer",
        "TypeAccess",
        "FieldAccess",
        "ExperienceBucket",
        "ScoreCount",
        "DimensionScore",
        *LISTS,
        "ExperienceValueRow",
        "CurrencySpend",
    },
    Role.BI: {
        "Viewer",
        "ExperienceBucket",
        "DimensionScore",
        "ComplaintRow",
        "ComplianceRow",
        "RiskRow",
        "ChurnRow",
        *LISTS,
        "LoopPerformanceRow",
        "RecurringIssue",
        "ExperienceValueRow",
    },
    Role.CUSTOMER: {"Customer", "Feedback", "Reply", "Viewer", *LISTS},
    Role.INTEGRATION: {"Customer", "Transaction", "Viewer", *LISTS},
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Aggregates over the world's one response per region are shown, so every aggregate field is walked."""
    return settings.model_copy(update={"aggregate_min_customers": 1})


@pytest.fixture
async def world(repos: Repositories, token: Any, uow: UnitOfWork) -> World:
    return await build_world(repos, token, uow)


@pytest.mark.parametrize("role", list(Role))
async def test_viewer_reports_the_table_and_enforcement_agrees_on_every_field(
    http: httpx.AsyncClient, world: World, role: Role
) -> None:
    # A frontline read of the north customer's personal data gives the manager an audit entry to see.
    frontline = GraphQLClient(http, world.tokens[Role.FRONTLINE])
    await frontline.execute(document([root_steps(world, Role.FRONTLINE)["customer"]], "emails"))
    client = GraphQLClient(http, world.tokens[role])
    viewer = (await client.execute(VIEWER))["data"]["viewer"]
    assert viewer["role"] == role.name
    schema = build_schema()._schema
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    served = {name for root in roots if root is not None for name in root.fields}
    # Federation's operations are in the table too, but only a subgraph serves them.
    assert set(viewer["operations"]) == {
        op for op, roles in OPERATIONS.items() if role in roles and op in served
    }
    reported = {t["name"]: {f["name"]: f["access"] for f in t["fields"]} for t in viewer["types"]}
    for type_name, fields in reported.items():
        for field_name, access in fields.items():
            rule = FIELDS[type_name][field_name]
            assert access == rule.for_role(role).value, f"{type_name}.{field_name}"

    schema = build_schema()._schema
    routes = paths(schema, root_steps(world, role), reported)
    # Mutation and subscription results are checked by their own tests; every type reachable from the
    # role's queries is checked here, field by field.
    assert set(routes) <= set(reported)
    assert set(routes) >= {t for t in reported if t in QUERY_REACHABLE_SAMPLE[role]}
    frontline_routes = paths(
        schema,
        root_steps(world, Role.FRONTLINE),
        {t: dict.fromkeys(FIELDS.get(t, {}), "FULL") for t in schema.type_map},
    )
    for type_name, path in routes.items():
        fields = reported[type_name]
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        keys = [step.key for step in path]
        for field_name, access in fields.items():
            selection = selection_for(role, field_name, graphql_type)
            body = await client.result(document(path, selection))
            errors = body.get("errors", [])
            where = f"{role.value}: {type_name}.{field_name}"
            if access == "DENIED":
                # One FORBIDDEN per object of the path that carries the field (several inside a list).
                assert errors, where
                assert {e["extensions"]["code"] for e in errors} == {"FORBIDDEN"}, where
                assert {e["path"][-1] for e in errors} == {field_name}, where
                continue
            assert errors == [], where
            shown = value_at(body["data"], [*keys, field_name])
            if access == "HIDDEN":
                assert shown is None, where
            elif access == "MASKED":
                unmasked_path = frontline_routes[type_name]
                unmasked = await frontline.execute(document(unmasked_path, selection))
                full = value_at(unmasked["data"], [*(s.key for s in unmasked_path), field_name])
                assert shown not in (None, full), where


def test_hidden_fields_are_nullable() -> None:
    schema = build_schema()._schema
    for type_name, fields in FIELDS.items():
        for field_name, rule in fields.items():
            if any(a.value == "HIDDEN" for a in rule.access.values()):
                field_type = schema.type_map[type_name].fields[field_name].type  # type: ignore[union-attr]
                assert not isinstance(field_type, GraphQLNonNull), f"{type_name}.{field_name}"
                assert not isinstance(field_type, GraphQLList)
