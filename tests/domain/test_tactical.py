"""The tactical check: windows of days against their standard's targets, from rollup cells."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from api.settings import Settings
from api.storage.client import MongoDatabase, MongoUnitOfWork, create_client
from bench.tactical_check import RollupDocuments
from domain.aggregates.periods import Period, Slot
from domain.aggregates.repository import RollupRepository
from domain.aggregates.rollups import Axis, CellKey, Cube
from domain.aggregates.service import compact_rollups
from domain.aggregates.tally import Tally
from domain.aggregates.window_counts import NAMES, WindowCounts
from domain.alerts.models import AlertAction, AlertKind, AlertReason, AlertState
from domain.employees.models import EmployeeRole
from domain.feedback.models import Feedback, FeedbackChannel, Touchpoint
from domain.repositories import Repositories
from domain.standards.models import Target, TargetMetric, WindowTargets, default_standard
from domain.standards.service import set_standard
from domain.tactical.models import Verdict
from domain.tactical.rules import contributions
from domain.tactical.service import check_windows, windows_by_day
from tests import factories as f

DAY = timedelta(days=1)
START = datetime(2026, 9, 1, 12, tzinfo=UTC)
WINDOW = WindowTargets(window_days=7, min_responses=5, nps_at_least=0)


def responses(
    day: datetime, nps: int, count: int, channel: FeedbackChannel = FeedbackChannel.APP
) -> list[Feedback]:
    return [
        f.feedback(None, occurred_at=day, received_at=day, nps=nps, channel=channel, region="north", items=())
        for _ in range(count)
    ]


async def standard(repos: Repositories, uow: MongoUnitOfWork, window: WindowTargets, at: datetime) -> None:
    base = default_standard("north", Touchpoint.DELIVERY)
    await set_standard(repos, uow, standard=replace(base, window=window, updated_at=at, updated_by="boss"))


def test_adding_window_counts_adds_every_count() -> None:
    # add() names each field: a count added to the class and not to add() would be dropped from windows.
    ones = WindowCounts(**dict.fromkeys(NAMES, 1))
    total = WindowCounts()
    total.add(ones)
    total.add(ones)
    assert total.as_dict() == dict.fromkeys(NAMES, 2)


async def test_a_window_sliding_below_target_raises_one_alert_with_three_concurrent_sweeps_and_clears(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    manager = f.employee(role=EmployeeRole.MANAGER, regions=("north",))
    await repos.employees.insert_many([manager])
    await standard(repos, uow, WINDOW, START - DAY)
    # A good week, then the app slides: by day 9 the last seven days hold more detractors than promoters.
    for n in range(7):
        await f.store_feedback(repos, responses(START + n * DAY, 10, 2))
    for n in range(7, 10):
        await f.store_feedback(repos, responses(START + n * DAY, 0, 4))
        await f.store_feedback(repos, responses(START + n * DAY, 9, 1, FeedbackChannel.WEB))

    quiet = await check_windows(repos, uow, now=START + 6 * DAY)
    assert quiet.raised == []
    now = START + 9 * DAY
    outcomes = await asyncio.gather(*(check_windows(repos, uow, now=now) for _ in range(3)))
    raised = [alert for outcome in outcomes for alert in outcome.raised]
    assert len(raised) == 1
    assert await db["alerts"].count_documents({}) == 1
    (alert,) = raised
    assert (alert.kind, alert.region, alert.touchpoint) == (AlertKind.TACTICAL, "north", "DELIVERY")
    assert alert.reasons == (AlertReason.NPS_BELOW_TARGET,)
    assert alert.assignee_id == manager.id
    breach = alert.tactical
    assert breach is not None
    # Days 3-9: four promoters on days 3-6 (8), then days 7-9: 12 detractors and 3 promoters: 23 answers.
    assert breach.responses == 23
    assert breach.figure == round(100 * (11 - 12) / 23, 4)
    assert (breach.window_first, breach.window_last) == ((START + 3 * DAY).date(), (START + 9 * DAY).date())
    assert (breach.target, breach.window_days, breach.standard_version) == (0, 7, 1)
    assert breach.worst[0].axis == Axis.CHANNEL.value
    assert breach.worst[0].value == "APP"
    assert (await check_windows(repos, uow, now=now + timedelta(hours=1))).raised == []

    # Back within target from day 11 on, every day: cleared once the window has been fine for a full window.
    for n in range(11, 19):
        await f.store_feedback(repos, responses(START + n * DAY, 10, 5))
    recovered = START + 11 * DAY
    assert (await check_windows(repos, uow, now=recovered)).cleared == []
    assert (await check_windows(repos, uow, now=recovered + 6 * DAY)).cleared == []
    outcomes = await asyncio.gather(*(check_windows(repos, uow, now=recovered + 7 * DAY) for _ in range(3)))
    cleared = [alert for outcome in outcomes for alert in outcome.cleared]
    assert len(cleared) == 1
    stored = (await repos.alerts.get_many([alert.id]))[alert.id]
    assert stored.state is AlertState.RESOLVED
    assert [s.action for s in stored.history] == [AlertAction.RAISED, AlertAction.CLEARED]
    assert stored.tactical is not None
    assert stored.tactical.cleared_at == recovered + 7 * DAY


async def test_a_window_broken_again_while_recovering_starts_its_recovery_over(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    await standard(repos, uow, replace(WINDOW, window_days=2, min_responses=2), START - DAY)
    for n, nps in enumerate((0, 0, 10, 10, 0, 0, 10, 10, 10)):
        await f.store_feedback(repos, responses(START + n * DAY, nps, 2))
    assert len((await check_windows(repos, uow, now=START + DAY)).raised) == 1
    assert (await check_windows(repos, uow, now=START + 3 * DAY)).cleared == []  # within since day 3
    assert (await check_windows(repos, uow, now=START + 5 * DAY)).cleared == []  # broken again on day 5
    assert (await check_windows(repos, uow, now=START + 7 * DAY)).cleared == []  # within again since day 7
    assert len((await check_windows(repos, uow, now=START + 9 * DAY)).cleared) == 1


async def test_a_standard_changed_mid_period_applies_from_its_time_on(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    for n in range(20):
        # Every day a promoter, a passive and two detractors: NPS -25.
        day = START + n * DAY
        await f.store_feedback(repos, responses(day, 10, 1) + responses(day, 7, 1) + responses(day, 2, 2))
    lenient = replace(WINDOW, nps_at_least=-50)
    await standard(repos, uow, lenient, START)
    changed_at = START + 10 * DAY + timedelta(hours=3)
    await standard(repos, uow, WINDOW, changed_at)
    assert (
        await repos.standards.in_force_at("north", Touchpoint.DELIVERY, changed_at - DAY)
    ).window == lenient

    period = Period((START + 7 * DAY).date(), (START + 14 * DAY).date())
    days = await windows_by_day(
        repos, region="north", touchpoint=Touchpoint.DELIVERY, period=period, now=START + 30 * DAY
    )
    # The change at 15:00 on day 10 judges day 10's window (at its end) and every later one.
    assert [(d.standard_version, d.targets[0].verdict) for d in days] == [
        *[(1, Verdict.MET)] * 3,
        *[(2, Verdict.BROKEN)] * 5,
    ]
    assert {d.targets[0].figure for d in days} == {-25.0}
    (alert,) = (await check_windows(repos, uow, now=START + 19 * DAY)).raised
    assert alert.tactical is not None
    assert alert.tactical.standard_version == 2


def test_the_cells_that_moved_the_figure_add_up_to_its_change() -> None:
    def tally(*scores: int) -> WindowCounts:
        total = Tally()
        for score in scores:
            total.add(Tally.of(responses(START, score, 1)[0]))
        return WindowCounts.of(total)

    app, web = (Axis.CHANNEL, "APP"), (Axis.CHANNEL, "WEB")
    before = {app: tally(10, 10), web: tally(10, 0)}
    now = {app: tally(0, 0, 10), web: tally(10)}
    target = Target(TargetMetric.NPS, 0)
    moved = contributions(target, now, before)
    # NPS 50 -> -25; APP's term (share x NPS) 50 -> -25 (-75), WEB's 0 -> 25 (+25): they add up to the
    # change, and only APP moved it the wrong way (its own NPS now: -100 / 3).
    assert [(c.value, c.change, c.figure, c.responses) for c in moved] == [("APP", -75.0, -33.3333, 3)]


class CubesRead(RollupRepository):
    """The rollup repository, noting what each read was of: a cube's cells, or window counts."""

    def __init__(self, db: MongoDatabase) -> None:
        super().__init__(db)
        self.reads: list[str] = []

    async def cells(
        self, zone: str, cube: Cube, slots: Sequence[Slot], where: Mapping[Axis, Sequence[str]]
    ) -> list[tuple[CellKey, Tally]]:
        self.reads.append(cube.name)
        return await super().cells(zone, cube, slots, where)

    async def window_sums(
        self, zone: str, periods: Collection[Period], where: Mapping[Axis, Sequence[str]]
    ) -> dict[tuple[str, str, Period], WindowCounts]:
        self.reads.append("window counts")
        return await super().window_sums(zone, periods, where)


async def test_a_round_raising_several_breaches_reads_their_worst_cells_once_each_on_its_own_window(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    await standard(repos, uow, WINDOW, START - DAY)  # DELIVERY: 7 days
    billing = replace(default_standard("north", Touchpoint.BILLING), window=replace(WINDOW, window_days=3))
    await set_standard(repos, uow, standard=replace(billing, updated_at=START - DAY, updated_by="boss"))
    for n in range(10):  # the app goes bad on day 7 for deliveries, on day 8 for billing
        for touchpoint, bad_from in ((Touchpoint.DELIVERY, 7), (Touchpoint.BILLING, 8)):
            nps, count = (0, 10) if n >= bad_from else (10, 3)
            made = [replace(r, touchpoint=touchpoint) for r in responses(START + n * DAY, nps, count)]
            await f.store_feedback(repos, made)
            web = [
                replace(r, touchpoint=touchpoint)
                for r in responses(START + n * DAY, 10, 1, FeedbackChannel.WEB)
            ]
            await f.store_feedback(repos, web)
    counted = CubesRead(db)

    outcome = await check_windows(replace(repos, rollups=counted), uow, now=START + 9 * DAY)

    by_touchpoint = {a.touchpoint: a.tactical for a in outcome.raised}
    assert sorted(by_touchpoint) == ["BILLING", "DELIVERY"]
    # Each breach's worst cell (here the one segment, every answer) counts its own window: deliveries days
    # 3-9 (4 days of 4 answers, 3 of 11), billing days 7-9 (4 answers, then 2 days of 11).
    for touchpoint, days, answers in (("DELIVERY", 7, 49), ("BILLING", 3, 26)):
        breach = by_touchpoint[touchpoint]
        assert breach is not None
        assert breach.window_days == days
        assert (breach.worst[0].axis, breach.worst[0].value) == (Axis.SEGMENT.value, "")
        assert breach.worst[0].responses == answers
    # The windows' counts, then every breach's finest cells in one read.
    assert counted.reads == ["window counts", "region+channel+touchpoint+segment"]


async def test_a_window_reads_two_days_of_running_totals_per_month_not_a_document_per_day(
    settings: Settings, repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    await standard(repos, uow, replace(WINDOW, window_days=21), START - DAY)
    for n in range(34):  # 1 September to 4 October
        await f.store_feedback(repos, responses(START + n * DAY, 10, 2))
    # As the sweep leaves them: shards and window counts folded.
    while await compact_rollups(repos, uow, now=datetime.now(UTC)):
        pass
    documents = RollupDocuments()
    client = create_client(str(settings.mongodb_uri), event_listeners=[documents])
    try:
        counted = Repositories.on(client[db.name])
        outcome = await check_windows(counted, uow, now=START + 23 * DAY)
        read_in_september, totals_in_september = documents.read, documents.totals
        outcome_across = await check_windows(counted, uow, now=START + 33 * DAY)
    finally:
        await client.close()

    assert outcome.raised == outcome_across.raised == []
    # 4 to 24 September: September's totals through the 24th less those through the 3rd.
    assert (read_in_september, totals_in_september) == (1, 2)
    # 14 September to 4 October: September's through the 30th less through the 13th, and October's through
    # the 4th. One read projects the days either month needs from both (the 4th, 13th and 30th); no month
    # document (nothing pending).
    assert (documents.read - read_in_september, documents.totals - totals_in_september) == (2, 6)
