"""The demo data generator: deterministic, consistent and varied enough to exercise every feature."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import astuple, fields
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from itertools import chain, pairwise
from typing import Protocol

import pytest

from api.demo import Batch, LoadReport, generate, load
from api.demo.generator import BATCH_SIZE
from api.demo.loop import RECENT
from api.storage.client import MongoDatabase, MongoUnitOfWork, ensure_schema
from domain.aggregates.disclosure import Disclosure, Guarantee
from domain.aggregates.experience import ExperienceFilter, ExperienceQuery, Interval, experience
from domain.aggregates.periods import Period
from domain.aggregates.rising import is_rising
from domain.aggregates.rollups import Axis, CellKey
from domain.aggregates.service import verify_rollups
from domain.aggregates.tally import Tally
from domain.alerts.models import AlertKind, AlertState
from domain.alerts.repository import AlertQueue
from domain.alerts.rules import reasons_for
from domain.crm.models import (
    CaseChannel,
    CaseKind,
    CaseStatus,
    Direction,
    InteractionKind,
    OpportunityStage,
    SalesChannel,
    Severity,
)
from domain.customers.models import CustomerStatus, Segment, Tier
from domain.employees.models import EmployeeRole
from domain.feedback.models import FeedbackChannel, Touchpoint
from domain.ids import is_valid_id
from domain.lists.defaults import default_codes
from domain.lists.models import ListKind
from domain.repositories import Repositories
from domain.standards.models import AlertRule
from tests.factories import store_feedback

AS_OF = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
SIZE = 300
EVERY_BUCKET = Disclosure(Guarantee.EXACT, 1)
CASE_ORDER = list(CaseStatus)


class CustomerRecord(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def customer_id(self) -> str: ...

    @property
    def region(self) -> str: ...


def customer_records(data: Batch) -> list[CustomerRecord]:
    return [*data.transactions, *data.interactions, *data.cases, *data.opportunities]


def merged(batches: list[Batch]) -> Batch:
    return Batch(*(tuple(chain.from_iterable(getattr(b, f.name) for b in batches)) for f in fields(Batch)))


@pytest.fixture(scope="module")
def data() -> Batch:
    return merged(list(generate(customers=SIZE, seed=7, as_of=AS_OF)))


def test_same_arguments_give_identical_data_and_another_seed_differs() -> None:
    first = list(generate(customers=40, seed=3, as_of=AS_OF))
    assert repr(first) == repr(list(generate(customers=40, seed=3, as_of=AS_OF)))
    other = merged(list(generate(customers=40, seed=4, as_of=AS_OF)))
    assert {c.id for c in first[0].customers}.isdisjoint(c.id for c in other.customers)


def test_a_customer_is_the_same_whatever_the_total_size(data: Batch) -> None:
    small = merged(list(generate(customers=25, seed=7, as_of=AS_OF)))
    assert small.customers == data.customers[:25]


def test_batches_hold_at_most_a_batch_of_customers_and_employees_come_first() -> None:
    batches = list(generate(customers=2 * 20 + 7, seed=1, as_of=AS_OF, batch_size=20))
    assert [len(b.customers) for b in batches] == [20, 20, 7]
    assert len(next(generate(customers=BATCH_SIZE + 1, seed=1, as_of=AS_OF)).customers) == BATCH_SIZE
    # Batches only group the records.
    assert merged(batches) == merged(list(generate(customers=47, seed=1, as_of=AS_OF)))
    assert batches[0].employees
    assert not batches[1].employees
    assert not batches[2].employees
    ids = {c.id for c in batches[1].customers}
    assert all(f.customer_id in ids for f in batches[1].feedback if f.customer_id)


def test_no_customers_still_gives_the_staff() -> None:
    (batch,) = generate(customers=0, as_of=AS_OF)
    assert batch.employees
    assert not batch.customers


def test_a_naive_as_of_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        next(generate(customers=1, as_of=datetime(2026, 3, 1)))


def test_ids_are_unique_well_formed_and_start_with_the_record_time(data: Batch) -> None:
    ids = [r.id for f in fields(Batch) for r in getattr(data, f.name)]
    assert len(ids) == len(set(ids))
    assert all(is_valid_id(i) for i in ids)
    timed = [
        *((c.id, c.created_at) for c in data.customers),
        *((t.id, t.occurred_at) for t in data.transactions),
        *((c.id, c.opened_at) for c in data.cases),
        *((f.id, f.occurred_at) for f in data.feedback),
    ]
    assert all(int(i[:8], 16) == int(at.timestamp()) for i, at in timed)


def test_every_enum_value_appears(data: Batch) -> None:
    seen: dict[type[StrEnum], set[StrEnum]] = {
        Segment: {c.segment for c in data.customers},
        Tier: {c.tier for c in data.customers},
        CustomerStatus: {c.status for c in data.customers},
        EmployeeRole: {e.role for e in data.employees},
        SalesChannel: {t.channel for t in data.transactions},
        InteractionKind: {i.kind for i in data.interactions},
        Direction: {i.direction for i in data.interactions},
        CaseKind: {c.kind for c in data.cases},
        CaseChannel: {c.channel for c in data.cases},
        Severity: {c.severity for c in data.cases},
        CaseStatus: {c.status for c in data.cases},
        OpportunityStage: {o.stage for o in data.opportunities},
        FeedbackChannel: {f.channel for f in data.feedback},
        Touchpoint: {f.touchpoint for f in data.feedback},
    }
    assert {enum: set(enum) - values for enum, values in seen.items() if set(enum) - values} == {}
    complaint_channels = {c.channel for c in data.cases if c.kind is CaseKind.COMPLAINT}
    assert len(complaint_channels) >= 4


def test_dimensions_and_categories_are_every_code_of_the_default_lists(data: Batch) -> None:
    dimensions = {i.dimension for f in data.feedback for i in f.items}
    assert dimensions == set(default_codes(ListKind.SERVICE_DIMENSION))
    assert {c.category for c in data.cases} == set(default_codes(ListKind.CASE_CATEGORY))


def test_times_are_utc_whole_milliseconds_within_the_window(data: Batch) -> None:
    records = [
        *(t.occurred_at for t in data.transactions),
        *(i.occurred_at for i in data.interactions),
        *(c.opened_at for c in data.cases),
        *(o.opened_at for o in data.opportunities),
        *(f.occurred_at for f in data.feedback),
    ]
    later = [
        *(h.at for c in data.cases for h in c.history),
        *(c.customer_notified.at for c in data.cases if c.customer_notified),
        *(f.received_at for f in data.feedback),
        *(c.updated_at for c in data.customers),
    ]
    times = [*records, *later, *(c.created_at for c in data.customers)]
    assert all(t.utcoffset() == timedelta(0) and t.microsecond % 1000 == 0 for t in times)
    assert max(times) <= AS_OF
    assert min(records) >= AS_OF - timedelta(days=550)
    assert all(f.occurred_at <= f.received_at <= f.occurred_at + timedelta(days=4) for f in data.feedback)


def test_records_point_to_generated_customers_and_regional_staff(data: Batch) -> None:
    customers = {c.id: c for c in data.customers}
    staff = {e.id: e for e in data.employees}
    frontline = {e.id: e.regions for e in data.employees if e.role is EmployeeRole.FRONTLINE}
    assert all(c.owner_id is None or c.region in frontline[c.owner_id] for c in customers.values())
    owned = sum(c.owner_id is not None for c in customers.values()) / SIZE
    assert 0.6 < owned < 0.8
    for record in customer_records(data):
        assert record.region == customers[record.customer_id].region
    assert all(
        customers[i.customer_id].region in staff[i.employee_id or ""].regions for i in data.interactions
    )
    assert all(c.region in frontline[c.assignee_id or ""] for c in data.cases)
    for employee in staff.values():
        if employee.role is EmployeeRole.FRONTLINE:
            manager = staff[employee.manager_id or ""]
            assert manager.role is EmployeeRole.MANAGER
            assert manager.regions == employee.regions
    assert Counter(e.role for e in staff.values())[EmployeeRole.MANAGER] == 5


def test_feedback_is_about_records_of_its_own_customer(data: Batch) -> None:
    customers = {c.id: c for c in data.customers}
    owner_of = {r.id: r.customer_id for r in customer_records(data)}
    linked = 0
    for f in data.feedback:
        links = [x for x in (f.transaction_id, f.case_id, f.interaction_id) if x]
        if f.customer_id is None:
            assert not links
            assert f.segment is None
            continue
        customer = customers[f.customer_id]
        assert (f.region, f.segment) == (customer.region, customer.segment.value)
        assert all(owner_of[x] == f.customer_id for x in links)
        linked += bool(links)
    assert linked > len(data.feedback) / 5


def test_case_histories_follow_the_workflow(data: Batch) -> None:
    for case in data.cases:
        steps = [h.status for h in case.history]
        assert steps == CASE_ORDER[: len(steps)]
        assert steps[-1] is case.status
        assert all(a.at < b.at for a, b in pairwise(case.history))
        assert case.history[0].at == case.opened_at
        assert case.due_at is not None
        assert case.due_at > case.opened_at
        assert (case.resolution is not None) is (not case.status.is_open)
        assert case.customer_notified is None or not case.status.is_open
        assert case.version == len(case.history)


def test_amounts_and_probabilities_are_consistent(data: Batch) -> None:
    assert all(
        t.amount.amount_minor == sum(i.quantity * i.unit_price.amount_minor for i in t.items)
        for t in data.transactions
    )
    assert all(1 <= len(t.items) <= 5 for t in data.transactions)
    certain = {OpportunityStage.WON: {100}, OpportunityStage.LOST: {0}}
    for o in data.opportunities:
        assert o.probability in certain.get(o.stage, range(1, 100))
    spent: dict[str, int] = defaultdict(int)
    for t in data.transactions:
        spent[t.customer_id] += t.amount.amount_minor
    assert all(c.lifetime_value.amount_minor >= spent[c.id] * 0.9 for c in data.customers)


def test_scores_are_in_range_and_include_both_extremes(data: Batch) -> None:
    nps = Counter(f.nps for f in data.feedback if f.nps is not None)
    csat = Counter(f.csat for f in data.feedback if f.csat is not None)
    assert set(nps) <= set(range(11))
    assert set(csat) <= set(range(1, 6))
    assert sum(nps[s] for s in range(4)) > 0.03 * nps.total()
    assert nps[9] + nps[10] > 0.25 * nps.total()
    assert csat[1] > 0
    assert all(f.effort is None or 1 <= f.effort <= 7 for f in data.feedback)
    for f in data.feedback:
        assert 2 <= len(f.items) <= 5
        assert all(1 <= i.expectation <= 7 and 1 <= i.perception <= 7 for i in f.items)
        assert f.nps is not None or f.csat is not None
    comments = sum(f.comment is not None for f in data.feedback) / len(data.feedback)
    assert 0.3 < comments < 0.5


def test_feedback_volume_and_moods_vary_between_customers(data: Batch) -> None:
    per_customer: dict[str, list[int]] = defaultdict(list)
    for f in data.feedback:
        if f.customer_id and f.nps is not None:
            per_customer[f.customer_id].append(f.nps)
    named = sum(f.customer_id is not None for f in data.feedback)
    assert 15 <= named / SIZE <= 25
    assert max(Counter(f.customer_id for f in data.feedback if f.customer_id).values()) <= 60
    assert 0.01 < (len(data.feedback) - named) / named < 0.06
    means = [sum(s) / len(s) for s in per_customer.values() if len(s) >= 5]
    assert sum(m <= 4 for m in means) >= 5
    assert sum(m >= 9 for m in means) >= 5


def test_profiles_look_real(data: Batch) -> None:
    customers = data.customers
    assert any(not c.given_name.isascii() or not c.family_name.isascii() for c in customers)
    assert all(1 <= len(c.emails) <= 2 and len(c.phones) <= 2 for c in customers)
    assert all(
        e.split("@")[1] in {"example.com", "example.org", "example.net"} for c in customers for e in c.emails
    )
    assert all(e.isascii() for c in customers for e in c.emails)
    external = [(e.system, e.id) for c in customers for e in c.external_ids]
    assert len(external) == len(set(external))
    churned = sum(c.status is CustomerStatus.CHURNED for c in customers) / SIZE
    assert 0.02 < churned < 0.14
    ages = [(AS_OF.date() - c.birth_date).days / 365.25 for c in customers if c.birth_date]
    assert min(ages) >= 18
    assert max(ages) <= 86
    assert all(len(c.tags) <= 3 for c in customers)
    assert any(c.tags for c in customers)
    assert Counter(c.segment for c in customers).most_common(1)[0][0] is Segment.MASS


async def test_load_writes_every_record_and_reports_progress_per_batch(
    repos: Repositories, db: MongoDatabase, uow: MongoUnitOfWork
) -> None:
    progress: list[int] = []
    cell_progress: list[tuple[int, int]] = []
    batch, size = 12, 30
    report = await load(
        repos,
        customers=size,
        seed=2,
        as_of=AS_OF,
        progress=progress.append,
        cell_progress=lambda done, total: cell_progress.append((done, total)),
        batch_size=batch,
        uow=uow,
    )
    expected = merged(list(generate(customers=size, seed=2, as_of=AS_OF)))
    counts = {f.name: len(getattr(expected, f.name)) for f in fields(Batch)}
    cells = len(await whole_cells(repos))
    assert report == LoadReport(**counts, rollup_cells=cells)
    # Besides the generated records, the first tactical check raised one alert (north's deliveries, below).
    generated = {"kind": {"$ne": AlertKind.TACTICAL.value}}
    assert {name: await db[name].count_documents(generated) for name in counts} == counts
    assert progress == [batch, 2 * batch, size]
    assert cell_progress[0] == (0, cells)
    assert cell_progress[-1] == (cells, cells)
    first = expected.feedback[0]
    assert (await repos.feedback.get_many([first.id]))[first.id] == first
    # The load counts every response into the rollups as it goes, as intake would.
    assert await verify_rollups(repos) == []
    # North's delivery standard was set twice. Its window holds too few responses of 30 customers to be
    # judged, so the first check raised nothing; on serve's 400 customers it raises the breach (test_serve).
    standard = await repos.standards.for_touchpoint("north", Touchpoint.DELIVERY)
    assert standard.version == 2
    assert standard.window is not None
    assert standard.window.nps_at_least == 10
    tactical = await repos.alerts.queue(AlertQueue(kinds=(AlertKind.TACTICAL,)), first=10, after=None)
    assert tactical.items == []


def test_employees_handle_alerts_at_their_own_pace_and_customers_answer_again(data: Batch) -> None:
    resolved: dict[str, list[bool]] = defaultdict(list)
    for alert in data.alerts:
        if AS_OF - alert.raised_at <= RECENT:  # older ones were all handled
            resolved[alert.assignee_id or ""].append(alert.state is AlertState.RESOLVED)
    shares = [sum(done) / len(done) for done in resolved.values() if len(done) >= 5]
    assert max(shares) - min(shares) > 0.3
    recovered = [a.recovery for a in data.alerts if a.recovery is not None]
    assert recovered
    assert all(a.state is AlertState.RESOLVED for a in data.alerts if a.recovery is not None)


async def test_the_bulk_load_gives_the_figures_of_taking_each_response_in(
    repos: Repositories, db: MongoDatabase
) -> None:
    await load(repos, customers=12, seed=4, as_of=AS_OF)
    responses = [f async for f in repos.feedback.every()]
    one_by_one = db.client[f"{db.name}_one_by_one"]
    try:
        slow = Repositories.on(one_by_one)
        await ensure_schema(one_by_one)
        await store_feedback(slow, responses)  # the intake's write path, one response at a time

        assert await verify_rollups(repos) == []
        assert await verify_rollups(slow) == []
        assert await whole_cells(repos) == await whole_cells(slow)
        period = ExperienceFilter(Period(date(2024, 9, 1), AS_OF.date()))
        for query in (
            ExperienceQuery(period, group_by=(Axis.REGION,), interval=Interval.MONTH),
            ExperienceQuery(period, group_by=(Axis.CHANNEL, Axis.TOUCHPOINT), interval=Interval.WEEK),
        ):
            bulk = await experience(repos.rollups, query, disclosure=EVERY_BUCKET, now=AS_OF)
            assert bulk == await experience(slow.rollups, query, disclosure=EVERY_BUCKET, now=AS_OF)
            assert sum(bucket.figures.responses for bucket in bulk if bucket.figures) > 0
    finally:
        await db.client.drop_database(one_by_one.name)


async def whole_cells(repos: Repositories) -> dict[CellKey, tuple[object, ...]]:
    """Every cell's counts with its shards added up, as reads see them."""
    cells: dict[CellKey, Tally] = {}
    async for key, tally in repos.rollups.everything():
        cells.setdefault(key.whole, Tally()).add(tally)
    return {key: (*astuple(tally)[:-1], tally.kept_customers()) for key, tally in cells.items()}


def test_recent_bad_responses_raised_alerts_at_every_stage_of_handling(data: Batch) -> None:
    feedback = {f.id: f for f in data.feedback}
    states = Counter(a.state for a in data.alerts)
    assert set(states) == set(AlertState)
    for alert in data.alerts:
        response = feedback[alert.feedback_id or ""]
        assert alert.customer_id == response.customer_id
        assert alert.reasons == reasons_for(response, AlertRule())
        assert alert.raised_at == response.received_at
        assert (alert.reply is not None) == (alert.state is AlertState.RESOLVED)


def test_handled_bad_experiences_carry_root_causes_and_the_carrier_delay_rises(data: Batch) -> None:
    causes = default_codes(ListKind.ROOT_CAUSE)
    resolved = [a for a in data.alerts if a.state is AlertState.RESOLVED]
    assert resolved
    assert all(a.root_cause is not None and a.root_cause.code in causes for a in resolved)
    assert all(a.root_cause is None for a in data.alerts if a.state is not AlertState.RESOLVED)
    complaints = [c for c in data.cases if c.kind is CaseKind.COMPLAINT and not c.status.is_open]
    assert complaints
    assert all(c.root_cause is not None and c.root_cause.code in causes for c in complaints)
    # North's carrier delays of the last three weeks rise against the twelve weeks before.
    recent, before = AS_OF - timedelta(days=21), AS_OF - timedelta(days=21 + 84)
    delays = [
        a.root_cause.at
        for a in resolved
        if a.root_cause and a.root_cause.code == "carrier-delay" and a.region == "north"
    ]
    current = sum(1 for at in delays if at > recent)
    baseline = sum(1 for at in delays if before < at <= recent)
    assert is_rising(current, baseline, 21, 84), (current, baseline)
