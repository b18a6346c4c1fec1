"""Search, filters and orders per role, derived from the policy table: what a role sees masked or hidden it
can neither match nor sort by. Every argument of every read field says which fields it compares."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest
import strawberry

from api.settings import Settings
from auth.policy import (
    FIELDS,
    NARROWED,
    OPERATIONS,
    ORDER,
    RECORD_TIMES,
    SEARCH_WORDS,
    SELECTORS,
    Access,
    FieldRule,
    refused_arguments,
    search_kinds,
)
from auth.principal import Role
from domain.customers.search import WordKind
from domain.paging import Position, encode_cursor
from domain.repositories import Repositories
from domain.standing.worklist import rank_of
from domain.store import UnitOfWork
from resolvers.guards import undeclared_arguments, unenforced_selectors
from resolvers.schema import Query, build_schema
from tests import factories as f
from tests.api.world import World, build_world
from tests.conftest import GraphQLClient, client_for

Variables = Callable[[World], dict[str, Any]]


def sees_in_full(
    role: Role, fields: tuple[str, ...], table: Mapping[str, Mapping[str, FieldRule]] = FIELDS
) -> bool:
    """Straight from the table: every one of ``fields`` is shown to ``role`` in full."""
    for path in fields:
        type_name, field_name = path.split(".")
        rule = table.get(type_name, {}).get(field_name)
        if rule is None or rule.for_role(role) is not Access.FULL:
            return False
    return True


def at(kind: str) -> str:
    return Position(f.NOW, "x").cursor(kind)


PERIOD = '{from: "2026-10-01", to: "2026-10-31", regions: ["north"]'
# One request per root argument that compares some field, using that argument.
ROOT_SAMPLES: dict[tuple[str, str], tuple[str, Variables]] = {
    ("Query.customers", ORDER): ("{ customers(first: 1) { edges { cursor } } }", lambda w: {}),
    ("Query.customers", "after"): (
        "query($a: String) { customers(first: 1, after: $a) { edges { cursor } } }",
        lambda w: {"a": encode_cursor("customer", "doe jane", "x")},
    ),
    ("Query.customers", "before"): (
        "query($b: String) { customers(last: 1, before: $b) { edges { cursor } } }",
        lambda w: {"b": encode_cursor("customer", "doe jane", "x")},
    ),
    **{
        ("Query.customers", f"filter.{name}"): (
            f"query($v: {kind}) {{ customers(first: 1, filter: {{{name}: $v}}) {{ edges {{ cursor }} }} }}",
            value,
        )
        for name, kind, value in (
            ("regions", "[String!]", lambda w: {"v": ["north"]}),
            ("segments", "[Segment!]", lambda w: {"v": ["MASS"]}),
            ("status", "CustomerStatus", lambda w: {"v": "ACTIVE"}),
            ("ownerId", "ID", lambda w: {"v": w.north.ids["Employee"]}),
            ("tags", "[String!]", lambda w: {"v": ["vip"]}),
        )
    },
    **{
        ("Query.customerByExternalId", name): (
            '{ customerByExternalId(system: "crm", id: "X") { id } }',
            lambda w: {},
        )
        for name in ("system", "id")
    },
    ("Query.auditTrail", "customerId"): (
        "query($id: ID!) { auditTrail(customerId: $id, first: 1) { edges { cursor } } }",
        lambda w: {"id": w.north.customer_id},
    ),
    ("Query.auditTrail", ORDER): (
        "query($id: ID!) { auditTrail(customerId: $id, first: 1) { edges { cursor } } }",
        lambda w: {"id": w.north.customer_id},
    ),
    ("Query.auditTrail", "after"): (
        "query($id: ID!, $a: String) { auditTrail(customerId: $id, first: 1, after: $a)"
        " { edges { cursor } } }",
        lambda w: {"id": w.north.customer_id, "a": at("AuditEntry")},
    ),
    ("Query.alerts", ORDER): ("{ alerts(first: 1) { edges { cursor } } }", lambda w: {}),
    ("Query.alerts", "after"): (
        "query($a: String) { alerts(first: 1, after: $a) { edges { cursor } } }",
        lambda w: {"a": at("AlertQueue")},
    ),
    ("Query.alerts", "filter.states"): (
        "{ alerts(first: 1, filter: {states: [OPEN]}) { edges { cursor } } }",
        lambda w: {},
    ),
    ("Query.alerts", "filter.overdue"): (
        "{ alerts(first: 1, filter: {overdue: true}) { edges { cursor } } }",
        lambda w: {},
    ),
    ("Query.alerts", "filter.mine"): (
        "{ alerts(first: 1, filter: {mine: true}) { edges { cursor } } }",
        lambda w: {},
    ),
    ("Query.serviceStandards", "region"): (
        '{ serviceStandards(region: "north") { touchpoint } }',
        lambda w: {},
    ),
    ("Query.alerts", "filter.kinds"): (
        "{ alerts(first: 1, filter: {kinds: [TACTICAL]}) { edges { cursor } } }",
        lambda w: {},
    ),
    **{
        (field, argument): (query, lambda w: {})
        for field, query in (
            (
                "Query.serviceStandardHistory",
                '{ serviceStandardHistory(region: "north", touchpoint: DELIVERY) { version } }',
            ),
            (
                "Query.serviceStandardWindows",
                '{ serviceStandardWindows(region: "north", touchpoint: DELIVERY) { day } }',
            ),
        )
        for argument in ("region", "touchpoint")
    },
    ("Query.recurringIssues", "filter.regions"): (
        f"{{ recurringIssues(filter: {PERIOD}}}) {{ count }} }}",
        lambda w: {},
    ),
    ("Query.recurringIssues", "filter.categories"): (
        '{ recurringIssues(filter: {from: "2026-10-01", to: "2026-10-31", categories: ["delivery"]})'
        " { count } }",
        lambda w: {},
    ),
    ("Query.recurringIssues", "groupBy"): (
        '{ recurringIssues(filter: {from: "2026-10-01", to: "2026-10-31"}, groupBy: [CATEGORY]) { count } }',
        lambda w: {},
    ),
    ("Query.loopPerformance", "filter.regions"): (
        f"{{ loopPerformance(filter: {PERIOD}}}) {{ alerts }} }}",
        lambda w: {},
    ),
    ("Query.loopPerformance", "filter.teams"): (
        '{ loopPerformance(filter: {from: "2026-10-01", to: "2026-10-31", teams: ["north-1"]}) { alerts } }',
        lambda w: {},
    ),
    ("Query.loopPerformance", "groupBy"): (
        '{ loopPerformance(filter: {from: "2026-10-01", to: "2026-10-31"}, groupBy: [REGION]) { alerts } }',
        lambda w: {},
    ),
    ("Query.experience", "filter.regions"): (f"{{ experience(filter: {PERIOD}}}) {{ nps }} }}", lambda w: {}),
    ("Query.experience", "filter.channels"): (
        '{ experience(filter: {from: "2026-10-01", to: "2026-10-31", channels: [APP]}) { nps } }',
        lambda w: {},
    ),
    ("Query.experience", "filter.touchpoints"): (
        '{ experience(filter: {from: "2026-10-01", to: "2026-10-31", touchpoints: [DELIVERY]}) { nps } }',
        lambda w: {},
    ),
    ("Query.experience", "filter.segments"): (
        '{ experience(filter: {from: "2026-10-01", to: "2026-10-31", segments: [MASS]}) { nps } }',
        lambda w: {},
    ),
    ("Query.experience", "groupBy"): (
        '{ experience(filter: {from: "2026-10-01", to: "2026-10-31"}, groupBy: [REGION, CHANNEL]) { nps } }',
        lambda w: {},
    ),
    ("Query.complaints", "filter.regions"): (
        f"{{ complaints(filter: {PERIOD}}}) {{ complaints }} }}",
        lambda w: {},
    ),
    ("Query.complaints", "filter.channels"): (
        '{ complaints(filter: {from: "2026-10-01", to: "2026-10-31", channels: [WEB]}) { complaints } }',
        lambda w: {},
    ),
    ("Query.complaints", "by"): (
        '{ complaints(filter: {from: "2026-10-01", to: "2026-10-31"}, by: [CATEGORY, CHANNEL])'
        " { complaints } }",
        lambda w: {},
    ),
    ("Query.serviceStandardCompliance", "filter.regions"): (
        f"{{ serviceStandardCompliance(filter: {PERIOD}}}) {{ alerts }} }}",
        lambda w: {},
    ),
    ("Query.serviceStandardCompliance", "filter.touchpoints"): (
        '{ serviceStandardCompliance(filter: {from: "2026-10-01", to: "2026-10-31", touchpoints: [DELIVERY]})'
        " { alerts } }",
        lambda w: {},
    ),
    ("Query.revenueAtRisk", "filter.regions"): (
        '{ revenueAtRisk(filter: {regions: ["north"]}) { customers } }',
        lambda w: {},
    ),
    ("Query.revenueAtRisk", "filter.segments"): (
        "{ revenueAtRisk(filter: {segments: [MASS]}) { customers } }",
        lambda w: {},
    ),
    ("Query.revenueAtRisk", "groupBy"): (
        "{ revenueAtRisk(groupBy: [REGION, SEGMENT]) { customers } }",
        lambda w: {},
    ),
    ("Query.churn", "filter.regions"): (f"{{ churn(filter: {PERIOD}}}) {{ churned }} }}", lambda w: {}),
    ("Query.churn", "filter.segments"): (
        '{ churn(filter: {from: "2026-10-01", to: "2026-10-31", segments: [MASS]}) { churned } }',
        lambda w: {},
    ),
    ("Query.managedList", "kind"): ("{ managedList(kind: CASE_CATEGORY) { version } }", lambda w: {}),
    ("Query.churn", "groupBy"): (
        '{ churn(filter: {from: "2026-10-01", to: "2026-10-31"}, groupBy: [REGION, SEGMENT]) { churned } }',
        lambda w: {},
    ),
    ("Query.experienceValue", "filter.regions"): (
        f"{{ experienceValue(filter: {PERIOD}}}) {{ customers }} }}",
        lambda w: {},
    ),
    ("Query.experienceValue", "filter.segments"): (
        '{ experienceValue(filter: {from: "2026-10-01", to: "2026-10-31", segments: [MASS]}) { customers } }',
        lambda w: {},
    ),
    ("Query.experienceValue", "filter.touchpoints"): (
        '{ experienceValue(filter: {from: "2026-10-01", to: "2026-10-31", touchpoints: [DELIVERY]})'
        " { customers } }",
        lambda w: {},
    ),
    ("Query.experienceValue", "groupBy"): (
        '{ experienceValue(filter: {from: "2026-10-01", to: "2026-10-31"}, groupBy: [SEGMENT])'
        " { customers } }",
        lambda w: {},
    ),
    ("Query.worklist", ORDER): ("{ worklist(first: 1) { edges { cursor } } }", lambda w: {}),
    ("Query.worklist", "after"): (
        "query($a: String) { worklist(first: 1, after: $a) { edges { cursor } } }",
        lambda w: {"a": encode_cursor("worklist", rank_of(50, "x"))},
    ),
    ("Query.worklist", "filter.actions"): (
        '{ worklist(first: 1, filter: {actions: ["RECOVER"]}) { edges { cursor } } }',
        lambda w: {},
    ),
    ("Query.worklist", "filter.segments"): (
        '{ worklist(first: 1, filter: {segments: ["MASS"]}) { edges { cursor } } }',
        lambda w: {},
    ),
    ("Query.worklist", "filter.owner"): (
        "{ worklist(first: 1, filter: {owner: ME}) { edges { cursor } } }",
        lambda w: {},
    ),
}


@pytest.fixture
async def world(repos: Repositories, token: Any, uow: UnitOfWork) -> World:
    return await build_world(repos, token, uow)


def test_every_argument_of_every_read_field_says_which_fields_it_compares() -> None:
    assert undeclared_arguments(build_schema()._schema) == []


@strawberry.type(name="Query", description="The real query plus a list whose filter nobody declared.")
class QueryWithAnUndeclaredFilter(Query):
    @strawberry.field(description="Customers born in a year.")
    def born_in(self, year: int) -> list[int]:
        return [year]


def test_the_walk_reports_an_argument_added_without_a_declaration() -> None:
    assert undeclared_arguments(build_schema(QueryWithAnUndeclaredFilter)._schema) == ["Query.bornIn(year)"]


def test_every_role_sees_in_full_what_the_nested_lists_it_reads_are_ordered_by() -> None:
    assert unenforced_selectors(build_schema()._schema) == []


def test_every_root_argument_that_compares_a_field_has_a_sample_here() -> None:
    compared = {
        (field, path)
        for field, paths in SELECTORS.items()
        if field.startswith("Query.")
        for path, reads in paths.items()
        if reads and (field, path) not in NARROWED
    }
    assert set(ROOT_SAMPLES) == compared


async def test_a_root_argument_is_refused_exactly_to_the_roles_that_do_not_see_its_fields_in_full(
    http: httpx.AsyncClient, world: World
) -> None:
    for (field, path), (query, variables) in ROOT_SAMPLES.items():
        for role in OPERATIONS[field.removeprefix("Query.")]:
            body = await GraphQLClient(http, world.tokens[role]).result(query, variables(world))
            refusals = [
                e["extensions"] for e in body.get("errors", []) if e["extensions"]["code"] == "FORBIDDEN"
            ]
            # The sample uses its argument and, on a list, the list's order.
            used = [p for p in (path, ORDER) if p in SELECTORS[field]]
            refused = [p for p in used if not sees_in_full(role, SELECTORS[field][p])]
            if not refused:
                assert refusals == [], (field, path, role, body)
            else:
                # An order refused has no argument to name; an argument refused is named by its input field.
                named = [
                    {"code": "FORBIDDEN", **({} if p == ORDER else {"field": p.rsplit(".")[-1]})}
                    for p in refused
                ]
                assert len(refusals) == 1, (field, path, role, body)
                assert refusals[0] in named, (field, path, role, body)


SEARCH = "query($s: String) { customers(first: 10, search: $s) { edges { node { id } } } }"
# A customer whose name and e-mail share no word: each probe finds her through one kind of word only.
PROBES = {WordKind.NAME: "rossi", WordKind.EMAIL: "mr77"}


async def test_a_search_matches_only_the_kinds_of_words_a_role_sees_in_full(
    http: httpx.AsyncClient, repos: Repositories, world: World
) -> None:
    marta = f.customer(given_name="Marta", family_name="Rossi", emails=("mr77@example.com",), region="north")
    await repos.customers.insert_many([marta])
    for role in OPERATIONS["customers"]:
        client = GraphQLClient(http, world.tokens[role])
        visible = {kind for kind, fields in SEARCH_WORDS.items() if sees_in_full(role, fields)}
        for kind, word in PROBES.items():
            body = await client.result(SEARCH, {"s": word})
            found = [e["node"] for e in (body["data"] or {}).get("customers", {}).get("edges", [])]
            if kind in visible and WordKind.NAME in visible:
                assert len(found) == 1, (role, kind, body)
            else:
                assert found == [], (role, kind, body)
        whole = await client.result(SEARCH, {"s": "mr77@example.com"})
        if WordKind.EMAIL in visible:
            assert len(whole["data"]["customers"]["edges"]) == 1, (role, whole)
        else:
            assert [e["extensions"] for e in whole["errors"]] == [{"code": "FORBIDDEN", "field": "search"}]


def shown_as(access: Access, type_name: str, field_name: str, role: Role) -> dict[str, dict[str, FieldRule]]:
    """The policy table with one field shown to one role as ``access``."""
    table = copy.deepcopy(FIELDS)
    rule = table[type_name][field_name]
    table[type_name][field_name] = FieldRule(
        {**rule.access, role: access}, mask=rule.mask, personal=rule.personal
    )
    return table


@pytest.mark.parametrize("access", [Access.MASKED, Access.HIDDEN])
def test_a_newly_masked_or_hidden_field_makes_its_filters_and_orders_refused(access: Access) -> None:
    table = shown_as(access, "Customer", "region", Role.MANAGER)
    used = ["filter.regions", "filter.segments", ORDER]
    assert refused_arguments(Role.MANAGER, "Query.customers", used, table=table) == ["filter.regions"]
    assert refused_arguments(Role.FRONTLINE, "Query.customers", used, table=table) == []
    names_hidden = shown_as(access, "Customer", "familyName", Role.MANAGER)
    assert refused_arguments(Role.MANAGER, "Query.customers", used, table=names_hidden) == [ORDER]
    assert refused_arguments(Role.MANAGER, "Query.customers", used) == []


def test_search_words_follow_what_a_role_sees_of_names_and_emails() -> None:
    assert search_kinds(Role.FRONTLINE) == {WordKind.NAME, WordKind.EMAIL}
    assert search_kinds(Role.MANAGER) == {WordKind.NAME}
    assert search_kinds(Role.BOARD) == frozenset()
    unmasked = shown_as(Access.FULL, "Customer", "emails", Role.MANAGER)
    assert search_kinds(Role.MANAGER, table=unmasked) == {WordKind.NAME, WordKind.EMAIL}
    hidden_names = shown_as(Access.HIDDEN, "Customer", "givenName", Role.MANAGER)
    assert search_kinds(Role.MANAGER, table=hidden_names) == frozenset()


TIMELINE = """
query($system: String!, $id: String!) {
  customerByExternalId(system: $system, id: $id) { timeline(first: 20) { edges { node { __typename } } } }
}
"""
TIMELINE_BY_ID = (
    "query($id: ID!) { customer(id: $id) { timeline(first: 20) { edges { node { __typename } } } } }"
)


async def test_a_timeline_shows_only_the_kinds_of_record_whose_time_the_role_sees(
    http: httpx.AsyncClient, world: World
) -> None:
    external = world.north.customer.external_ids[0]
    for role in (Role.FRONTLINE, Role.MANAGER, Role.INTEGRATION):
        client = GraphQLClient(http, world.tokens[role])
        if role is Role.INTEGRATION:
            body = await client.execute(TIMELINE, {"system": external.system, "id": external.id})
            customer = body["data"]["customerByExternalId"]
        else:
            body = await client.execute(TIMELINE_BY_ID, {"id": world.north.customer_id})
            customer = body["data"]["customer"]
        shown = {edge["node"]["__typename"] for edge in customer["timeline"]["edges"]}
        # The world gives the customer one record of every kind.
        expected = {time.split(".")[0] for time in RECORD_TIMES.values() if sees_in_full(role, (time,))}
        assert shown == expected, (role, body)


@pytest.mark.parametrize("compiled", [True, False])
async def test_a_field_newly_masked_for_a_role_is_refused_as_its_filter_through_the_endpoint(
    settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch, compiled: bool
) -> None:
    rule = FIELDS["Customer"]["region"]
    masked = FieldRule({**rule.access, Role.MANAGER: Access.MASKED}, mask=lambda _: "***", personal=True)
    monkeypatch.setitem(FIELDS["Customer"], "region", masked)
    by_region = [
        ('{ customers(first: 1, filter: {regions: ["north"]}) { edges { cursor } } }', {}),
        (
            "query($r: [String!]) { customers(first: 1, filter: {regions: $r}) { edges { cursor } } }",
            {"r": ["north"]},
        ),
        (
            "query($f: CustomerFilter) { customers(first: 1, filter: $f) { edges { cursor } } }",
            {"f": {"regions": ["north"]}},
        ),
    ]
    async with client_for(settings.model_copy(update={"compiled_execution": compiled})) as http:
        manager, frontline = (
            GraphQLClient(http, world.tokens[role]) for role in (Role.MANAGER, Role.FRONTLINE)
        )
        for query, variables in by_region:
            refused = await manager.result(query, variables)
            assert [e["extensions"] for e in refused["errors"]] == [{"code": "FORBIDDEN", "field": "regions"}]
            assert "errors" not in await frontline.execute(query, variables)
        unfiltered = await manager.execute(
            "{ customers(first: 1, filter: {segments: [MASS]}) { edges { cursor } } }"
        )
        assert "errors" not in unfiltered
