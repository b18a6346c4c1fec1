"""The change feed resumes after a dropped stream without losing the changes made meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
from pymongo import monitoring

from api.settings import Settings
from api.storage.change_feed import ChangeFeed
from api.storage.client import MongoDatabase, create_client
from domain.alerts.models import AlertReason
from domain.alerts.rules import raise_alert
from domain.events import Event, EventKind
from domain.feedback.models import Touchpoint
from domain.repositories import Repositories
from domain.standards.models import default_standard
from tests import factories as f


def new_alert() -> object:
    return raise_alert(
        alert_id=f.next_id(),
        customer_id=None,
        region="north",
        standard=default_standard("north", Touchpoint.DELIVERY),
        reasons=(AlertReason.LOW_NPS,),
        assignee_id=None,
        now=f.NOW,
        by="test",
    )


@pytest.fixture
async def feed(db: MongoDatabase) -> AsyncIterator[ChangeFeed]:
    stopping = asyncio.Event()
    change_feed = ChangeFeed(db, stopping=stopping, retry_seconds=0.05)
    task = asyncio.create_task(change_feed.run())
    yield change_feed
    stopping.set()
    await task


async def next_event(events: AsyncIterator[Event]) -> Event:
    return await asyncio.wait_for(anext(events), timeout=10)


async def test_changes_made_while_the_stream_is_down_are_delivered_after_it_resumes(
    feed: ChangeFeed, repos: Repositories
) -> None:
    events = feed.subscribe()
    first, during, after = new_alert(), new_alert(), new_alert()
    pending = asyncio.ensure_future(next_event(events))
    async with asyncio.timeout(5):
        while feed.subscribers == 0:  # noqa: ASYNC110 (a plain counter; polled with a deadline)
            await asyncio.sleep(0.01)
    await repos.alerts.insert(first)  # type: ignore[arg-type]
    assert (await pending).alert == first

    await feed.interrupt()
    await repos.alerts.insert(during)  # type: ignore[arg-type]
    await repos.alerts.insert(after)  # type: ignore[arg-type]

    received = [await next_event(events), await next_event(events)]
    assert [e.alert for e in received] == [during, after]
    assert {e.kind for e in received} == {EventKind.ALERT_RAISED}


async def test_an_updated_alert_is_delivered_as_it_is_after_the_update(
    feed: ChangeFeed, repos: Repositories
) -> None:
    events = feed.subscribe()
    alert = new_alert()
    pending = asyncio.ensure_future(next_event(events))
    async with asyncio.timeout(5):
        while feed.subscribers == 0:  # noqa: ASYNC110 (a plain counter; polled with a deadline)
            await asyncio.sleep(0.01)
    await repos.alerts.insert(alert)  # type: ignore[arg-type]
    assert (await pending).kind is EventKind.ALERT_RAISED
    # An update, not a replacement: its change carries the key, and the feed reads the alert.
    assert await repos.alerts.escalate(alert, manager_id="m1", now=f.NOW)  # type: ignore[arg-type]
    updated = await next_event(events)
    assert updated.kind is EventKind.ALERT_UPDATED
    assert updated.alert is not None
    assert (updated.alert.id, updated.alert.escalated_to) == (alert.id, "m1")  # type: ignore[attr-defined]


class GetMores(monitoring.CommandListener):
    """Counts the change stream's getMore commands, and notes when the stream was opened."""

    def __init__(self) -> None:
        self.get_mores = 0
        self.opened = asyncio.Event()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "getMore":
            self.get_mores += 1
        elif (
            event.command_name == "aggregate"
            and "$changeStream" in (event.command.get("pipeline") or [{}])[0]
        ):
            self.opened.set()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@contextlib.asynccontextmanager
async def feed_on_own_client(
    settings: Settings, listener: monitoring.CommandListener, **options: float
) -> AsyncIterator[ChangeFeed]:
    """A running change feed on a client of its own, whose commands ``listener`` sees."""
    client = create_client(str(settings.mongodb_uri), event_listeners=[listener])
    stopping = asyncio.Event()
    change_feed = ChangeFeed(client[settings.database_name], stopping=stopping, **options)
    task = asyncio.create_task(change_feed.run())
    try:
        yield change_feed
    finally:
        stopping.set()
        # Stopping does not wait for the getMore waiting on the server.
        await asyncio.wait_for(task, timeout=10)
        await client.close()


async def test_an_idle_feed_waits_on_the_stream_instead_of_polling(
    settings: Settings, repos: Repositories
) -> None:
    counter = GetMores()
    async with feed_on_own_client(settings, counter) as change_feed:
        events = change_feed.subscribe()
        pending = asyncio.ensure_future(next_event(events))
        await asyncio.wait_for(counter.opened.wait(), timeout=30)
        await asyncio.sleep(1.5)
        # One getMore waits on the server for the next change (polling every 250 ms would have sent six).
        assert counter.get_mores <= 1
        alert = new_alert()
        await repos.alerts.insert(alert)  # type: ignore[arg-type]
        assert (await pending).alert == alert


class Streams(monitoring.CommandListener):
    """Notes each change stream opened and each cursor closed, in order, with what ``mark`` adds."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def mark(self, what: str) -> None:
        self.seen.append(what)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "killCursors":
            self.seen.append("closed")
        elif (
            event.command_name == "aggregate"
            and "$changeStream" in (event.command.get("pipeline") or [{}])[0]
        ):
            self.seen.append("opened")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):
        while not condition():  # noqa: ASYNC110 (plain state; polled with a generous deadline)
            await asyncio.sleep(0.01)


async def subscribed_and_told(change_feed: ChangeFeed, repos: Repositories) -> AsyncIterator[Event]:
    """A new subscriber's events, once it counts (its stream is open), and told of an alert written then."""
    events = change_feed.subscribe()
    pending = asyncio.ensure_future(next_event(events))
    await until(lambda: change_feed.subscribers == 1)
    alert = new_alert()
    await repos.alerts.insert(alert)  # type: ignore[arg-type]
    assert (await pending).alert == alert
    return events


async def test_a_process_follows_the_stream_only_while_someone_subscribes(
    settings: Settings, repos: Repositories
) -> None:
    streams = Streams()
    async with feed_on_own_client(settings, streams, idle_seconds=0.2) as change_feed:
        # Nobody subscribes: no stream, however long the process runs and whatever is written.
        await repos.alerts.insert(new_alert())  # type: ignore[arg-type]
        await asyncio.sleep(1)
        assert (change_feed.following, change_feed.subscribers) == (False, 0)
        streams.mark("subscribed")

        events = await subscribed_and_told(change_feed, repos)

        # The last subscriber leaves: the stream closes once the idle time has passed.
        await events.aclose()  # type: ignore[attr-defined]
        await until(lambda: not change_feed.following)
        streams.mark("left")
        await repos.alerts.insert(new_alert())  # type: ignore[arg-type]

        # A new subscriber gets a new stream, and only what is written from then on.
        await subscribed_and_told(change_feed, repos)
        assert streams.seen == ["subscribed", "opened", "closed", "left", "opened"]


async def test_a_subscriber_that_comes_back_within_the_idle_time_keeps_the_stream(
    settings: Settings, repos: Repositories
) -> None:
    streams = Streams()
    async with feed_on_own_client(settings, streams, idle_seconds=60) as change_feed:
        events = change_feed.subscribe()
        pending = asyncio.ensure_future(next_event(events))
        await until(lambda: change_feed.subscribers == 1)
        pending.cancel()  # the subscriber goes (its generator ends with the cancellation)
        with contextlib.suppress(asyncio.CancelledError):
            await pending
        assert change_feed.subscribers == 0
        # Written while nobody subscribes, within the idle time: the stream stays open and resumes nothing.
        await repos.alerts.insert(new_alert())  # type: ignore[arg-type]
        await subscribed_and_told(change_feed, repos)
        assert streams.seen == ["opened"]
