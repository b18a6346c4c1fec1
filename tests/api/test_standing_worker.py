"""The standing worker: it follows every kind of write, resumes where it stopped, one works at a time.

Workers run here as the server runs them (a change stream, a lease, a stored resume token), against the
test's database; what they keep is checked with the same recomputation as ``customer360 standings verify``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pymongo import monitoring

from api.cli.importer import Importer
from api.settings import Settings
from api.storage.client import MongoDatabase, MongoUnitOfWork, create_client, ensure_schema
from api.storage.standing_worker import CustomerChanges, StandingWorker, changes_records
from domain.alerts.service import Resolution, resolve
from domain.crm.models import CaseChannel, CaseKind, CaseStatus, Severity
from domain.crm.service import CaseChange, NewCase, open_case, update_case
from domain.customer_history import Changes, Part
from domain.customers.models import Customer
from domain.feedback.models import FeedbackChannel, Touchpoint
from domain.feedback.service import Submitter, submit_feedback
from domain.feedback.submission import FeedbackSubmission
from domain.imports.formats import FileFormat
from domain.imports.rows import ImportKind
from domain.repositories import Repositories
from domain.standing.models import NextBestAction
from domain.standing.service import verify
from domain.store import UnitOfWork
from tests import factories as f

DEADLINE = 90.0  # a loaded machine: poll, never assume


@contextlib.asynccontextmanager
async def running(
    db: MongoDatabase, repos: Repositories, uow: UnitOfWork, *, holder: str, gather_seconds: float = 0.0
) -> AsyncIterator[StandingWorker]:
    stopping = asyncio.Event()
    worker = StandingWorker(
        db,
        repos,
        uow,
        stopping=stopping,
        holder=holder,
        lease_seconds=3,
        poll_ms=200,
        gather_seconds=gather_seconds,
    )
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        stopping.set()
        # It stops between database calls, soon: a worker that does not is a failure, not a hang.
        await asyncio.wait_for(task, timeout=DEADLINE)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await check():
        assert time.monotonic() < deadline, f"not within {DEADLINE} s: {what}"
        await asyncio.sleep(0.2)


async def settled(repos: Repositories) -> bool:
    """Whether every standing and observation agrees with the raw data (what `standings verify` checks)."""
    return (await verify(repos, now=datetime.now(UTC))).differences == []


async def action_of(repos: Repositories, customer: Customer) -> NextBestAction | None:
    stored = (await repos.standings.get_many([customer.id])).get(customer.id)
    return stored.standing.action if stored else None


async def test_the_worker_follows_a_mixed_write_load_and_verify_agrees(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    staff = f.employee()
    customers = [f.customer(owner_id=staff.id) for _ in range(6)]
    await repos.employees.insert_many([staff])
    await repos.customers.insert_many(customers)
    async with running(db, repos, uow, holder="a"):
        await eventually(lambda: settled(repos), "the rebuild of a database it had never seen")
        # Feedback through intake (a detractor raises an alert), a complaint, a case moved along.
        detractor = FeedbackSubmission(
            "k1", customers[0].id, FeedbackChannel.APP, Touchpoint.DELIVERY, now - timedelta(hours=1), nps=1
        )
        intake = await submit_feedback(
            repos, uow, submitter=Submitter("self", on_behalf=False), submission=detractor, now=now
        )
        complaint, _ = await open_case(
            repos,
            uow,
            new=NewCase(
                customers[1].id, CaseKind.COMPLAINT, CaseChannel.EMAIL, "delivery", Severity.HIGH, "Late"
            ),
            by=staff.id,
            now=now,
        )
        await update_case(
            repos, change=CaseChange(complaint.id, 1, status=CaseStatus.IN_PROGRESS), by=staff.id, now=now
        )
        # The alert of the detractor is resolved; transactions and a region change come by import.
        assert intake.alert is not None
        await resolve(
            repos,
            uow,
            alert_id=intake.alert.id,
            version=intake.alert.version,
            by=staff.id,
            now=now,
            resolution=Resolution("Refunded", "Sorry", "EMAIL", "carrier-delay", "The parcel came late"),
        )
        purchases = tmp_path / "transactions.jsonl"
        purchases.write_text(
            "\n".join(
                json.dumps(
                    {
                        "externalId": f"T{n}",
                        "customerExternalId": c.external_ids[0].id,
                        "amount": "1250.00",
                        "currency": "EUR",
                        "channel": "STORE",
                        "touchpoint": "store-1",
                        "occurredAt": (now - timedelta(days=n)).isoformat(),
                    }
                )
                for n, c in enumerate(customers[2:], start=1)
            )
        )
        source = customers[0].external_ids[0].system
        await Importer(db, kind=ImportKind.TRANSACTIONS, source=source).run(purchases, FileFormat.JSONL)
        # Another system writes straight to the database: an opportunity, an interaction.
        await repos.opportunities.insert_many([f.opportunity(customers[3])])
        await repos.interactions.insert_many([f.interaction(customers[4], occurred_at=now)])

        await eventually(lambda: settled(repos), "every write recomputed")
        assert await action_of(repos, customers[1]) is NextBestAction.RECOVER  # the open complaint
        assert await action_of(repos, customers[5]) is NextBestAction.NONE


async def test_a_restarted_worker_resumes_where_it_stopped(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    first, second = f.customer(), f.customer()
    await repos.customers.insert_many([first])
    async with running(db, repos, uow, holder="before") as before:
        await eventually(lambda: settled(repos), "the first customer")
    # Written while no worker runs: the next one must catch up from the stored position, not rebuild.
    await repos.customers.insert_many([second])
    await repos.feedback.insert_many([f.feedback(second, nps=8, occurred_at=datetime.now(UTC))])
    async with running(db, repos, uow, holder="after") as after:
        await eventually(lambda: settled(repos), "what was written meanwhile")
    assert before.recomputed == 0  # the first one rebuilt a new database instead
    assert after.recomputed == 1
    assert await action_of(repos, second) is NextBestAction.FOLLOW_UP


async def test_standings_stored_in_an_older_layout_are_rebuilt_by_the_next_worker(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    await repos.customers.insert_many([f.customer()])
    async with running(db, repos, uow, holder="before"):
        await eventually(lambda: settled(repos), "the first customer")
    # As an earlier version left them: its position kept without a layout, standings without at-risk time.
    await db["workerState"].update_one({"_id": "standings"}, {"$unset": {"layout": ""}})
    await db["standings"].update_many({}, {"$unset": {"atRiskThrough": ""}})

    async def rebuilt() -> bool:
        return await db["standings"].find_one({"atRiskThrough": {"$exists": False}}) is None

    async with running(db, repos, uow, holder="after"):
        await eventually(rebuilt, "the rebuild of standings in the older layout")


async def test_start_up_drops_the_indexes_no_query_uses_any_more(db: MongoDatabase) -> None:
    await db["standings"].create_index([("detractorAt", 1)], name="detractorAt_1")
    await ensure_schema(db)
    indexes = await db["standings"].index_information()
    assert "detractorAt_1" not in indexes
    assert "atRiskThrough_1" in indexes


async def test_a_second_worker_of_the_same_process_does_not_hold_the_lease_too(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    # As a process serving two apps runs them: each app its own worker, named by default.
    first, second = (StandingWorker(db, repos, uow, stopping=asyncio.Event()) for _ in range(2))
    assert await first.lease.take()
    assert not await second.lease.take()
    await first.lease.release()
    assert await second.lease.take()


async def test_one_worker_works_at_a_time_and_another_takes_over_when_it_stops(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    existing, *customers = [f.customer() for _ in range(4)]
    await repos.customers.insert_many([existing])  # so that the rebuild shows
    async with running(db, repos, uow, holder="one") as one:
        async with running(db, repos, uow, holder="two") as two:
            await eventually(lambda: settled(repos), "the rebuild")
            await repos.customers.insert_many(customers[:2])
            await eventually(lambda: settled(repos), "the first customers")
            assert sorted((one.recomputed, two.recomputed)) == [0, 2]
        # "two" stopped and let its lease go: "one" works from now on, whichever worked before.
        before = one.recomputed
        await repos.customers.insert_many(customers[2:])
        await eventually(lambda: settled(repos), "the last customer")
    assert one.recomputed == before + 1


async def test_changes_that_come_within_the_gathering_time_are_recomputed_together(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    existing, *customers = [f.customer() for _ in range(5)]
    await repos.customers.insert_many([existing])
    # Generous: the four writes below, a quarter of a second apart, come well within it on a loaded machine.
    async with running(db, repos, uow, holder="a", gather_seconds=8.0) as worker:
        await eventually(lambda: settled(repos), "the rebuild")
        for customer in customers:
            await repos.customers.insert_many([customer])
            await asyncio.sleep(0.25)
        await eventually(lambda: settled(repos), "the customers written one by one")
    assert (worker.recomputed, worker.batches) == (4, 1)


async def test_a_worker_stopped_while_gathering_stops_at_once_and_the_next_one_recomputes_what_it_read(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    existing, customer = f.customer(), f.customer()
    await repos.customers.insert_many([existing])
    # Gathering far longer than ``running`` waits for a worker to stop: one that waited it out fails here.
    async with running(db, repos, uow, holder="a", gather_seconds=10 * DEADLINE):
        await eventually(lambda: settled(repos), "the rebuild")
        await repos.customers.insert_many([customer])
        await asyncio.sleep(1)  # the worker reads the change and gathers
    assert not await settled(repos)
    async with running(db, repos, uow, holder="b"):
        await eventually(lambda: settled(repos), "the change the stopped worker had read")


class _EndlessStream:
    """A change stream that always has another change, as MongoDB's has under a steady flow of writes."""

    def __init__(self) -> None:
        self.served = 0

    async def try_next(self) -> dict[str, object]:
        await asyncio.sleep(0.01)
        self.served += 1
        return {"ns": {"coll": "customers"}, "documentKey": {"_id": f"c{self.served}"}}


async def test_a_batch_ends_at_the_gathering_time_while_changes_keep_coming(db: MongoDatabase) -> None:
    changes = CustomerChanges(db, wait_ms=200)
    changes._stream = stream = _EndlessStream()
    # Generous: it returns after half a second; one that waits for the changes to stop never does.
    batch = await asyncio.wait_for(changes.next_batch(1_000_000, gather_seconds=0.5), timeout=DEADLINE / 3)
    assert set(batch) == {f"c{n}" for n in range(1, stream.served + 1)}


class GetMores(monitoring.CommandListener):
    """Counts getMore commands."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.count += event.command_name == "getMore"

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_the_changes_of_the_gathering_time_are_read_together_not_a_get_more_each(
    settings: Settings, db: MongoDatabase, repos: Repositories
) -> None:
    customers = [f.customer() for _ in range(12)]
    get_mores = GetMores()
    client = create_client(str(settings.mongodb_uri), event_listeners=[get_mores])
    try:
        changes = CustomerChanges(client[settings.database_name], wait_ms=200)
        async with changes.opened(None):

            async def write_one_by_one() -> None:
                for customer in customers:
                    await repos.customers.insert_many([customer])
                    await asyncio.sleep(0.05)

            writing = asyncio.create_task(write_one_by_one())
            seen: set[str] = set()
            batches = 0
            deadline = time.monotonic() + DEADLINE
            while seen != {c.id for c in customers}:
                assert time.monotonic() < deadline, "the changes never came"
                get_mores.count = 0
                seen |= set(await changes.next_batch(1_000, gather_seconds=1.0))
                batches += 1
                # The change that starts gathering, the ones gathered, the first after: not one each.
                assert get_mores.count <= 3
            await writing
    finally:
        await client.close()
    assert batches < len(customers)


async def test_a_worker_behind_takes_every_change_made_until_it_reads_in_one_batch(
    db: MongoDatabase, repos: Repositories
) -> None:
    # Changes made further apart than the gathering time, all before the batch is read: a worker that took a
    # gathering time's worth at a time fell further behind under a steady load at every batch.
    customers = [f.customer() for _ in range(4)]
    changes = CustomerChanges(db, wait_ms=200)
    async with changes.opened(None):
        for customer in customers:
            await repos.customers.insert_many([customer])
            await asyncio.sleep(0.3)
        batch = await changes.next_batch(1_000, gather_seconds=0.2)
    assert set(batch) == {c.id for c in customers}


async def first_batch(changes: CustomerChanges) -> dict[str, Changes]:
    """The first batch that names a customer, polled until a generous deadline."""
    deadline = time.monotonic() + DEADLINE
    while not (batch := await changes.next_batch(10)):
        assert time.monotonic() < deadline, "the change never came"
    return batch


async def test_an_update_names_the_customer_of_the_updated_document(
    db: MongoDatabase, repos: Repositories
) -> None:
    # An update's change carries the document's key only: the batch reads whose document it is.
    customer = f.customer()
    await repos.customers.insert_many([customer])
    await repos.interactions.insert_many([f.interaction(customer, occurred_at=datetime.now(UTC))])
    interaction = await db["interactions"].find_one({"customerId": customer.id})
    assert interaction is not None
    changes = CustomerChanges(db, wait_ms=200)
    async with changes.opened(None):
        await db["interactions"].update_one({"_id": interaction["_id"]}, {"$set": {"summary": "Called back"}})
        batch = await first_batch(changes)
    assert list(batch) == [customer.id]
    assert batch[customer.id].reread == {Part.INTERACTIONS}


async def test_an_alert_update_that_leaves_its_state_names_no_customer_and_one_that_resolves_it_does(
    db: MongoDatabase, repos: Repositories
) -> None:
    alerted, other = f.customer(), f.customer()
    await repos.customers.insert_many([alerted, other])
    alert = f.alert(alerted, f.feedback(alerted, nps=1))
    await repos.alerts.insert(alert)
    changes = CustomerChanges(db, wait_ms=200)
    async with changes.opened(None):
        # Routed and notified: its state, and so whether it is open, stays as it was.
        await db["alerts"].update_one(
            {"_id": alert.id}, {"$set": {"assigneeId": "e1", "notifiedAt": datetime.now(UTC)}}
        )
        await db["customers"].update_one({"_id": other.id}, {"$set": {"segment": "AFFLUENT"}})
        assert list(await first_batch(changes)) == [other.id]  # the profile written after it, alone

        await db["alerts"].update_one({"_id": alert.id}, {"$set": {"state": "RESOLVED"}})
        batch = await first_batch(changes)
    assert list(batch) == [alerted.id]
    assert batch[alerted.id].reread == {Part.ALERTS}


def test_an_update_that_does_not_say_what_it_changed_counts_as_changing_the_records() -> None:
    alerts = {"coll": "alerts"}
    routed = {"updatedFields": {"assigneeId": "e1"}, "removedFields": []}
    assert not changes_records({"ns": alerts, "operationType": "update", "updateDescription": routed})
    assert changes_records({"ns": alerts, "operationType": "update"})
    assert changes_records({"ns": alerts, "operationType": "replace"})
    reopened = {"updatedFields": {"state": "OPEN"}, "removedFields": ["resolvedAt"]}
    assert changes_records({"ns": alerts, "operationType": "update", "updateDescription": reopened})
    assert changes_records({"ns": {"coll": "cases"}, "operationType": "update", "updateDescription": routed})


async def test_a_profile_written_is_named_as_such_and_no_kind_of_record_is_read_for_it(
    db: MongoDatabase, repos: Repositories
) -> None:
    # Its observations are then recomputed whole (they carry its segment, region and churn).
    customer = f.customer()
    await repos.customers.insert_many([customer])
    changes = CustomerChanges(db, wait_ms=200)
    async with changes.opened(None):
        await db["customers"].update_one({"_id": customer.id}, {"$set": {"segment": "AFFLUENT"}})
        batch = await first_batch(changes)
    assert list(batch) == [customer.id]
    assert (batch[customer.id].profile, batch[customer.id].reread) == (True, set())


async def test_a_batch_carries_inserted_responses_and_open_alerts_and_names_other_kinds_to_read_again(
    db: MongoDatabase, repos: Repositories
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    response = f.feedback(customer, nps=2, occurred_at=datetime.now(UTC).replace(microsecond=0))
    alert = f.alert(customer, response)
    changes = CustomerChanges(db, wait_ms=200)
    async with changes.opened(None):
        await repos.feedback.insert_many([response])
        await repos.alerts.insert(alert)
        await repos.transactions.insert_many([f.transaction(customer)])
        seen = Changes()
        deadline = time.monotonic() + DEADLINE
        while not (seen.answers and seen.opened_alerts and seen.reread):
            assert time.monotonic() < deadline, "the inserts never came"
            for changed in (await changes.next_batch(10)).values():
                seen.answers |= changed.answers
                seen.opened_alerts |= changed.opened_alerts
                seen.reread |= changed.reread

    # The response as the history would read it, the alert by id, the purchase as a kind to read again.
    assert list(seen.answers.values()) == (await repos.feedback.answers([customer.id]))[customer.id]
    assert seen.opened_alerts == {alert.id}
    assert seen.reread == {Part.PURCHASES}
