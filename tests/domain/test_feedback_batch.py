"""Feedback batches at the domain: work stops before it starts, never after it commits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pymongo
import pytest

from api.storage.client import MongoDatabase, MongoUnitOfWork
from domain.aggregates.service import verify_rollups
from domain.errors import ValidationFailed
from domain.feedback.batch import CHUNK, MaybeStored, NotStarted, submit_batch
from domain.feedback.models import FeedbackChannel
from domain.feedback.service import Intake, Submitter
from domain.feedback.submission import FeedbackSubmission
from domain.repositories import Repositories
from domain.store import OutOfTime, Session
from tests import factories as f
from tests.domain.test_closed_loop import NOW, detractor

T = TypeVar("T")
STAFF = Submitter("agent-1", on_behalf=True)


class CancelledWhileStoring:
    """A unit of work cancelling the batch as its first transaction starts, as a request time limit would."""

    def __init__(self, inner: MongoUnitOfWork) -> None:
        self.inner = inner
        self.batch: asyncio.Task[object] | None = None
        self.transactions = 0

    async def run(self, work: Callable[[Session], Awaitable[T]]) -> T:
        self.transactions += 1
        if self.transactions == 1 and self.batch is not None:
            self.batch.cancel()
        return await self.inner.run(work)


def phoned(customer_id: str, key: str, **overrides: Any) -> FeedbackSubmission:
    """A detractor's response taken by phone (staff submit only phone or in-person feedback)."""
    return detractor(customer_id, key=key, channel=FeedbackChannel.PHONE, **overrides)


async def customers(repos: Repositories, count: int) -> list[str]:
    made = [f.customer(region="north") for _ in range(count)]
    await repos.customers.insert_many(made)
    return [c.id for c in made]


async def test_a_cancelled_batch_finishes_the_chunk_it_started_and_starts_no_other(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    ids = await customers(repos, 5)
    submissions = [phoned(ids[n % 5], f"c-{n}") for n in range(CHUNK * 2 + 3)]
    cancelling = CancelledWhileStoring(uow)
    batch = asyncio.ensure_future(
        submit_batch(repos, cancelling, submitter=STAFF, submissions=submissions, now=NOW)
    )
    cancelling.batch = batch
    answers = await batch

    assert all(isinstance(a, Intake) and not a.duplicate for a in answers[:CHUNK])
    assert all(isinstance(a, NotStarted) for a in answers[CHUNK:])
    assert cancelling.transactions == 1
    assert await db["feedback"].count_documents({}) == CHUNK
    assert await db["alerts"].count_documents({}) == CHUNK
    assert await verify_rollups(repos) == []


async def test_no_chunk_starts_once_the_time_is_up_but_invalid_items_are_still_answered(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    ids = await customers(repos, 2)
    submissions = [phoned(ids[0], "late-0"), phoned(ids[1], "late-1", nps=12)]
    answers = await submit_batch(
        repos, uow, submitter=STAFF, submissions=submissions, now=NOW, time_left=lambda: 0.0
    )
    assert isinstance(answers[0], NotStarted)
    assert isinstance(answers[1], ValidationFailed)
    assert await db["feedback"].count_documents({}) == 0


async def test_a_chunk_starts_only_while_time_is_left_for_it(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    ids = await customers(repos, 3)
    submissions = [phoned(ids[n % 3], f"t-{n}") for n in range(CHUNK * 3)]
    counting = CancelledWhileStoring(uow)  # never given a batch to cancel: it only counts transactions

    def time_left() -> float:
        return 60.0 if counting.transactions == 0 else 0.0

    answers = await submit_batch(
        repos, counting, submitter=STAFF, submissions=submissions, now=NOW, time_left=time_left
    )
    assert sum(isinstance(a, Intake) for a in answers) == CHUNK
    assert all(isinstance(a, NotStarted) for a in answers[CHUNK:])
    assert await db["feedback"].count_documents({}) == CHUNK


class DeadlineFalls:
    """A unit of work whose ``nth`` transaction runs under a driver deadline (``pymongo.timeout``) that falls
    once its work is done: before the commit, or (``during``) before one more write of the transaction, so
    the deadline stops it with its writes made. That is the deadline the request's time limit and its grace
    set, met by a transaction that overran them."""

    def __init__(self, inner: MongoUnitOfWork, db: MongoDatabase, *, nth: int, during: bool) -> None:
        self.inner = inner
        self.marks = db["deadline_marks"]
        self.nth = nth
        self.during = during
        self.transactions = 0

    async def run(self, work: Callable[[Session], Awaitable[T]]) -> T:
        self.transactions += 1
        if self.transactions != self.nth:
            return await self.inner.run(work)

        async def late(session: Session) -> T:
            done = await work(session)
            await asyncio.sleep(DEADLINE * 2)
            if self.during:
                await self.marks.insert_one({}, session=session)  # type: ignore[arg-type]
            return done

        with pymongo.timeout(DEADLINE):
            return await self.inner.run(late)


class CommitUnconfirmed:
    """A unit of work whose ``nth`` transaction ends as one does when the deadline fell on its commit and
    committing it again failed too (the database lost): it may have been stored."""

    def __init__(self, inner: MongoUnitOfWork, *, nth: int) -> None:
        self.inner = inner
        self.nth = nth
        self.transactions = 0

    async def run(self, work: Callable[[Session], Awaitable[T]]) -> T:
        self.transactions += 1
        if self.transactions == self.nth:
            raise OutOfTime("the commit went unconfirmed", maybe_stored=True)
        return await self.inner.run(work)


DEADLINE = 0.2


async def nothing_left_open(db: MongoDatabase) -> None:
    """No transaction is left open on the server: dropping the database, which waits for any, is prompt."""
    with pymongo.timeout(10):
        await db.client.drop_database(db.name)


async def test_a_transaction_past_its_deadline_while_working_is_rolled_back_and_says_nothing_was_stored(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    late = DeadlineFalls(uow, db, nth=1, during=True)
    with pytest.raises(OutOfTime) as out:
        await late.run(lambda session: repos.customers.insert_many([f.customer()], session=session))
    assert out.value.maybe_stored is False
    assert await db["customers"].count_documents({}) == 0
    await nothing_left_open(db)


async def test_a_transaction_whose_deadline_fell_on_its_commit_is_committed_anyway(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customer = f.customer()
    late = DeadlineFalls(uow, db, nth=1, during=False)
    await late.run(lambda session: repos.customers.insert_many([customer], session=session))
    assert list(await repos.customers.get_many([customer.id])) == [customer.id]
    await nothing_left_open(db)


async def test_a_chunk_past_the_driver_deadline_leaves_the_chunks_before_it_stored_and_answered(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    ids = await customers(repos, 3)
    submissions = [phoned(ids[n % 3], f"d-{n}") for n in range(CHUNK * 3)]
    late = DeadlineFalls(uow, db, nth=2, during=True)
    answers = await submit_batch(repos, late, submitter=STAFF, submissions=submissions, now=NOW)

    assert all(isinstance(a, Intake) and not a.duplicate for a in answers[:CHUNK])
    assert all(isinstance(a, NotStarted) for a in answers[CHUNK:])  # rolled back, and none started after
    assert late.transactions == 2
    assert await db["feedback"].count_documents({}) == CHUNK
    assert await verify_rollups(repos) == []


async def test_a_chunk_whose_commit_went_unconfirmed_is_answered_maybe_stored(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    ids = await customers(repos, 3)
    # The last item repeats a key of the second chunk: it is answered as that item is.
    submissions = [phoned(ids[n % 3], f"m-{n}") for n in range(CHUNK * 3)]
    submissions.append(submissions[CHUNK])
    unconfirmed = CommitUnconfirmed(uow, nth=2)
    answers = await submit_batch(repos, unconfirmed, submitter=STAFF, submissions=submissions, now=NOW)

    assert all(isinstance(a, Intake) and not a.duplicate for a in answers[:CHUNK])
    assert all(isinstance(a, MaybeStored) for a in answers[CHUNK : CHUNK * 2])
    assert all(isinstance(a, NotStarted) for a in answers[CHUNK * 2 : CHUNK * 3])
    assert isinstance(answers[-1], MaybeStored)
    assert unconfirmed.transactions == 2
