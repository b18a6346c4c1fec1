"""The daily digest: worked out for a caller's scope on request, and published once a day per region.

"Share learning from front-line issues every day": each region's digest of the day before is stored by the
first sweep after midnight (reporting time zone) of any server process, which every process's change feed
then pushes to the region's subscribers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from domain.aggregates.periods import Period, local_day, time_zone
from domain.alerts.models import Alert
from domain.digest.models import Digest, DigestBreach, ResolvedCause
from domain.errors import InvalidInput
from domain.repositories import Repositories
from domain.store import DuplicateKey, Session, UnitOfWork

# How many free texts a cause of the digest quotes.
NOTES = 3


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
    start, end = Period(day, day).bounds(time_zone(repos.rollups.zones[0]))
    raised = await repos.alerts.raised_between(start, end, regions=regions, touchpoints=())
    tactical = await repos.alerts.tactical_during(start, end, regions=regions)
    resolved = await repos.alerts.resolved_between(start, end, regions=regions)
    return Digest(
        day=day,
        regions=tuple(regions),
        new_alerts=tuple(a.id for a in sorted(raised, key=lambda a: (a.raised_at, a.id))),
        breaches=tuple(_breach(a) for a in sorted(tactical, key=lambda a: (a.raised_at, a.id)) if a.tactical),
        resolved=_causes(resolved),
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


def _causes(resolved: Sequence[Alert]) -> tuple[ResolvedCause, ...]:
    """What was resolved, by root cause, most first."""
    by_cause: dict[tuple[str | None, str | None], list[Alert]] = {}
    for alert in resolved:
        by_cause.setdefault((None, None), []).append(alert)
    causes = [
        ResolvedCause(cause, category, len(alerts), ()) for (cause, category), alerts in by_cause.items()
    ]
    return tuple(sorted(causes, key=lambda c: (-c.resolved, c.cause or "")))


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
