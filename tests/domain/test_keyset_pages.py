"""Pages after the first: every item once, in order, read from an index range like page 1 (keyset paging).

Each later page is asked for with the cursor of the page before; the command the repository sent for it is
explained by the database (``executionStats``), which says how many documents it examined. A filter with the
tie-break as an ``$or`` examined the whole collection on the embedded database.

A page of the customer list read again is bounded by where it ended (``PageEnds``): the embedded database
then examines the customers up to there, not every customer in scope, and the page is the same as unbounded
whatever changed in between.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
from pymongo import monitoring

from api.settings import Settings
from api.storage.client import MongoDatabase, create_client
from domain.alerts.models import AlertState
from domain.alerts.repository import AlertQueue
from domain.audit.models import AuditEntry
from domain.customers.models import Customer, CustomerFilter
from domain.customers.repository import cursor_of
from domain.paging import Page, PageEnds, Position
from domain.repositories import Repositories
from domain.scope import RowScope
from tests import factories as f

READS = {"find", "aggregate"}


@dataclass
class LastRead(monitoring.CommandListener):
    """The last read command sent (find or aggregate), as sent."""

    command: dict[str, Any] = field(default_factory=dict)
    reads: int = 0  # read commands sent

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in READS:
            self.command = copy.deepcopy(dict(event.command))
            self.reads += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@dataclass
class Watched:
    """A database read through a client that remembers its last read command."""

    db: MongoDatabase
    last: LastRead

    async def examined(self) -> int:
        """How many documents the last read command examined, as the database explains it."""
        command = {k: v for k, v in self.last.command.items() if not k.startswith("$") and k != "lsid"}
        explained = await self.db.command("explain", command, verbosity="executionStats")
        return max(_every(explained, "totalDocsExamined"), default=0)


def _every(node: Any, key: str) -> list[int]:
    """Every value of ``key`` anywhere in an explain result (its shape differs by server and command)."""
    if isinstance(node, dict):
        found = [int(node[key])] if key in node else []
        return found + [n for value in node.values() for n in _every(value, key)]
    if isinstance(node, list):
        return [n for value in node for n in _every(value, key)]
    return []


@pytest.fixture
async def watched(settings: Settings, repos: Repositories) -> AsyncIterator[Watched]:
    last = LastRead()
    client = create_client(str(settings.mongodb_uri), event_listeners=[last])
    try:
        yield Watched(client[settings.database_name], last)
    finally:
        await client.close()


async def every_page(
    read: Callable[[str | None], Awaitable[tuple[Page[Any], str | None]]], watched: Watched
) -> tuple[list[Any], list[int]]:
    """Every item, page after page, and the documents each page examined."""
    items: list[Any] = []
    examined: list[int] = []
    cursor: str | None = None
    while True:
        page, cursor = await read(cursor)
        examined.append(await watched.examined())
        items += page.items
        if not page.has_next:
            assert len(examined) > 1, "a single page: nothing after the first was read"
            return items, examined


async def test_customer_pages_read_the_region_only(repos: Repositories, watched: Watched) -> None:
    north = [f.customer(region="north") for _ in range(12)]
    await repos.customers.insert_many([*north, *(f.customer(region="south") for _ in range(40))])
    mine = Repositories.on(watched.db, RowScope.of_regions(("north",))).customers

    async def forward(after: str | None) -> tuple[Page[Any], str | None]:
        page = await mine.list(CustomerFilter(), first=5, after=after)
        return page, cursor_of(page.items[-1]) if page.items else None

    async def backward(before: str | None) -> tuple[Page[Any], str | None]:
        page = await mine.list_before(CustomerFilter(), last=5, before=before)
        # Each page in name order, each page before the one asked before it: the items last to first.
        last_first = Page(list(reversed(page.items)), page.has_next)
        return last_first, cursor_of(page.items[0]) if page.items else None

    by_name = sorted(north, key=lambda c: (c.family_name, c.id))
    items, examined = await every_page(forward, watched)
    assert [c.id for c in items] == [c.id for c in by_name]
    assert max(examined) <= len(north)

    items, examined = await every_page(backward, watched)
    assert [c.id for c in items] == [c.id for c in reversed(by_name)]
    assert max(examined) <= len(north)


async def test_alert_queue_pages_read_the_open_alerts_only(repos: Repositories, watched: Watched) -> None:
    customer = f.customer(region="north")
    raised = [f.alert(customer, f.feedback(customer, nps=0)) for _ in range(40)]
    # Deadlines shared by several alerts: the id orders those.
    first_due = raised[0].acknowledge_due_at
    open_alerts = [
        replace(a, acknowledge_due_at=first_due + timedelta(hours=n // 3)) for n, a in enumerate(raised[:9])
    ]
    resolved = [replace(a, state=AlertState.RESOLVED) for a in raised[9:]]
    await repos.alerts.insert_many([*open_alerts, *resolved])
    alerts = Repositories.on(watched.db).alerts

    async def read(after: str | None) -> tuple[Page[Any], str | None]:
        position = Position.from_cursor("queue", after) if after else None
        page = await alerts.queue(AlertQueue(), first=2, after=position)
        last = page.items[-1] if page.items else None
        return page, Position(last.due_at, last.id).cursor("queue") if last else None

    items, examined = await every_page(read, watched)
    assert [a.id for a in items] == [a.id for a in sorted(open_alerts, key=lambda a: (a.due_at, a.id))]
    assert max(examined) <= len(open_alerts)


async def test_audit_pages_read_the_customer_entries_only(repos: Repositories, watched: Watched) -> None:
    customer, other = f.customer(), f.customer()
    mine = [_entry(customer.id, n, minutes=n // 4) for n in range(11)]  # four entries a minute: ties by id
    await repos.audit.append([*mine, *(_entry(other.id, n, minutes=n) for n in range(40))])
    audit = Repositories.on(watched.db).audit

    async def read(after: str | None) -> tuple[Page[Any], str | None]:
        position = Position.from_cursor("audit", after) if after else None
        page = await audit.for_customer(customer.id, first=3, after=position)
        last = page.items[-1] if page.items else None
        return page, Position(last.at, last.id).cursor("audit") if last else None

    items, examined = await every_page(read, watched)
    newest_first = sorted(mine, key=lambda e: (e.at, e.id), reverse=True)
    assert [e.id for e in items] == [e.id for e in newest_first]
    assert max(examined) <= len(mine)


def _entry(customer_id: str, n: int, *, minutes: int) -> AuditEntry:
    return AuditEntry(
        id=f"{customer_id}-{n:03d}",
        subject="agent",
        role="frontline",
        customer_id=customer_id,
        fields=("emails",),
        operation="Customer",
        request_id=f"request-{n}",
        at=f.NOW - timedelta(minutes=minutes),
    )


REGIONS = ("north", "south", "east", "west", "central")


async def _company(repos: Repositories, count: int) -> list[Customer]:
    """``count`` customers over five regions, in name order."""
    customers = [f.customer(region=REGIONS[n % len(REGIONS)]) for n in range(count)]
    await repos.customers.insert_many(customers)
    return sorted(customers, key=lambda c: (c.family_name, c.id))


def _every_region(watched: Watched, ends: PageEnds) -> Any:
    """A member of every region's customer repository, remembering page ends in ``ends``."""
    return Repositories.on(watched.db, RowScope.of_regions(REGIONS), page_ends=ends).customers


def _bounded(command: dict[str, Any]) -> bool:
    """Whether a read of the list was bounded by a page end (its first stage a range of sort names)."""
    first = command["pipeline"][0]["$match"]
    return list(first) == ["sortName"] and "$lte" in first["sortName"]


async def test_a_customer_page_read_again_examines_the_customers_up_to_where_it_ended(
    repos: Repositories, watched: Watched
) -> None:
    company = await _company(repos, 200)
    customers = _every_region(watched, PageEnds())

    first = await customers.list(CustomerFilter(regions=REGIONS), first=10)
    unbounded = await watched.examined()
    again = await customers.list(CustomerFilter(regions=REGIONS), first=10)

    assert _bounded(watched.last.command)
    assert await watched.examined() <= 11 < unbounded
    assert [c.id for c in again.items] == [c.id for c in first.items] == [c.id for c in company[:10]]
    assert again.has_next
    assert watched.last.reads == 2
    # A page after a cursor is bounded the same way, once read whole.
    after = cursor_of(first.items[-1])
    await customers.list(CustomerFilter(regions=REGIONS), first=10, after=after)
    page_two = await customers.list(CustomerFilter(regions=REGIONS), first=10, after=after)
    assert _bounded(watched.last.command)
    assert [c.id for c in page_two.items] == [c.id for c in company[10:20]]


async def test_a_bounded_page_that_comes_up_short_is_read_again_whole_and_bounded_anew(
    repos: Repositories, watched: Watched
) -> None:
    company = await _company(repos, 60)
    ends = PageEnds()
    await _every_region(watched, ends).list(CustomerFilter(), first=10)
    # Three of the page's customers leave, and one is added before its end: the old end now bounds 8.
    await watched.db["customers"].delete_many({"_id": {"$in": [c.id for c in company[2:5]]}})
    newcomer = f.customer(family_name="Aaa", region="east")
    await repos.customers.insert_many([newcomer])
    expected = [newcomer.id, *(c.id for c in company[:2]), *(c.id for c in company[5:12])]

    reads = watched.last.reads
    page = await _every_region(watched, ends).list(CustomerFilter(), first=10)

    assert [c.id for c in page.items] == expected
    assert page.has_next
    assert watched.last.reads == reads + 2  # bounded, short, then whole
    assert not _bounded(watched.last.command)
    await _every_region(watched, ends).list(CustomerFilter(), first=10)
    assert watched.last.reads == reads + 3
    assert _bounded(watched.last.command)
    assert await watched.examined() <= 11


async def test_a_customers_page_that_is_the_whole_list_is_never_bounded(
    repos: Repositories, watched: Watched
) -> None:
    company = await _company(repos, 8)
    customers = _every_region(watched, PageEnds())

    for _ in range(2):
        page = await customers.list(CustomerFilter(), first=10)
        assert [c.id for c in page.items] == [c.id for c in company]
        assert not page.has_next
        assert not _bounded(watched.last.command)
    assert watched.last.reads == 2


async def test_a_page_filtered_by_more_than_regions_is_never_bounded(
    repos: Repositories, watched: Watched
) -> None:
    await _company(repos, 100)
    owned = [f.customer(owner_id="e1", region=REGIONS[n % len(REGIONS)]) for n in range(20)]
    await repos.customers.insert_many(owned)
    customers = _every_region(watched, PageEnds())

    for _ in range(2):
        page = await customers.list(CustomerFilter(owner_id="e1"), first=10)
        assert [c.id for c in page.items] == [c.id for c in sorted(owned, key=lambda c: c.family_name)][:10]
        assert not _bounded(watched.last.command)
    assert watched.last.reads == 2
