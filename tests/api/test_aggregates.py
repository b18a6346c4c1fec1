"""Complaints, compliance, revenue at risk and churn through the endpoint: figures, threshold edge, scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from auth.principal import Role
from domain.alerts.models import AlertReason, Reply
from domain.alerts.rules import acknowledge, raise_alert, resolve
from domain.crm.models import CaseChannel, CaseStatus, StatusChange
from domain.customers.models import Customer, CustomerStatus
from domain.feedback.models import Touchpoint
from domain.money import Money
from domain.repositories import Repositories
from domain.standards.models import default_standard
from domain.store import UnitOfWork
from tests import factories as f
from tests.conftest import GraphQLClient

NOW = f.NOW
# The month the records fall in: company-wide figures come in whole months that have ended.
PERIOD = {"from": "2026-10-01", "to": "2026-10-31"}
MONTH_END = "2026-10-31"

COMPLAINTS = """
query($filter: ComplaintFilter!, $by: [ComplaintDimension!]) {
  complaints(filter: $filter, by: $by) {
    category channel suppressed complaints share cumulativeShare resolved medianHoursToResolve
    p90HoursToResolve reopened reopenRate
  }
}
"""
COMPLIANCE = """
query($filter: ComplianceFilter!) {
  serviceStandardCompliance(filter: $filter) {
    region touchpoint suppressed alerts acknowledgedInTime resolvedInTime acknowledgedInTimeShare
    resolvedInTimeShare breaches escalations medianMinutesToAcknowledge medianMinutesToResolve
  }
}
"""
RISK = """
query($filter: RiskFilter, $groupBy: [CustomerDimension!]) {
  revenueAtRisk(filter: $filter, groupBy: $groupBy) {
    region segment currency suppressed customers lifetimeValue
  }
}
"""
CHURN = """
query($filter: ChurnFilter!, $groupBy: [CustomerDimension!], $interval: Interval) {
  churn(filter: $filter, groupBy: $groupBy, interval: $interval) {
    periodStart periodEnd region segment suppressed activeAtStart joined churned churnRate
  }
}
"""


# What identifies a row; every other field is a figure, null when the row is suppressed.
GROUP_KEYS = {
    *("suppressed", "category", "channel", "region", "touchpoint", "segment", "currency"),
    *("periodStart", "periodEnd"),
}


def people(region: str, n: int, **overrides: Any) -> list[Customer]:
    return [f.customer(region=region, lifetime_value=Money(1000_00, "EUR"), **overrides) for _ in range(n)]


async def complaints_of(repos: Repositories, customers: list[Customer]) -> None:
    """One complaint each, resolved 10 hours after opening; every other one reopened and resolved again."""
    cases = []
    for n, customer in enumerate(customers):
        opened = NOW - timedelta(days=5)
        steps = [(CaseStatus.OPEN, 0), (CaseStatus.RESOLVED, 10)]
        if n % 2:
            steps += [(CaseStatus.OPEN, 12), (CaseStatus.RESOLVED, 20)]
        history = tuple(StatusChange(s, opened + timedelta(hours=h), None, None) for s, h in steps)
        cases.append(
            f.case(
                customer, opened_at=opened, history=history, status=CaseStatus.RESOLVED, category="delivery"
            )
        )
    await repos.cases.insert_many(cases)


async def alerts_of(repos: Repositories, customers: list[Customer]) -> None:
    """One alert each: acknowledged after 1 hour, resolved after 3 (the default standard: 4 h and 2 days)."""
    for customer in customers:
        raised = raise_alert(
            alert_id=f.next_id(),
            customer_id=customer.id,
            region=customer.region,
            standard=default_standard(customer.region, Touchpoint.DELIVERY),
            reasons=(AlertReason.LOW_NPS,),
            assignee_id=None,
            now=NOW - timedelta(days=3),
            by=customer.id,
            feedback_id=None,
        )
        acknowledged = acknowledge(raised, by="agent", now=NOW - timedelta(days=3) + timedelta(hours=1))
        done = resolve(
            acknowledged,
            by="agent",
            now=NOW - timedelta(days=3) + timedelta(hours=3),
            resolution="Refunded",
            reply=Reply("Sorry.", "EMAIL", NOW),
        )
        await repos.alerts.insert(done)


async def detractors_of(repos: Repositories, customers: list[Customer]) -> None:
    await repos.feedback.insert_many(
        [f.feedback(c, nps=2, occurred_at=NOW - timedelta(days=3)) for c in customers]
    )


async def nothing(repos: Repositories, customers: list[Customer]) -> None:
    """Churn needs only the customers themselves."""


@dataclass(frozen=True)
class Aggregate:
    query: str
    field: str
    variables: dict[str, Any]
    records: Callable[[Repositories, list[Customer]], Awaitable[None]]
    derived: bool = False  # read from customers' standings, which the records must be derived into


AGGREGATES = {
    "complaints": Aggregate(COMPLAINTS, "complaints", {"filter": PERIOD}, complaints_of),
    "serviceStandardCompliance": Aggregate(
        COMPLIANCE, "serviceStandardCompliance", {"filter": PERIOD}, alerts_of
    ),
    "revenueAtRisk": Aggregate(
        RISK, "revenueAtRisk", {"filter": {"asOf": MONTH_END}}, detractors_of, derived=True
    ),
    "churn": Aggregate(CHURN, "churn", {"filter": PERIOD}, nothing),
}


async def seed(repos: Repositories, uow: UnitOfWork, aggregate: Aggregate, *, north: int, south: int) -> None:
    customers = people("north", north) + people("south", south)
    await repos.customers.insert_many(customers)
    await aggregate.records(repos, customers)
    if aggregate.derived:
        await f.derive(repos, uow, customers)


def rows(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    result: list[dict[str, Any]] = body["data"][field]
    return result


@pytest.mark.parametrize("name", list(AGGREGATES))
@pytest.mark.parametrize(("customers", "suppressed"), [(4, True), (5, False)])
async def test_a_group_of_fewer_customers_than_the_threshold_is_suppressed(
    http: httpx.AsyncClient,
    repos: Repositories,
    uow: UnitOfWork,
    token: Any,
    name: str,
    customers: int,
    suppressed: bool,
) -> None:
    aggregate = AGGREGATES[name]
    await seed(repos, uow, aggregate, north=customers, south=0)
    body = await GraphQLClient(http, token(Role.BOARD)).execute(aggregate.query, aggregate.variables)
    (row,) = rows(body, aggregate.field)
    assert row["suppressed"] is suppressed
    figures = {k: v for k, v in row.items() if k not in GROUP_KEYS}
    assert figures
    if suppressed:
        assert set(figures.values()) == {None}
    else:
        assert None not in figures.values(), row


@pytest.mark.parametrize("name", list(AGGREGATES))
@pytest.mark.parametrize("role", [Role.BOARD, Role.BI, Role.MANAGER])
async def test_managers_see_their_regions_and_the_board_and_bi_the_company(
    http: httpx.AsyncClient, repos: Repositories, uow: UnitOfWork, token: Any, name: str, role: Role
) -> None:
    aggregate = AGGREGATES[name]
    await seed(repos, uow, aggregate, north=5, south=6)
    client = GraphQLClient(http, token(role, regions=["north"]) if role is Role.MANAGER else token(role))
    found = rows(await client.execute(aggregate.query, aggregate.variables), aggregate.field)
    count = {
        "complaints": "complaints",
        "serviceStandardCompliance": "alerts",
        "revenueAtRisk": "customers",
        "churn": "activeAtStart",
    }[name]
    assert sum(row[count] for row in found) == (5 if role is Role.MANAGER else 11)
    if role is Role.MANAGER:
        assert {row.get("region") or "north" for row in found} == {"north"}


async def test_compliance_has_a_row_per_region_and_touchpoint(
    http: httpx.AsyncClient, repos: Repositories, uow: UnitOfWork, token: Any
) -> None:
    await seed(repos, uow, AGGREGATES["serviceStandardCompliance"], north=5, south=6)
    body = await GraphQLClient(http, token(Role.BOARD)).execute(COMPLIANCE, {"filter": PERIOD})
    assert rows(body, "serviceStandardCompliance") == [
        {
            "region": region,
            "touchpoint": "DELIVERY",
            "suppressed": False,
            "alerts": n,
            "acknowledgedInTime": n,
            "resolvedInTime": n,
            "acknowledgedInTimeShare": 1.0,
            "resolvedInTimeShare": 1.0,
            "breaches": 0,
            "escalations": 0,
            "medianMinutesToAcknowledge": 60.0,
            "medianMinutesToResolve": 180.0,
        }
        for region, n in (("north", 5), ("south", 6))
    ]


async def test_complaints_form_a_pareto_with_resolution_times_and_reopen_rate(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    north, south = people("north", 6), people("south", 5)
    await repos.customers.insert_many(north + south)
    await complaints_of(repos, north)
    await complaints_of(repos, south)
    # Five more complaints by channel PHONE in another category.
    await repos.cases.insert_many(
        [
            f.case(c, category="staff", opened_at=NOW - timedelta(days=2), channel=CaseChannel.PHONE)
            for c in south
        ]
    )
    body = await GraphQLClient(http, token(Role.BOARD)).execute(COMPLAINTS, {"filter": PERIOD})
    late, rude = rows(body, "complaints")
    assert late == {
        "category": "delivery",
        "channel": None,
        "suppressed": False,
        "complaints": 11,
        "share": 0.6875,
        "cumulativeShare": 0.6875,
        "resolved": 11,
        "medianHoursToResolve": 10.0,
        "p90HoursToResolve": 20.0,
        "reopened": 5,
        "reopenRate": 0.4545,
    }
    assert rude["complaints"] == 5
    assert rude["cumulativeShare"] == 1.0
    assert rude["resolved"] == 0
    assert rude["medianHoursToResolve"] is None


async def test_revenue_at_risk_sums_lifetime_value_per_group(
    http: httpx.AsyncClient, repos: Repositories, uow: UnitOfWork, token: Any
) -> None:
    await seed(repos, uow, AGGREGATES["revenueAtRisk"], north=5, south=6)
    body = await GraphQLClient(http, token(Role.BOARD)).execute(
        RISK, {"filter": {"asOf": MONTH_END}, "groupBy": ["REGION"]}
    )
    assert rows(body, "revenueAtRisk") == [
        {"region": "north", "segment": None, "currency": "EUR", "suppressed": False, "customers": 5,
         "lifetimeValue": "5000.00"},
        {"region": "south", "segment": None, "currency": "EUR", "suppressed": False, "customers": 6,
         "lifetimeValue": "6000.00"},
    ]  # fmt: skip
    # A manager may look at any day: four months on, the detractors are out of the window.
    later = await GraphQLClient(http, token(Role.MANAGER, regions=["north", "south"])).execute(
        RISK, {"filter": {"asOf": str(NOW.date() + timedelta(days=120))}}
    )
    assert rows(later, "revenueAtRisk") == []


async def test_churn_counts_customers_who_churned_in_each_bucket(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    stayed = people("north", 8)
    left = [
        f.customer(region="north", status=CustomerStatus.CHURNED, churned_at=NOW - timedelta(days=d))
        for d in (40, 10, 9)
    ]
    await repos.customers.insert_many(stayed + left)
    period = {"from": "2026-09-01", "to": "2026-10-31"}
    body = await GraphQLClient(http, token(Role.BOARD)).execute(
        CHURN, {"filter": period, "interval": "MONTH"}
    )
    assert rows(body, "churn") == [
        {"periodStart": "2026-09-01", "periodEnd": "2026-09-30", "region": None, "segment": None,
         "suppressed": False, "activeAtStart": 11, "joined": 0, "churned": 1, "churnRate": 0.0909},
        {"periodStart": "2026-10-01", "periodEnd": "2026-10-31", "region": None, "segment": None,
         "suppressed": False, "activeAtStart": 10, "joined": 0, "churned": 2, "churnRate": 0.2},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (COMPLAINTS, {"filter": {**PERIOD, "timeZone": "Nowhere/Atlantis"}}, "timeZone"),
        (COMPLIANCE, {"filter": {"from": "2026-10-31", "to": "2026-10-01"}}, "to"),
        (RISK, {"filter": {"windowDays": 0}}, "windowDays"),
        (CHURN, {"filter": {"from": "2024-01-01", "to": "2025-06-30"}, "interval": "DAY"}, "to"),
    ],
)
async def test_a_request_that_cannot_be_answered_gets_a_validation_error(
    http: httpx.AsyncClient,
    repos: Repositories,
    token: Any,
    query: str,
    variables: dict[str, Any],
    field: str,
) -> None:
    body = await GraphQLClient(http, token(Role.MANAGER)).result(query, variables)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["field"] == field
    assert body["data"] is None


async def test_complaints_in_categories_from_before_the_managed_list_form_no_row(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    customers = people("north", 5)
    await repos.customers.insert_many(customers)
    opened = NOW - timedelta(days=5)
    await repos.cases.insert_many(
        [f.case(c, opened_at=opened, category="delivery") for c in customers]
        + [f.case(c, opened_at=opened, category="Rude driver!!") for c in customers]
    )
    body = await GraphQLClient(http, token(Role.MANAGER, regions=["north"])).execute(
        COMPLAINTS, {"filter": PERIOD}
    )
    assert [row["category"] for row in rows(body, "complaints")] == ["delivery"]
