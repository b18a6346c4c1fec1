"""The daily digest: worked out for a caller's scope on request, and published once a day per region.

"Share learning from front-line issues every day": each region's digest of the day before is stored by the
first sweep after midnight (reporting time zone) of any server process, which every process's change feed
then pushes to the region's subscribers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from domain.aggregates.disclosure import Disclosure, Guarantee
from domain.aggregates.periods import Period, local_day, time_zone
from domain.aggregates.recurring import IssueAxis, RecurringFilter, recurring_issues
from domain.alerts.models import Alert
from domain.digest.models import Digest, DigestBreach, ResolvedCause, RisingCause
from domain.errors import InvalidInput
from domain.repositories import Repositories
from domain.root_cause import Caused
from domain.store import DuplicateKey, Session, UnitOfWork

# How many free texts a cause of the digest quotes.
NOTES = 3
# Rising causes: the week ending on the digest's day, against the four weeks before.
RISING_DAYS = 7


def yesterday(now: datetime, zone: str) -> date:
    return local_day(now, time_zone(zone)) - timedelta(days=1)


async def digest(repos: Repositories, *, day: date | None, now: datetime) -> Digest:
    """The digest of ``day`` (by default yesterday) over everything ``repos`` may read; days that have not
    ended are refused."""
    zone = repos.rollups.zones[0]
    last = yesterday(now, zone)
    day = day or last
    if day > last:
        raise InvalidInput("a digest is of a day that has ended", field="date")
    return await digest_of(repos, day=day, regions=())


async def digest_of(repos: Repositories, *, day: date, regions: Sequence[str]) -> Digest:
    """The digest of one local day of the reporting time zone, of ``regions`` (all in scope when empty)."""
    zone = repos.rollups.zones[0]
    start, end = Period(day, day).bounds(time_zone(zone))
    raised = await repos.alerts.raised_between(start, end, regions=regions, touchpoints=())
    tactical = await repos.alerts.tactical_during(start, end, regions=regions)
    caused = [
        *await repos.alerts.caused_between(start, end, regions=regions),
        *await repos.cases.caused_between(start, end, regions=regions),
    ]
    return Digest(
        day=day,
        regions=tuple(regions),
        new_alerts=tuple(a.id for a in sorted(raised, key=lambda a: (a.raised_at, a.id))),
        breaches=tuple(_breach(a) for a in sorted(tactical, key=lambda a: (a.raised_at, a.id)) if a.tactical),
        resolved=_causes(caused),
        rising=await _rising(repos, day, regions, zone),
    )


async def _rising(
    repos: Repositories, day: date, regions: Sequence[str], zone: str
) -> tuple[RisingCause, ...]:
    """The causes that rose significantly over the week ending on ``day`` against the four weeks before."""
    week = Period(day - timedelta(days=RISING_DAYS - 1), day)
    rows = await recurring_issues(
        [repos.alerts, repos.cases],
        RecurringFilter(week, zone, tuple(regions)),
        (IssueAxis.CAUSE,),
        None,
        disclosure=Disclosure(Guarantee.EXACT, 1),
        now=datetime.combine(day + timedelta(days=1), time(), UTC),
        reporting_zone=zone,
    )
    return tuple(
        RisingCause(r.cause or "", r.category or "", f.count, f.baseline_count, f.expected, f.p_value)
        for r in rows
        if (f := r.figures) is not None and f.rising
    )


def _breach(alert: Alert) -> DigestBreach:
    assert alert.tactical is not None
    breach = alert.tactical
    return DigestBreach(
        alert_id=alert.id,
        region=alert.region,
        touchpoint=alert.touchpoint,
        metric=breach.metric,
        figure=breach.figure,
        target=breach.target,
        window_days=breach.window_days,
        raised_at=alert.raised_at,
        cleared_at=breach.cleared_at,
    )


def _causes(caused: Sequence[Caused]) -> tuple[ResolvedCause, ...]:
    """What was resolved during the day, by root cause, most first, with the first few notes."""
    by_cause: dict[tuple[str, str], list[Caused]] = {}
    for item in sorted(caused, key=lambda c: (c.cause.at, c.record_id)):
        by_cause.setdefault((item.cause.code, item.cause.category), []).append(item)
    causes = [
        ResolvedCause(code, category, len(items), tuple(c.cause.note for c in items[:NOTES]))
        for (code, category), items in by_cause.items()
    ]
    return tuple(sorted(causes, key=lambda c: (-c.resolved, c.cause)))


async def publish_digests(repos: Repositories, uow: UnitOfWork, *, now: datetime) -> list[Digest]:
    """Store yesterday's digest of every region with staff, unless stored already; the ones this call stored.

    Safe in many processes at once: each region's digest of a day is stored once.
    """
    day = yesterday(now, repos.rollups.zones[0])
    published = []
    for region in await repos.employees.regions():
        if await repos.digests.exists(region, day):
            continue
        made = await digest_of(repos, day=day, regions=(region,))

        async def store(session: Session, made: Digest = made) -> None:
            await repos.digests.insert(made, session=session)

        try:
            await uow.run(store)
        except DuplicateKey:
            continue
        published.append(made)
    return published
