"""Each role's view of ``loopPerformance`` through the endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.settings import Settings
from auth.principal import Role
from domain.alerts.models import AlertReason, Reply
from domain.alerts.rules import raise_alert, resolve
from domain.employees.models import Employee
from domain.feedback.models import Touchpoint
from domain.repositories import Repositories
from domain.standards.models import default_standard
from tests import factories as f
from tests.conftest import GraphQLClient

QUERY = """query($groupBy: [LoopGroup!], $teams: [String!]) {
  loopPerformance(filter: {from: "2026-10-01", to: "2026-10-31", teams: $teams}, groupBy: $groupBy) {
    team region suppressed alerts resolved medianMinutesToResolve
  }
}"""
BY_EMPLOYEE = """{ loopPerformance(filter: {from: "2026-10-01", to: "2026-10-31"}, groupBy: [EMPLOYEE]) {
  employee { name } alerts } }"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every group of customers is large enough: what is suppressed here is for naming employees."""
    return settings.model_copy(update={"aggregate_min_customers": 1})


@pytest.fixture
async def staff(repos: Repositories) -> dict[str, Employee]:
    """North's teams in October: big (three employees), pair (two) and solo (one), two alerts each."""
    people = {
        name: f.employee(name=name, team=team, regions=("north",))
        for name, team in (("Ann", "big"), ("Ben", "big"), ("Cat", "big"), ("Dan", "pair"), ("Eve", "pair"))
    }
    people["Fay"] = f.employee(name="Fay", team="solo", regions=("north",))
    await repos.employees.insert_many(people.values())
    raised = datetime(2026, 10, 12, 9, tzinfo=UTC)
    for n, person in enumerate(list(people.values()) * 2):
        alert = raise_alert(
            alert_id=f.next_id(),
            customer_id=f"c{n:023d}",
            region="north",
            standard=default_standard("north", Touchpoint.DELIVERY),
            reasons=(AlertReason.LOW_NPS,),
            assignee_id=person.id,
            now=raised,
            by="test",
        )
        done = raised + timedelta(hours=1 + n)
        alert = resolve(
            alert, by=person.id, now=done, resolution="Called", reply=Reply("Sorry", "PHONE", done)
        )
        await repos.alerts.insert(alert)
    return people


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_managers_see_employees_teams_and_regions_of_their_regions(
    http: httpx.AsyncClient, token: Any, staff: dict[str, Employee]
) -> None:
    manager = GraphQLClient(http, token(Role.MANAGER, regions=["north"]))
    rows = (await manager.execute(BY_EMPLOYEE))["data"]["loopPerformance"]
    assert sorted((r["employee"]["name"], r["alerts"]) for r in rows) == [(n, 2) for n in sorted(staff)]
    teams = (await manager.execute(QUERY, {"groupBy": ["TEAM"]}))["data"]["loopPerformance"]
    assert {r["team"]: (r["alerts"], r["resolved"]) for r in teams} == {
        "big": (6, 6),
        "pair": (4, 4),
        "solo": (2, 2),
    }
    elsewhere = GraphQLClient(http, token(Role.MANAGER, regions=["south"]))
    assert (await elsewhere.execute(QUERY, {"groupBy": ["TEAM"]}))["data"]["loopPerformance"] == []


@pytest.mark.parametrize("role", [Role.BOARD, Role.BI])
async def test_the_board_and_bi_see_teams_and_regions_never_an_employee(
    http: httpx.AsyncClient, token: Any, staff: dict[str, Employee], role: Role
) -> None:
    company = GraphQLClient(http, token(role))
    teams = (await company.execute(QUERY, {"groupBy": ["TEAM"]}))["data"]["loopPerformance"]
    # Pair and solo are fewer than three employees each: suppressed, and together three employees.
    assert {r["team"]: r["alerts"] for r in teams} == {"big": 6, "pair": None, "solo": None}
    (north,) = (await company.execute(QUERY, {"groupBy": ["REGION"]}))["data"]["loopPerformance"]
    assert (north["region"], north["alerts"]) == ("north", 12)
    only_solo = (await company.execute(QUERY, {"teams": ["solo"]}))["data"]["loopPerformance"]
    assert [r["suppressed"] for r in only_solo] == [True]
    assert codes(await company.result(QUERY, {"groupBy": ["EMPLOYEE"]})) == ["FORBIDDEN"]
    # The employee field itself is denied, on every row.
    named = await company.result(BY_EMPLOYEE.replace("[EMPLOYEE]", "[TEAM]"))
    assert set(codes(named)) == {"FORBIDDEN"}
    assert {e["path"][-1] for e in named["errors"]} == {"employee"}


async def test_frontline_sees_its_own_row_only(
    http: httpx.AsyncClient, token: Any, staff: dict[str, Employee]
) -> None:
    fay = GraphQLClient(http, token(Role.FRONTLINE, sub=staff["Fay"].id, regions=["north"]))
    rows = (await fay.execute(BY_EMPLOYEE))["data"]["loopPerformance"]
    assert rows == [{"employee": {"name": "Fay"}, "alerts": 2}]
    (whole,) = (await fay.execute(QUERY))["data"]["loopPerformance"]
    assert whole["alerts"] == 2
    # However grouped, its rows hold its own alerts only.
    (team,) = (await fay.execute(QUERY, {"groupBy": ["TEAM", "REGION"]}))["data"]["loopPerformance"]
    assert (team["team"], team["region"], team["alerts"]) == ("solo", "north", 2)
