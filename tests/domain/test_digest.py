"""The daily digest: a day's alerts, breaches and resolutions in scope, published once per region and day."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from api.storage.client import MongoDatabase, MongoUnitOfWork
from domain.alerts.models import Alert, AlertReason, Reply, TacticalBreach
from domain.alerts.rules import clear, raise_alert, raise_tactical, resolve
from domain.digest.service import digest_of, publish_digests
from domain.employees.models import EmployeeRole
from domain.feedback.models import Touchpoint
from domain.repositories import Repositories
from domain.root_cause import RootCause
from domain.standards.models import TargetMetric, default_standard
from tests import factories as f

DAY = date(2026, 10, 20)
NOON = datetime(2026, 10, 20, 12, tzinfo=UTC)
STANDARD = default_standard("north", Touchpoint.DELIVERY)


def operational(at: datetime, region: str = "north") -> Alert:
    return raise_alert(
        alert_id=f.next_id(),
        customer_id=f.next_id(),
        region=region,
        standard=STANDARD,
        reasons=(AlertReason.LOW_NPS,),
        assignee_id=None,
        now=at,
        by="test",
    )


def tactical(at: datetime) -> Alert:
    breach = TacticalBreach(TargetMetric.NPS, -20.0, 0, 28, DAY, DAY, 40, 1, ())
    return raise_tactical(
        alert_id=f.next_id(), region="north", standard=STANDARD, breach=breach, assignee_id=None, now=at
    )


async def test_a_day_holds_its_new_alerts_open_breaches_and_resolutions(repos: Repositories) -> None:
    today = [operational(NOON - timedelta(hours=3)), operational(NOON)]
    earlier = operational(NOON - timedelta(days=1))
    cause = RootCause("carrier-delay", "delivery", "Left at the depot", NOON, "agent")
    reply = Reply("Sorry", "SMS", NOON)
    answered = resolve(earlier, by="agent", now=NOON, resolution="Called", reply=reply, root_cause=cause)
    open_breach = tactical(NOON - timedelta(days=2))
    gone = clear(tactical(NOON - timedelta(days=9)), now=NOON - timedelta(days=1), note="back within target")
    elsewhere = operational(NOON, region="south")
    await repos.alerts.insert_many([*today, answered, open_breach, gone, elsewhere])

    digest = await digest_of(repos, day=DAY, regions=("north",))
    assert digest.new_alerts == tuple(a.id for a in today)
    assert [b.alert_id for b in digest.breaches] == [open_breach.id]
    assert [(r.cause, r.category, r.resolved, r.notes) for r in digest.resolved] == [
        ("carrier-delay", "delivery", 1, ("Left at the depot",))
    ]
    assert digest.rising == ()
    assert (await digest_of(repos, day=DAY - timedelta(days=5), regions=("north",))).breaches != ()


async def test_each_region_s_digest_of_a_day_is_published_once_by_concurrent_sweeps(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    await repos.employees.insert_many(
        [f.employee(regions=("north",)), f.employee(regions=("south", "east"), role=EmployeeRole.MANAGER)]
    )
    await repos.alerts.insert_many([operational(NOON), operational(NOON, region="east")])
    after_midnight = NOON + timedelta(hours=13)
    rounds = await asyncio.gather(*(publish_digests(repos, uow, now=after_midnight) for _ in range(3)))
    published = sorted((d.regions, len(d.new_alerts)) for r in rounds for d in r)
    assert published == [(("east",), 1), (("north",), 1), (("south",), 0)]
    assert await db["digests"].count_documents({}) == 3
    assert await publish_digests(repos, uow, now=after_midnight + timedelta(hours=5)) == []


async def test_a_cause_that_rose_over_the_week_is_in_the_digest(repos: Repositories) -> None:
    def caused(at: datetime, code: str, category: str) -> Alert:
        alert = operational(at - timedelta(hours=1))
        cause = RootCause(code, category, f"{code} again", at, "agent")
        return resolve(
            alert, by="agent", now=at, resolution="x", reply=Reply("y", "SMS", at), root_cause=cause
        )

    # Steady billing errors over five weeks; carrier delays only in the last one, six of them.
    steady = [caused(NOON - timedelta(days=7 * week + 1), "wrong-charge", "billing") for week in range(5)]
    rising = [caused(NOON - timedelta(days=n % 6, hours=n), "carrier-delay", "delivery") for n in range(6)]
    await repos.alerts.insert_many([*steady, *rising])
    digest = await digest_of(repos, day=DAY, regions=("north",))
    assert [(r.cause, r.count, r.baseline_count) for r in digest.rising] == [("carrier-delay", 6, 0)]
