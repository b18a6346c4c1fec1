"""Background loops stop on their event, whatever a database call does with a cancellation.

On Python 3.11 a cancellation that arrives as a driver call completes can be lost inside the driver's
``wait_for``: a loop stopped by cancelling it would then run on, and the server's shutdown (which waits for
its loops) would hang. Here every database call of the loop swallows cancellations, as such a call does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from api.storage.availability import DatabaseWatch
from api.storage.client import MongoDatabase, MongoUnitOfWork
from api.storage.standing_worker import StandingWorker
from domain.repositories import Repositories

DEADLINE = 30.0
T = TypeVar("T")


def stubborn(
    call: Callable[[], Awaitable[T]], calls: int, made: asyncio.Event, *, slow: float = 0.02
) -> Callable[[], Awaitable[T]]:
    """``call``, taking ``slow`` seconds more and finishing whatever cancellation reaches it meanwhile;
    ``made`` is set as its ``calls``-th call starts."""
    counted = []

    async def wrapped() -> T:
        counted.append(1)
        if len(counted) >= calls:
            made.set()
        while True:
            try:
                await asyncio.sleep(slow)
                return await call()
            except asyncio.CancelledError:
                continue

    return wrapped


async def stopped(task: asyncio.Task[None]) -> None:
    """The task ends by itself within the deadline (waited for without cancelling it, so a task that does
    not stop fails the test instead of hanging it)."""
    await asyncio.wait({task}, timeout=DEADLINE)
    assert task.done(), "still running after its stopping event was set"
    task.result()


async def test_the_database_watch_stops_on_its_event(db: MongoDatabase) -> None:
    watch = DatabaseWatch(db.client, interval=0.01, timeout=5.0)
    probed = asyncio.Event()
    watch.probe = stubborn(watch.probe, 3, probed)  # type: ignore[method-assign]
    stopping = asyncio.Event()
    task = asyncio.create_task(watch.run(stopping))
    await asyncio.wait_for(probed.wait(), timeout=DEADLINE)
    stopping.set()
    await stopped(task)


async def test_the_standing_worker_and_its_lease_keeper_stop_on_the_event(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    stopping = asyncio.Event()
    worker = StandingWorker(db, repos, uow, stopping=stopping, holder="a", lease_seconds=0.06, poll_ms=50)
    renewing = asyncio.Event()
    worker.lease.take = stubborn(worker.lease.take, 2, renewing, slow=0.5)  # type: ignore[method-assign]
    task = asyncio.create_task(worker.run())
    # The lease taken to work, then renewed while the worker follows the stream: stopped meanwhile, the
    # worker is told to stop while a renewal is under way.
    await asyncio.wait_for(renewing.wait(), timeout=DEADLINE)
    stopping.set()
    await stopped(task)
