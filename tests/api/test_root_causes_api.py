"""Root causes through the endpoint: a tree managers maintain, required to resolve operational alerts and
complaints, and refused when unknown or retired."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from auth.principal import Role
from domain.alerts.models import AlertReason
from domain.alerts.rules import raise_alert
from domain.crm.models import CaseKind
from domain.feedback.models import Touchpoint
from domain.repositories import Repositories
from domain.standards.models import default_standard
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import GraphQLClient

SAVE = """mutation($input: ListEntryInput!) { saveListEntry(input: $input) {
  __typename ... on ListEntrySaved { list { version } }
  ... on ValidationError { fields { field code } } } }"""
CAUSES = "{ managedList(kind: ROOT_CAUSE) { version entries { code parent active } } }"
RESOLVE = """mutation($id: ID!, $cause: String) {
  resolveAlert(id: $id, version: 1, input: {resolution: "Called", reply: "Sorry", replyChannel: "PHONE",
                                            rootCause: $cause, rootCauseNote: "Left at the depot"}) {
    __typename ... on AlertChanged { alert { rootCause { code category note by } } }
    ... on ValidationError { fields { field code } } } }"""
CASE = """mutation($input: UpdateCaseInput!) { updateCase(input: $input) {
  __typename ... on CaseSaved { case { status rootCause { code category } } }
  ... on ValidationError { fields { field code } } } }"""


async def alert_in(repos: Repositories, customer_id: str | None = None) -> str:
    alert = raise_alert(
        alert_id=f.next_id(),
        customer_id=customer_id,
        region="north",
        standard=default_standard("north", Touchpoint.DELIVERY),
        reasons=(AlertReason.LOW_NPS,),
        assignee_id=None,
        now=datetime.now(UTC),
        by="test",
    )
    await repos.alerts.insert(alert)
    return encode_global_id("Alert", alert.id)


async def test_causes_are_a_tree_and_resolving_needs_an_active_one(
    http: httpx.AsyncClient, token: Any, repos: Repositories
) -> None:
    manager = GraphQLClient(http, token(Role.MANAGER, sub="boss", regions=["north"]))
    causes = (await manager.execute(CAUSES))["data"]["managedList"]
    assert {"code": "carrier-delay", "parent": "delivery", "active": True} in causes["entries"]

    def entry(**overrides: Any) -> dict[str, Any]:
        base = {"kind": "ROOT_CAUSE", "code": "strike", "label": "Carrier strike", "active": True}
        return {"input": {**base, "expectedVersion": causes["version"], **overrides}}

    orphan = (await manager.execute(SAVE, entry()))["data"]["saveListEntry"]
    assert orphan["fields"] == [{"field": "parent", "code": "REQUIRED"}]
    saved = (await manager.execute(SAVE, entry(parent="delivery")))["data"]["saveListEntry"]
    retired = entry(code="carrier-delay", label="Carrier delay", active=False, parent="delivery")
    retired["input"]["expectedVersion"] = saved["list"]["version"]
    assert (await manager.execute(SAVE, retired))["data"]["saveListEntry"]["__typename"] == "ListEntrySaved"

    frontline = GraphQLClient(http, token(Role.FRONTLINE, sub="agent", regions=["north"]))
    for cause, code in (("no-such-cause", "UNKNOWN"), ("carrier-delay", "UNKNOWN"), (None, "REQUIRED")):
        body = await frontline.execute(RESOLVE, {"id": await alert_in(repos), "cause": cause})
        assert body["data"]["resolveAlert"]["fields"] == [{"field": "rootCause", "code": code}], cause
    resolved = await frontline.execute(RESOLVE, {"id": await alert_in(repos), "cause": "strike"})
    assert resolved["data"]["resolveAlert"]["alert"]["rootCause"] == {
        "code": "strike",
        "category": "delivery",
        "note": "Left at the depot",
        "by": "agent",
    }


async def test_a_complaint_is_resolved_or_closed_with_its_root_cause(
    http: httpx.AsyncClient, token: Any, repos: Repositories
) -> None:
    customer = f.customer(region="north")
    await repos.customers.insert_many([customer])
    complaint, question = f.case(customer, category="billing"), f.case(customer, kind=CaseKind.QUESTION)
    await repos.cases.insert_many([complaint, question])
    frontline = GraphQLClient(http, token(Role.FRONTLINE, sub="agent", regions=["north"]))

    async def move(case: Any, status: str, **more: Any) -> dict[str, Any]:
        change = {"id": encode_global_id("Case", case.id), "version": 1, "status": status, **more}
        result: dict[str, Any] = (await frontline.execute(CASE, {"input": change}))["data"]["updateCase"]
        return result

    unexplained = await move(complaint, "CLOSED")
    assert unexplained["fields"] == [
        {"field": "rootCause", "code": "REQUIRED"},
        {"field": "rootCauseNote", "code": "REQUIRED"},
    ]
    closed = await move(complaint, "CLOSED", rootCause="wrong-charge", rootCauseNote="Charged twice")
    assert closed["case"] == {
        "status": "CLOSED",
        "rootCause": {"code": "wrong-charge", "category": "billing"},
    }
    # A question needs no cause.
    assert (await move(question, "CLOSED"))["case"] == {"status": "CLOSED", "rootCause": None}


async def test_recurring_issues_of_the_last_four_weeks_for_managers_and_whole_months_company_wide(
    http: httpx.AsyncClient, token: Any, repos: Repositories
) -> None:
    frontline = GraphQLClient(http, token(Role.FRONTLINE, sub="agent", regions=["north"]))
    # Five customers: as many as a manager's aggregates need behind a figure.
    for n in range(5):
        alert = await alert_in(repos, customer_id=f"c{n}")
        await frontline.execute(RESOLVE, {"id": alert, "cause": "carrier-delay"})
    manager = GraphQLClient(http, token(Role.MANAGER, regions=["north"]))
    query = "{ recurringIssues { cause category count baselineCount rising } }"
    # Resolved today: the default period is the 28 days up to yesterday.
    assert (await manager.execute(query))["data"]["recurringIssues"] == []
    today = datetime.now(UTC).date().isoformat()
    dated = f'{{ recurringIssues(filter: {{from: "{today}", to: "{today}"}}) {{ cause count }} }}'
    assert (await manager.execute(dated))["data"]["recurringIssues"] == [
        {"cause": "carrier-delay", "count": 5}
    ]
    board = await GraphQLClient(http, token(Role.BOARD)).result(query)
    assert board["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "from"}
