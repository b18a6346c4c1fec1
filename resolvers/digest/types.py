"""The digest type and its parts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from domain.digest import models
from resolvers.alerts.types import Alert
from resolvers.context import Info
from resolvers.enums import TargetMetric

MAX_ALERTS = 100


@strawberry.type(description="A tactical breach open during the day.")
class DigestBreach:
    region: str = strawberry.field(description="The region.")
    touchpoint: str = strawberry.field(description="The touchpoint.")
    metric: TargetMetric = strawberry.field(description="The figure that broke its target.")
    figure: float = strawberry.field(description="The window's figure when the breach was raised.")
    target: float = strawberry.field(description="The target.")
    window_days: int = strawberry.field(description="The window's length in days.")
    raised_at: datetime = strawberry.field(description="When the breach was raised.")
    cleared_at: datetime | None = strawberry.field(description="When it cleared, if it has.")

    @classmethod
    def of(cls, breach: models.DigestBreach) -> DigestBreach:
        return cls(
            region=breach.region,
            touchpoint=breach.touchpoint,
            metric=breach.metric,
            figure=breach.figure,
            target=breach.target,
            window_days=breach.window_days,
            raised_at=breach.raised_at,
            cleared_at=breach.cleared_at,
        )


@strawberry.type(description="What was resolved during the day with one root cause.")
class DigestResolution:
    cause: str = strawberry.field(description="The ROOT_CAUSE code.")
    category: str = strawberry.field(description="Its CASE_CATEGORY code when it was recorded.")
    resolved: int = strawberry.field(description="Alerts and complaint cases resolved with it.")
    notes: list[str] = strawberry.field(description="The first few free texts given with the cause.")

    @classmethod
    def of(cls, resolved: models.ResolvedCause) -> DigestResolution:
        return cls(
            cause=resolved.cause,
            category=resolved.category,
            resolved=resolved.resolved,
            notes=list(resolved.notes),
        )


@strawberry.type(description="A root cause that rose significantly over the week ending on the digest's day.")
class DigestRisingCause:
    cause: str = strawberry.field(description="The ROOT_CAUSE code.")
    category: str = strawberry.field(description="Its CASE_CATEGORY code.")
    count: int = strawberry.field(description="Times recorded in the week ending on the day.")
    baseline_count: int = strawberry.field(description="Times recorded in the four weeks before.")
    expected: float = strawberry.field(description="What the four weeks' rate predicts for one week.")
    p_value: float = strawberry.field(description="Chance of at least this count at that rate.")

    @classmethod
    def of(cls, rising: models.RisingCause) -> DigestRisingCause:
        return cls(
            cause=rising.cause,
            category=rising.category,
            count=rising.count,
            baseline_count=rising.baseline_count,
            expected=rising.expected,
            p_value=rising.p_value,
        )


@strawberry.type(
    description="A day of the loop in your regions: new alerts, breaches, rising causes, what was resolved "
    "and why."
)
class Digest:
    date: date = strawberry.field(description="The local day (reporting time zone).")
    regions: list[str] = strawberry.field(description="The regions it covers.")
    new_alert_count: int = strawberry.field(description="Operational alerts raised during the day.")
    breaches: list[DigestBreach] = strawberry.field(
        description="Tactical breaches open during the day (raised that day or still open at its start)."
    )
    resolved_count: int = strawberry.field(description="Alerts and complaint cases resolved during the day.")
    resolved: list[DigestResolution] = strawberry.field(
        description="What was resolved, by root cause, most first."
    )
    rising_causes: list[DigestRisingCause] = strawberry.field(
        description="Root causes that rose significantly over the week ending on the day against the four "
        "weeks before (exact conditional test at 1 %, 5 or more), most first."
    )
    alert_ids: strawberry.Private[tuple[str, ...]]

    @strawberry.field(description="The operational alerts raised during the day, oldest first.")
    async def new_alerts(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="How many (1-100).")] = 20,
    ) -> list[Alert]:
        wanted = self.alert_ids[: max(0, min(first, MAX_ALERTS))]
        found = await info.context.loaders.alerts.by_id.load_many(list(wanted))
        return [Alert.of(a) for a in found if a is not None]

    @classmethod
    def of(cls, digest: models.Digest, regions: list[str]) -> Digest:
        return cls(
            date=digest.day,
            regions=regions,
            new_alert_count=len(digest.new_alerts),
            breaches=[DigestBreach.of(b) for b in digest.breaches],
            resolved_count=sum(r.resolved for r in digest.resolved),
            resolved=[DigestResolution.of(r) for r in digest.resolved],
            rising_causes=[DigestRisingCause.of(r) for r in digest.rising],
            alert_ids=digest.new_alerts,
        )
