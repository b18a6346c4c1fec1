"""The differencing attacks that recovered suppressed groups exactly, replayed by a board member: each fails.

Each scenario has a small group (fewer customers than the minimum of 5) beside large ones, and the attack
that used to give the small group's figures away by subtracting two answers. Now the answers are sums of the
cells the publication lattice shows, so the difference is either refused, nothing, or a group of at least the
minimum that mixes the small group with others.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from auth.principal import Role
from domain.crm.models import CaseChannel
from domain.customers.models import Customer, Segment
from domain.money import Money
from domain.repositories import Repositories
from domain.store import UnitOfWork
from tests import factories as f
from tests.conftest import GraphQLClient

OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}
EXPERIENCE = """
query($filter: ExperienceFilter!, $groupBy: [AggregateDimension!]) {
  experience(filter: $filter, groupBy: $groupBy) {
    region segment suppressed responses npsDistribution { score count }
  }
}
"""
COMPLAINTS = """
query($filter: ComplaintFilter!, $by: [ComplaintDimension!]) {
  complaints(filter: $filter, by: $by) { category channel suppressed complaints }
}
"""
RISK = """
query($filter: RiskFilter, $groupBy: [CustomerDimension!]) {
  revenueAtRisk(filter: $filter, groupBy: $groupBy) { region segment suppressed customers lifetimeValue }
}
"""


def board(http: httpx.AsyncClient, token: Any) -> GraphQLClient:
    return GraphQLClient(http, token(Role.BOARD))


def people(segment: Segment, n: int, value: int = 1000_00) -> list[Customer]:
    return [f.customer(region="north", segment=segment, lifetime_value=Money(value, "EUR")) for _ in range(n)]


def nps_counts(bucket: dict[str, Any]) -> list[int]:
    return [score["count"] for score in bucket["npsDistribution"]]


def total(buckets: list[dict[str, Any]]) -> tuple[int, list[int]]:
    """Responses and NPS counts of the shown buckets together."""
    responses, counts = 0, [0] * 11
    for bucket in buckets:
        if not bucket["suppressed"]:
            responses += bucket["responses"]
            counts = [a + b for a, b in zip(counts, nps_counts(bucket), strict=True)]
    return responses, counts


@pytest.fixture
async def small_segment(repos: Repositories) -> list[Customer]:
    """Ten MASS customers (NPS 9), six SMALL_BUSINESS (NPS 8), one AFFLUENT customer (NPS 6), in October."""
    mass, business, affluent = (
        people(Segment.MASS, 10),
        people(Segment.SMALL_BUSINESS, 6),
        people(Segment.AFFLUENT, 1),
    )
    await repos.customers.insert_many(mass + business + affluent)
    day = datetime(2026, 10, 14, 12, tzinfo=UTC)
    await f.store_feedback(
        repos,
        [f.feedback(c, occurred_at=day, nps=9) for c in mass]
        + [f.feedback(c, occurred_at=day, nps=8) for c in business]
        + [f.feedback(c, occurred_at=day + timedelta(days=17), nps=6) for c in affluent],
    )
    return affluent


async def test_periods_one_day_shorter_are_refused(
    http: httpx.AsyncClient, token: Any, small_segment: list[Customer]
) -> None:
    # The small group answered on the 31st: N days against N - 1 days used to give its scores away.
    shorter = await board(http, token).result(EXPERIENCE, {"filter": {**OCTOBER, "to": "2026-10-30"}})
    assert shorter["errors"][0]["extensions"] == {**shorter["errors"][0]["extensions"], "code": "VALIDATION"}
    assert shorter["errors"][0]["extensions"]["field"] == "to"
    # Whole months give whole months only: September to October minus September is October, as shown.
    both = await board(http, token).execute(
        EXPERIENCE, {"filter": {"from": "2026-09-01", "to": "2026-10-31"}}
    )
    october = await board(http, token).execute(EXPERIENCE, {"filter": OCTOBER})
    assert total(both["data"]["experience"]) == total(october["data"]["experience"])


async def test_all_segments_minus_all_but_one_does_not_give_the_small_segment(
    http: httpx.AsyncClient, token: Any, small_segment: list[Customer]
) -> None:
    every = await board(http, token).execute(
        EXPERIENCE, {"filter": {**OCTOBER, "segments": ["MASS", "SMALL_BUSINESS", "AFFLUENT"]}}
    )
    but_one = await board(http, token).execute(
        EXPERIENCE, {"filter": {**OCTOBER, "segments": ["MASS", "SMALL_BUSINESS"]}}
    )
    difference = [
        a - b
        for a, b in zip(
            total(every["data"]["experience"])[1], total(but_one["data"]["experience"])[1], strict=True
        )
    ]
    assert difference != [1 if s == 6 else 0 for s in range(11)]
    # Unfiltered, the region's own cell holds the small segment, but only with a complement beside it.
    everything = total(
        (await board(http, token).execute(EXPERIENCE, {"filter": OCTOBER}))["data"]["experience"]
    )
    remainder = [a - b for a, b in zip(everything[1], total(but_one["data"]["experience"])[1], strict=True)]
    assert remainder != [1 if s == 6 else 0 for s in range(11)]
    assert everything[0] - total(but_one["data"]["experience"])[0] >= 5 or remainder == [0] * 11


async def test_a_coarse_bucket_minus_its_shown_sub_buckets_mixes_the_small_one_with_others(
    http: httpx.AsyncClient, token: Any, small_segment: list[Customer]
) -> None:
    region = await board(http, token).execute(EXPERIENCE, {"filter": OCTOBER, "groupBy": ["REGION"]})
    by_segment = await board(http, token).execute(
        EXPERIENCE, {"filter": OCTOBER, "groupBy": ["REGION", "SEGMENT"]}
    )
    (north,) = region["data"]["experience"]
    shown = total(by_segment["data"]["experience"])
    rest = (north["responses"] - shown[0], [a - b for a, b in zip(nps_counts(north), shown[1], strict=True)])
    assert rest != (1, [1 if s == 6 else 0 for s in range(11)])
    # What is left holds the small segment and the smallest shown one: at least the minimum of customers.
    assert rest[0] >= 5
    assert [b["segment"] for b in by_segment["data"]["experience"] if b["suppressed"]] == [
        "AFFLUENT",
        "SMALL_BUSINESS",
    ]


async def test_complaints_by_channel_minus_all_but_one_channel_do_not_give_a_small_channel(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    many, few = people(Segment.MASS, 12), people(Segment.MASS, 2)
    await repos.customers.insert_many(many + few)
    opened = datetime(2026, 10, 10, tzinfo=UTC)
    await repos.cases.insert_many(
        [f.case(c, opened_at=opened, channel=CaseChannel.EMAIL) for c in many[:6]]
        + [f.case(c, opened_at=opened, channel=CaseChannel.PHONE) for c in many[6:]]
        + [f.case(c, opened_at=opened, channel=CaseChannel.SOCIAL) for c in few]
    )
    every = await board(http, token).execute(COMPLAINTS, {"filter": OCTOBER, "by": ["CHANNEL"]})
    but_one = await board(http, token).execute(
        COMPLAINTS, {"filter": {**OCTOBER, "channels": ["EMAIL", "PHONE"]}, "by": ["CHANNEL"]}
    )

    def shown(body: dict[str, Any]) -> int:
        return sum(row["complaints"] or 0 for row in body["data"]["complaints"])

    assert shown(every) - shown(but_one) != 2
    # Counted by category instead, the month's complaints are one shown row; minus the shown channels,
    # what is left holds the small channel and the smallest shown one beside it.
    by_category = await board(http, token).execute(COMPLAINTS, {"filter": OCTOBER})
    assert shown(by_category) == 14
    assert shown(by_category) - shown(every) == 8
    assert {row["channel"]: row["suppressed"] for row in every["data"]["complaints"]} == {
        "EMAIL": True,
        "PHONE": False,
        "SOCIAL": True,
    }


async def test_revenue_at_risk_of_all_segments_minus_the_shown_ones_is_not_the_small_segments_value(
    http: httpx.AsyncClient, repos: Repositories, uow: UnitOfWork, token: Any
) -> None:
    mass = people(Segment.MASS, 10)
    business = people(Segment.SMALL_BUSINESS, 6)
    affluent = people(Segment.AFFLUENT, 2, value=20_139_69)
    await repos.customers.insert_many(mass + business + affluent)
    day = datetime(2026, 10, 20, tzinfo=UTC)
    await repos.feedback.insert_many(
        [f.feedback(c, nps=2, occurred_at=day) for c in mass + business + affluent]
    )
    await f.derive(repos, uow, mass + business + affluent)
    as_of = {"asOf": "2026-10-31"}
    region = await board(http, token).execute(RISK, {"filter": as_of, "groupBy": ["REGION"]})
    by_segment = await board(http, token).execute(RISK, {"filter": as_of, "groupBy": ["REGION", "SEGMENT"]})
    (north,) = region["data"]["revenueAtRisk"]
    shown = sum(float(row["lifetimeValue"] or 0) for row in by_segment["data"]["revenueAtRisk"])
    assert float(north["lifetimeValue"]) - shown != pytest.approx(40_279.38)
    filtered = await board(http, token).execute(
        RISK, {"filter": {**as_of, "segments": ["MASS", "SMALL_BUSINESS"]}}
    )
    assert float(north["lifetimeValue"]) - float(filtered["data"]["revenueAtRisk"][0]["lifetimeValue"]) != (
        pytest.approx(40_279.38)
    )
    # A moving window or day is refused: the snapshot is the month's end over the default window.
    moved = await board(http, token).result(RISK, {"filter": {"asOf": "2026-10-30"}})
    assert moved["errors"][0]["extensions"]["field"] == "asOf"
    narrower = await board(http, token).result(RISK, {"filter": {**as_of, "windowDays": 89}})
    assert narrower["errors"][0]["extensions"]["field"] == "windowDays"


CHURN = """
query($filter: ChurnFilter!, $groupBy: [CustomerDimension!]) {
  churn(filter: $filter, groupBy: $groupBy) { segment suppressed activeAtStart joined churned }
}
"""


async def test_a_filter_selects_whole_shown_cells_whatever_it_leaves_out(
    http: httpx.AsyncClient, repos: Repositories, token: Any, small_segment: list[Customer]
) -> None:
    """The pattern is worked out on whole rows: a filtered answer is the matching shown rows, added up."""
    grouped = await board(http, token).execute(EXPERIENCE, {"filter": OCTOBER, "groupBy": ["SEGMENT"]})
    for kept in (["MASS"], ["MASS", "SMALL_BUSINESS"], ["SMALL_BUSINESS", "AFFLUENT"]):
        filtered = await board(http, token).execute(EXPERIENCE, {"filter": {**OCTOBER, "segments": kept}})
        matching = [b for b in grouped["data"]["experience"] if b["segment"] in kept]
        assert total(filtered["data"]["experience"]) == total(matching), kept

    grouped_churn = await board(http, token).execute(CHURN, {"filter": OCTOBER, "groupBy": ["SEGMENT"]})
    for kept in (["MASS"], ["SMALL_BUSINESS", "AFFLUENT"]):
        filtered_churn = await board(http, token).execute(CHURN, {"filter": {**OCTOBER, "segments": kept}})
        matching = [r for r in grouped_churn["data"]["churn"] if r["segment"] in kept and not r["suppressed"]]
        (row,) = filtered_churn["data"]["churn"]
        assert (row["activeAtStart"] or 0) == sum(r["activeAtStart"] for r in matching), kept


LOOP = """
query($groupBy: [LoopGroup!], $teams: [String!]) {
  loopPerformance(filter: {from: "2026-10-01", to: "2026-10-31", teams: $teams}, groupBy: $groupBy) {
    team region suppressed alerts resolved
  }
}
"""


async def test_loop_performance_of_a_region_minus_its_shown_teams_is_not_one_employee(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    """A one-person team (the solo employee) beside two teams of three: no answer isolates the solo one."""
    from domain.alerts.models import AlertReason
    from domain.alerts.rules import raise_alert
    from domain.feedback.models import Touchpoint
    from domain.standards.models import default_standard

    teams = {"big": (3, 10), "mid": (3, 6), "solo": (1, 2)}
    raised = datetime(2026, 10, 7, 10, tzinfo=UTC)
    for team, (employees, customers) in teams.items():
        staff = [f.employee(team=team) for _ in range(employees)]
        await repos.employees.insert_many(staff)
        for n in range(customers):
            await repos.alerts.insert(
                raise_alert(
                    alert_id=f.next_id(),
                    customer_id=f.next_id(),
                    region="north",
                    standard=default_standard("north", Touchpoint.DELIVERY),
                    reasons=(AlertReason.LOW_NPS,),
                    assignee_id=staff[n % employees].id,
                    now=raised,
                    by="test",
                )
            )
    by_team = await board(http, token).execute(LOOP, {"groupBy": ["TEAM"]})
    shown = {r["team"]: r["alerts"] for r in by_team["data"]["loopPerformance"] if not r["suppressed"]}
    assert shown == {"big": 10}
    (north,) = (await board(http, token).execute(LOOP, {"groupBy": ["REGION"]}))["data"]["loopPerformance"]
    # What the region holds beyond the shown team is the solo employee together with a team of three.
    assert north["alerts"] - sum(shown.values()) == 8
    every = await board(http, token).execute(LOOP, {})
    but_solo = await board(http, token).execute(LOOP, {"teams": ["big", "mid"]})
    with_solo = await board(http, token).execute(LOOP, {"teams": ["big", "mid", "solo"]})
    assert every["data"]["loopPerformance"][0]["alerts"] == 18
    assert but_solo["data"]["loopPerformance"] == with_solo["data"]["loopPerformance"]


ISSUES = """
query($groupBy: [IssueDimension!], $categories: [String!]) {
  recurringIssues(filter: {from: "2026-10-01", to: "2026-10-31", categories: $categories},
                  groupBy: $groupBy) {
    cause category suppressed count
  }
}
"""


async def test_recurring_issues_by_category_minus_shown_causes_do_not_give_a_small_cause(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    """Two small causes (one and two customers) beside larger ones, in two categories."""
    from domain.alerts.models import AlertReason
    from domain.alerts.rules import raise_alert
    from domain.feedback.models import Touchpoint
    from domain.root_cause import RootCause
    from domain.standards.models import default_standard

    causes = {
        ("delivery", "carrier-delay"): 8,
        ("delivery", "damaged-in-transit"): 6,
        ("delivery", "wrong-address"): 1,
        ("billing", "wrong-charge"): 2,
        ("billing", "unclear-invoice"): 7,
    }
    at = datetime(2026, 10, 12, 10, tzinfo=UTC)
    for (category, code), customers in causes.items():
        for _ in range(customers):
            alert = raise_alert(
                alert_id=f.next_id(),
                customer_id=f.next_id(),
                region="north",
                standard=default_standard("north", Touchpoint.DELIVERY),
                reasons=(AlertReason.LOW_NPS,),
                assignee_id=None,
                now=at,
                by="test",
            )
            await repos.alerts.insert(replace(alert, root_cause=RootCause(code, category, "n", at, "agent")))

    def shown(body: dict[str, Any], key: str) -> dict[str, int]:
        return {r[key]: r["count"] for r in body["data"]["recurringIssues"] if not r["suppressed"]}

    by_cause = shown(await board(http, token).execute(ISSUES, {"groupBy": ["CAUSE"]}), "cause")
    by_category = shown(await board(http, token).execute(ISSUES, {"groupBy": ["CATEGORY"]}), "category")
    assert "wrong-address" not in by_cause
    assert "wrong-charge" not in by_cause
    small = {"wrong-address": 1, "wrong-charge": 2}
    for category, total in by_category.items():
        shown_causes = sum(
            n for (c, code), _ in causes.items() if c == category and (n := by_cause.get(code))
        )
        rest = total - shown_causes
        assert rest not in small.values(), (category, by_category, by_cause)
        assert rest == 0 or rest >= 5
    # A filter on categories selects whole shown cells.
    only_billing = await board(http, token).execute(ISSUES, {"groupBy": ["CAUSE"], "categories": ["billing"]})
    assert shown(only_billing, "cause") == {
        k: v for k, v in by_cause.items() if k in {"wrong-charge", "unclear-invoice"}
    }
