"""Loop performance: handling and recovery per employee, team and region; company-wide never an employee."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from api.storage.client import MongoUnitOfWork
from domain.aggregates.disclosure import Disclosure, Guarantee
from domain.aggregates.loop_performance import LoopFilter, LoopGroup, LoopRow, loop_performance
from domain.aggregates.periods import Interval, Period
from domain.alerts import service
from domain.alerts.models import Handling
from domain.employees.models import Employee
from domain.errors import InvalidInput
from domain.feedback.models import FeedbackChannel, Touchpoint
from domain.feedback.service import Submitter, submit_feedback
from domain.feedback.submission import FeedbackSubmission
from domain.repositories import Repositories
from tests import factories as f

# Managers see every row: four customers, fewer than the minimum of five, are shown.
EXACT = Disclosure(Guarantee.EXACT, 5)
PROTECTED = Disclosure(Guarantee.PROTECTED, 3)
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))
START = datetime(2026, 10, 5, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def respond(repos: Repositories, uow: MongoUnitOfWork, customer_id: str, nps: int, at: datetime) -> Any:
    submission = FeedbackSubmission(
        idempotency_key=f.next_id(),
        customer_id=customer_id,
        channel=FeedbackChannel.APP,
        touchpoint=Touchpoint.DELIVERY,
        occurred_at=at,
        nps=nps,
    )
    intake = await submit_feedback(
        repos, uow, submitter=Submitter(customer_id, False), submission=submission, now=at
    )
    return intake.alert


async def resolve(repos: Repositories, uow: MongoUnitOfWork, alert: Any, at: datetime) -> None:
    await service.resolve(
        repos,
        uow,
        alert_id=alert.id,
        version=alert.version,
        by=alert.assignee_id,
        now=at,
        resolution=service.Resolution("Called back", "Sorry", "PHONE", "carrier-delay", "Late again"),
    )


async def test_a_recovery_is_the_earliest_response_after_the_resolution_whatever_order_they_come_in(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    alert = await respond(repos, uow, customer.id, 1, START)
    await resolve(repos, uow, alert, START + HOUR)
    await respond(repos, uow, customer.id, 6, START + 5 * timedelta(days=1))
    # Taken on day 3, submitted after the one of day 5: it is the next response after the resolution.
    earlier = FeedbackSubmission(
        idempotency_key=f.next_id(),
        customer_id=customer.id,
        channel=FeedbackChannel.APP,
        touchpoint=Touchpoint.DELIVERY,
        occurred_at=START + 3 * timedelta(days=1),
        nps=8,
    )
    await submit_feedback(
        repos,
        uow,
        submitter=Submitter(customer.id, False),
        submission=earlier,
        now=START + 6 * timedelta(days=1),
    )
    # Taken on day 4: later than the recovery kept, so not the next response.
    await respond(repos, uow, customer.id, 2, START + 4 * timedelta(days=1))

    recovery = (await repos.alerts.by_feedback([alert.feedback_id]))[alert.feedback_id].recovery
    assert recovery is not None
    assert (recovery.nps, recovery.at) == (8, START + 3 * timedelta(days=1))


async def test_recovery_and_handling_on_a_hand_built_scenario(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    agent = f.employee(team="north-1")
    customers = [f.customer(owner_id=agent.id) for _ in range(4)]
    await repos.employees.insert_many([agent])
    await repos.customers.insert_many(customers)
    a, b, c, d = (c.id for c in customers)
    alerts = [await respond(repos, uow, who, nps, START) for who, nps in ((a, 2), (b, 0), (c, 3), (d, 1))]
    # A answers again before its alert is resolved: that is no "next response after the resolution".
    await respond(repos, uow, a, 10, START + HOUR)
    for alert, hours in zip(alerts[:3], (2, 30, 5), strict=True):
        await resolve(repos, uow, alert, START + hours * HOUR)
    await respond(repos, uow, a, 9, START + 2 * timedelta(days=1))  # recovered: 2 -> 9
    await respond(repos, uow, b, 5, START + 5 * timedelta(days=1))  # still a detractor: 0 -> 5
    await respond(repos, uow, b, 10, START + 6 * timedelta(days=1))  # not the next one
    await respond(repos, uow, c, 10, START + 40 * timedelta(days=1))  # too late to count
    now = START + 3 * timedelta(days=1)

    (row,) = await loop_performance(
        repos.alert_handling,
        repos.employees,
        LoopFilter(OCTOBER),
        [LoopGroup.EMPLOYEE],
        None,
        disclosure=EXACT,
        now=now,
        reporting_zone="UTC",
    )
    figures = row.figures
    assert row.employee_id == agent.id
    assert figures is not None
    # Alerts raised by the later good answers are none: only the four detractors raised one.
    assert (figures.alerts, figures.resolved, figures.open) == (4, 3, 1)
    assert (figures.recovery_responses, figures.recovered, figures.recovery_share) == (2, 1, 0.5)
    assert figures.mean_nps_change == 6.0  # (9 - 2 + 5 - 0) / 2
    # Resolved in 2, 30 and 5 hours (resolving acknowledges); due in 4 hours and 2 days.
    assert (figures.acknowledged_in_time, figures.resolved_in_time) == (1, 3)
    assert figures.median_minutes_to_resolve == 300.0
    assert figures.p90_minutes_to_resolve == 1800.0
    assert figures.open_oldest_age_hours == 72.0


def handled(n: int, assignee: str, customer: str, region: str = "north", day: int = 5) -> Handling:
    raised = datetime(2026, 10, day, 9, tzinfo=UTC) + n * timedelta(minutes=1)
    return Handling(
        alert_id=f"{assignee}-{n}",
        customer_id=customer,
        region=region,
        assignee_id=assignee,
        raised_at=raised,
        acknowledge_due_at=raised + 4 * HOUR,
        resolve_due_at=raised + 48 * HOUR,
        acknowledged_at=raised + HOUR,
        resolved_at=raised + 10 * HOUR,
        reopened=False,
        escalated=False,
        nps=2,
        recovery_nps=None,
    )


class Memory:
    """Handled alerts and employees in memory, read as the repositories read them."""

    def __init__(self, handlings: list[Handling], teams: dict[str, str]) -> None:
        self.handlings = handlings
        self.employees = {e: f.employee(id=e, team=t) for e, t in teams.items()}

    async def handled_between(
        self, start: datetime, end: datetime, *, regions: Any, assignee_id: str | None = None
    ) -> list[Handling]:
        return [
            h
            for h in self.handlings
            if start <= h.raised_at < end
            and (not regions or h.region in regions)
            and assignee_id in (None, h.assignee_id)
        ]

    async def get_many(self, ids: Any) -> dict[str, Employee]:
        return {i: self.employees[i] for i in ids if i in self.employees}


def company() -> Memory:
    """North in October: team big (three employees, six customers), team pair (two employees, three
    customers) and team solo (one employee, four customers)."""
    teams = {"b1": "big", "b2": "big", "b3": "big", "p1": "pair", "p2": "pair", "s1": "solo"}
    work = [handled(n, f"b{n % 3 + 1}", f"c{n}") for n in range(6)]
    work += [handled(n, f"p{n % 2 + 1}", f"d{n}") for n in range(3)]
    work += [handled(n, "s1", f"e{n}") for n in range(4)]
    return Memory(work, teams)


async def board_view(memory: Memory, group_by: list[LoopGroup], **where: Any) -> list[LoopRow]:
    return await loop_performance(
        memory,
        memory,
        LoopFilter(OCTOBER, **where),
        group_by,
        Interval.MONTH,
        disclosure=PROTECTED,
        now=datetime(2026, 11, 15, tzinfo=UTC),
        reporting_zone="UTC",
    )


async def test_company_wide_rows_never_single_out_an_employee() -> None:
    memory = company()
    by_team = {r.team: r.figures for r in await board_view(memory, [LoopGroup.TEAM])}
    # Pair and solo are handled by fewer than three employees each, and together by three: both hidden.
    assert by_team["big"] is not None
    assert by_team["big"].alerts == 6
    assert by_team["pair"] is None
    assert by_team["solo"] is None
    (north,) = await board_view(memory, [LoopGroup.REGION])
    assert north.figures is not None
    assert north.figures.alerts == 13
    # The region minus the shown team is the two hidden teams together: three employees, seven customers.
    with pytest.raises(InvalidInput) as refused:
        await board_view(memory, [LoopGroup.EMPLOYEE])
    assert refused.value.field == "groupBy"
    # A filter on teams selects whole shown cells: it never isolates a hidden team.
    (filtered,) = await board_view(memory, [], teams=("big", "solo"))
    assert filtered.figures is not None
    assert filtered.figures.alerts == 6


async def test_a_region_handled_by_fewer_than_three_employees_is_suppressed_whole() -> None:
    memory = Memory(
        [handled(n, f"p{n % 2 + 1}", f"d{n}", region="east") for n in range(8)], {"p1": "x", "p2": "x"}
    )
    assert [r.figures for r in await board_view(memory, [LoopGroup.REGION])] == [None]


async def test_each_quarter_adds_up_shown_month_cells() -> None:
    memory = company()
    memory.handlings += [
        replace(h, alert_id=h.alert_id + "-nov", raised_at=h.raised_at + timedelta(days=31))
        for h in memory.handlings[:6]
    ]
    quarter = Period(date(2026, 10, 1), date(2026, 12, 31))
    rows = await loop_performance(
        memory,
        memory,
        LoopFilter(quarter),
        [LoopGroup.TEAM],
        Interval.QUARTER,
        disclosure=PROTECTED,
        now=datetime(2027, 1, 15, tzinfo=UTC),
        reporting_zone="UTC",
    )
    assert {r.team: r.figures.alerts if r.figures else None for r in rows} == {
        "big": 12,
        "pair": None,
        "solo": None,
    }
