"""Cursors, periods and zones at the calendar's edges are the caller's fault: VALIDATION with the field.

Generated cursors, dates and zones, fed to every list and aggregate, never get an INTERNAL error.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.principal import Role
from domain.repositories import Repositories
from domain.store import UnitOfWork
from tests.api.world import World, build_world
from tests.conftest import GraphQLClient

# Local times whose UTC time lies outside the calendar (before year 1 or after year 9999).
OUT_OF_RANGE = ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59")
# Zones at the ends of the offsets: UTC+14 and UTC-12.
EAST, WEST = "Etc/GMT-14", "Etc/GMT+12"


def cursor(*parts: str) -> str:
    """A cursor shaped like the server's own (kind and parts, base64)."""
    return base64.urlsafe_b64encode("\x1f".join(parts).encode()).decode().rstrip("=")


def nested(field: str) -> str:
    """A page of one of a customer's lists."""
    page = f"{field}(first: 2, after: $after) {{ edges {{ cursor }} }}"
    return f"query($id: ID!, $after: String) {{ customer(id: $id) {{ {page} }} }}"


# Every list that pages by a record's time: (role that may read it, document, cursor kind).
TIMED_LISTS: dict[str, tuple[Role, str, str]] = {
    "transactions": (Role.FRONTLINE, nested("transactions"), "Transaction"),
    "interactions": (Role.FRONTLINE, nested("interactions"), "Interaction"),
    "cases": (Role.FRONTLINE, nested("cases"), "Case"),
    "feedback": (Role.FRONTLINE, nested("feedback"), "Feedback"),
    "opportunities": (Role.FRONTLINE, nested("opportunities"), "Opportunity"),
    "customer.alerts": (Role.FRONTLINE, nested("alerts"), "Alert"),
    "alerts": (
        Role.FRONTLINE,
        "query($after: String) { alerts(first: 2, after: $after) { edges { cursor } } }",
        "AlertQueue",
    ),
    "auditTrail": (
        Role.MANAGER,
        "query($id: ID!, $after: String) { auditTrail(customerId: $id, first: 2, after: $after) "
        "{ edges { cursor } } }",
        "AuditEntry",
    ),
    "me.feedback": (
        Role.CUSTOMER,
        "query($after: String) { me { feedback(first: 2, after: $after) { edges { cursor } } } }",
        "Feedback",
    ),
}
TIMELINE = nested("timeline")
CUSTOMERS = "query($after: String) { customers(first: 2, after: $after) { edges { cursor } } }"

PERIOD_AGGREGATES = {
    "experience": (
        "query($f: ExperienceFilter!, $i: Interval) { experience(filter: $f, interval: $i) { nps } }"
    ),
    "complaints": "query($f: ComplaintFilter!) { complaints(filter: $f) { complaints } }",
    "serviceStandardCompliance": (
        "query($f: ComplianceFilter!) { serviceStandardCompliance(filter: $f) { alerts } }"
    ),
    "churn": "query($f: ChurnFilter!, $i: Interval) { churn(filter: $f, interval: $i) { churned } }",
}
RISK = "query($f: RiskFilter) { revenueAtRisk(filter: $f) { customers } }"


def period_variables(name: str, period: dict[str, str], interval: str | None) -> dict[str, Any]:
    """The variables of an aggregate's document: the filter, and the interval where it takes one."""
    return {"f": period, "i": interval} if "$i" in PERIOD_AGGREGATES[name] else {"f": period}


@pytest.fixture
async def world(repos: Repositories, token: Any, uow: UnitOfWork) -> World:
    return await build_world(repos, token, uow)


async def ask(
    http: httpx.AsyncClient, world: World, role: Role, query: str, **variables: Any
) -> dict[str, Any]:
    return await GraphQLClient(http, world.tokens[role]).result(query, variables)


def refused(body: dict[str, Any], field: str) -> bool:
    """The body holds exactly one error: VALIDATION on ``field``."""
    return [e["extensions"] for e in body.get("errors", [])] == [{"code": "VALIDATION", "field": field}]


@pytest.mark.parametrize("at", OUT_OF_RANGE)
async def test_a_cursor_time_outside_the_calendar_is_invalid_on_every_list(
    http: httpx.AsyncClient, world: World, at: str
) -> None:
    for name, (role, query, kind) in TIMED_LISTS.items():
        body = await ask(http, world, role, query, id=world.north.customer_id, after=cursor(kind, at, "x"))
        assert refused(body, "after"), (name, body)


@pytest.mark.parametrize("at", [*OUT_OF_RANGE, "2026-11-01T12:00:00"])
async def test_a_timeline_cursor_time_outside_the_calendar_or_without_zone_is_invalid(
    http: httpx.AsyncClient, world: World, at: str
) -> None:
    after = cursor("timeline", at, "FEEDBACK", "x")
    body = await ask(http, world, Role.FRONTLINE, TIMELINE, id=world.north.customer_id, after=after)
    assert refused(body, "after"), body


EDGE_PERIODS = [
    pytest.param({"from": "0001-01-01", "to": "0001-01-31", "timeZone": "UTC"}, "from", id="year-1"),
    pytest.param({"from": "0001-01-01", "to": "0001-01-31", "timeZone": EAST}, "from", id="year-1-east"),
    pytest.param({"from": "9999-12-01", "to": "9999-12-31", "timeZone": WEST}, "from", id="year-9999-west"),
    pytest.param({"from": "9999-12-01", "to": "9999-12-31", "timeZone": "UTC"}, "from", id="year-9999"),
    pytest.param({"from": "9998-12-01", "to": "9999-12-31", "timeZone": "UTC"}, "to", id="into-year-9999"),
]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.BOARD])
@pytest.mark.parametrize(("period", "field"), EDGE_PERIODS)
async def test_a_period_at_the_calendar_edge_is_invalid_in_every_aggregate(
    http: httpx.AsyncClient, world: World, period: dict[str, str], field: str, role: Role
) -> None:
    for name, query in PERIOD_AGGREGATES.items():
        for interval in (None, "QUARTER"):
            body = await ask(http, world, role, query, **period_variables(name, period, interval))
            # Rollups are kept in UTC here, and company-wide figures only in UTC: another zone may be what
            # is refused first.
            also = "timeZone" if period["timeZone"] != "UTC" else field
            assert refused(body, field) or refused(body, also), (name, interval, body)


@pytest.mark.parametrize("zone", ["America", "Etc", "zone.tab", "Europe/" + "x" * 300])
async def test_a_zone_that_names_no_zone_is_invalid(http: httpx.AsyncClient, world: World, zone: str) -> None:
    period = {"from": "2026-01-01", "to": "2026-01-31", "timeZone": zone}
    for name in ("complaints", "serviceStandardCompliance", "churn"):
        body = await ask(
            http, world, Role.BOARD, PERIOD_AGGREGATES[name], **period_variables(name, period, None)
        )
        assert refused(body, "timeZone"), (name, body)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.BOARD])
@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
async def test_revenue_at_risk_as_of_the_calendar_edge_is_invalid(
    http: httpx.AsyncClient, world: World, as_of: str, role: Role
) -> None:
    body = await ask(http, world, role, RISK, f={"asOf": as_of})
    assert refused(body, "asOf"), body


async def test_periods_well_inside_the_calendar_still_answer(http: httpx.AsyncClient, world: World) -> None:
    for name, query in PERIOD_AGGREGATES.items():
        period = {"from": "1990-01-01", "to": "1990-03-31", "timeZone": "UTC"}
        body = await ask(http, world, Role.BOARD, query, **period_variables(name, period, "QUARTER"))
        assert "errors" not in body, (name, body)
    # Company-wide revenue at risk is as of the last day of a month.
    assert "errors" not in await ask(http, world, Role.BOARD, RISK, f={"asOf": "1990-01-31"})


# Property tests: whatever a caller makes up, the answer is data or a coded error, never INTERNAL.

EXPECTED_CODES = {"VALIDATION", "FORBIDDEN", "NOT_FOUND"}
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

zones = st.sampled_from(
    ["UTC", EAST, WEST, "Pacific/Kiritimati", "Asia/Kolkata", "America/St_Johns"]
) | st.text(max_size=12)
offsets = st.sampled_from(["+23:59", "-23:59", "+14:00", "-12:00", "Z", "+05:30", ""])
# Times near the calendar's ends are where a zone's offset pushes UTC out of it.
moments = st.datetimes() | st.sampled_from(
    [datetime.min, datetime.max, datetime(1, 1, 1, 9), datetime(9999, 12, 31, 15)]
)
times = st.builds(lambda moment, offset: moment.isoformat() + offset, moments, offsets) | st.text(max_size=30)
record_ids = st.sampled_from(["x", "6a0000000000000000000001", ""]) | st.text(max_size=8)


def no_internal(body: dict[str, Any]) -> None:
    for error in body.get("errors", []):
        extensions = error["extensions"]
        assert extensions["code"] in EXPECTED_CODES, body
        if extensions["code"] == "VALIDATION":
            assert extensions.get("field"), body


@st.composite
def list_requests(draw: st.DrawFn) -> tuple[Role, str, str]:
    """A list with a cursor: of its own kind with a made-up time, or anything at all."""
    name = draw(st.sampled_from([*TIMED_LISTS, "timeline", "customers"]))
    at = draw(times)
    record_id = draw(record_ids)
    if name == "timeline":
        kind = draw(st.sampled_from(["FEEDBACK", "CASE", "ALERT"]) | st.text(max_size=8))
        return Role.FRONTLINE, TIMELINE, cursor("timeline", at, kind, record_id)
    if name == "customers":
        return Role.FRONTLINE, CUSTOMERS, cursor("customer", draw(st.text(max_size=20)), record_id)
    role, query, kind = TIMED_LISTS[name]
    after = draw(st.just(cursor(kind, at, record_id)) | st.text(max_size=40))
    return role, query, after


@PROPERTY
@given(request=list_requests())
async def test_generated_cursors_never_get_an_internal_error(
    http: httpx.AsyncClient, world: World, request: tuple[Role, str, str]
) -> None:
    role, query, after = request
    no_internal(await ask(http, world, role, query, id=world.north.customer_id, after=after))


days = st.dates() | st.sampled_from([date.min, date.max, date(1, 12, 31), date(9999, 1, 1)])


@PROPERTY
@given(
    name=st.sampled_from(list(PERIOD_AGGREGATES)),
    first=days,
    last=days,
    zone=zones,
    interval=st.none() | st.sampled_from(["DAY", "WEEK", "MONTH", "QUARTER"]),
    role=st.sampled_from([Role.MANAGER, Role.BOARD]),
)
async def test_generated_periods_and_zones_never_get_an_internal_error(
    http: httpx.AsyncClient,
    world: World,
    name: str,
    first: date,
    last: date,
    zone: str,
    interval: str | None,
    role: Role,
) -> None:
    period = {"from": first.isoformat(), "to": last.isoformat(), "timeZone": zone}
    variables = period_variables(name, period, interval)
    no_internal(await ask(http, world, role, PERIOD_AGGREGATES[name], **variables))


@PROPERTY
@given(
    as_of=st.none() | days,
    window=st.integers(-5, 400) | st.sampled_from([1, 366, 2**31 - 1]),
    role=st.sampled_from([Role.MANAGER, Role.BOARD]),
)
async def test_generated_risk_windows_never_get_an_internal_error(
    http: httpx.AsyncClient, world: World, as_of: date | None, window: int, role: Role
) -> None:
    where = {"asOf": as_of.isoformat() if as_of else None, "windowDays": window}
    no_internal(await ask(http, world, role, RISK, f=where))
