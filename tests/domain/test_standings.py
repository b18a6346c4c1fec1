"""Standings against the database: idempotent refreshes, versioned writes, the worklist's order and paging
under concurrent updates, and a time sweep that recomputes each due standing exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import monitoring

from api.settings import Settings
from api.storage.client import MongoDatabase, MongoUnitOfWork, create_client, ensure_schema
from domain.crm.models import OpportunityStage
from domain.crm.repository import CaseSummary, Purchase
from domain.customer_history import (
    Changes,
    CustomerHistory,
    Part,
    Records,
    read_histories,
    records_document,
    records_from,
)
from domain.customers.models import Consent, Customer, CustomerStatus, Segment
from domain.feedback.models import Touchpoint
from domain.feedback.repository import Answer, FeedbackRepository
from domain.money import Money
from domain.repositories import Repositories
from domain.standing.models import NextBestAction, Standing
from domain.standing.repository import StandingRepository, Stored, to_document
from domain.standing.rules import assess
from domain.standing.service import cursor_of, refresh, sweep_due, verify, worklist
from domain.standing.worklist import WorklistFilter
from domain.store import KEYS_PER_READ, UnitOfWork
from domain.value.models import observation_key
from tests import factories as f
from tests.conftest import CommandCounter

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)


async def customers_with_scores(repos: Repositories, scores: list[int], **overrides: Any) -> list[Customer]:
    """One customer per NPS score, each having answered 40 days ago (no contact since)."""
    customers = [f.customer(**overrides) for _ in scores]
    await repos.customers.insert_many(customers)
    await repos.feedback.insert_many(
        [f.feedback(c, nps=s, occurred_at=NOW - 40 * DAY) for c, s in zip(customers, scores, strict=True)]
    )
    return customers


async def test_a_second_refresh_of_unchanged_customers_writes_nothing(
    repos: Repositories, uow: UnitOfWork
) -> None:
    customers = await customers_with_scores(repos, [9, 7, 3])
    ids = [c.id for c in customers]
    first = await refresh(repos, uow, ids, now=NOW)
    again = await refresh(repos, uow, ids, now=NOW)
    assert (first.standings, first.observations) == (3, 3)
    assert (again.standings, again.observations) == (0, 0)
    assert (await verify(repos, now=NOW)).differences == []


async def test_a_standing_computed_from_older_inputs_never_overwrites_a_newer_one(
    repos: Repositories, uow: UnitOfWork
) -> None:
    [customer] = await customers_with_scores(repos, [9])
    await refresh(repos, uow, [customer.id], now=NOW)
    read = (await repos.standings.get_many([customer.id]))[customer.id]
    # Someone else writes a newer standing meanwhile...
    await repos.feedback.insert_many([f.feedback(customer, nps=8, occurred_at=NOW - DAY)])
    await refresh(repos, uow, [customer.id], now=NOW)
    # ... so a write based on the version read before is refused, and the newer standing stays.
    stale = assess((await _history(repos, customer)), NOW - 5 * DAY)
    refused = await uow.run(lambda session: repos.standings.save([(read, stale)], session=session))
    assert refused == [customer.id]
    stored = (await repos.standings.get_many([customer.id]))[customer.id]
    assert stored.standing.action is NextBestAction.FOLLOW_UP
    assert stored.version == read.version + 1


class RacingDatabase:
    """The test's database, where another writer changes ``document`` of ``collection`` just after a
    read of that collection (once): between a transaction's check of the versions and its write."""

    def __init__(self, db: MongoDatabase, collection: str, document: str) -> None:
        self._db = db
        self._collection = collection
        self._document = document
        self.raced = False

    def __getitem__(self, name: str) -> Any:
        collection = self._db[name]
        if name != self._collection:
            return collection
        race = self

        class Raced:
            def __getattr__(self, attribute: str) -> Any:
                return getattr(collection, attribute)

            def find(self, *args: Any, **kwargs: Any) -> Any:
                return RacedCursor(collection.find(*args, **kwargs))

        class RacedCursor:
            def __init__(self, cursor: Any) -> None:
                self._cursor = cursor

            async def __aiter__(self) -> Any:
                async for document in self._cursor:
                    yield document
                if not race.raced:
                    race.raced = True
                    await collection.update_one({"_id": race._document}, {"$inc": {"version": 1}})

        return Raced()

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        return await self._db.command(*args, **kwargs)

    async def aggregate(self, *args: Any, **kwargs: Any) -> Any:
        return await self._db.aggregate(*args, **kwargs)


async def test_a_standing_changed_after_its_version_was_checked_is_not_overwritten(
    db: MongoDatabase, repos: Repositories, uow: UnitOfWork
) -> None:
    # The versions are read in the transaction and the standings written by id: a change committed in
    # between makes the write conflict, and the transaction, run again, finds the version taken.
    [customer] = await customers_with_scores(repos, [9])
    await refresh(repos, uow, [customer.id], now=NOW)
    read = (await repos.standings.get_many([customer.id]))[customer.id]
    racing = RacingDatabase(db, "standings", customer.id)
    standings = StandingRepository(racing)  # type: ignore[arg-type]
    other = replace(read.standing, priority=(read.standing.priority + 1) % 100)

    saved = await uow.run(lambda session: standings.save_all([(read, other)], session=session))

    assert racing.raced
    assert saved is False
    stored = (await repos.standings.get_many([customer.id]))[customer.id]
    assert stored.version == read.version + 1  # the other writer's change only
    assert stored.standing == read.standing


async def test_at_risk_are_the_detractors_of_the_window_and_those_with_an_open_alert(
    repos: Repositories, uow: UnitOfWork
) -> None:
    before, inside, after, happy = await customers_with_scores(repos, [9, 9, 9, 9])
    await repos.feedback.insert_many(
        [
            f.feedback(before, nps=2, occurred_at=NOW - 40 * DAY),
            f.feedback(inside, nps=2, occurred_at=NOW - 20 * DAY),
            f.feedback(inside, nps=9, occurred_at=NOW - 10 * DAY),  # a later answer does not undo it
            f.feedback(after, nps=2, occurred_at=NOW - 5 * DAY),
        ]
    )
    alerted = f.customer()
    await repos.customers.insert_many([alerted])
    await repos.alerts.insert_many([f.alert(alerted, f.feedback(alerted, nps=1, occurred_at=NOW - 90 * DAY))])
    await refresh(repos, uow, [c.id for c in (before, inside, after, happy, alerted)], now=NOW)
    found = await repos.standings.at_risk(NOW - 30 * DAY, NOW - 7 * DAY)
    assert sorted(c.customer_id for c in found) == sorted([inside.id, alerted.id])


class Raced(StandingRepository):
    """Another writer changes the first customer's standing right after this refresh has read it."""

    raced = False

    async def get_many(self, customer_ids: Sequence[str], *, records: bool = False) -> dict[str, Stored]:
        found = await super().get_many(customer_ids, records=records)
        if not self.raced:
            self.raced = True
            await self._collection.update_one({"_id": customer_ids[0]}, {"$inc": {"version": 1}})
        return found


async def test_a_batch_writes_one_command_per_collection_and_one_by_one_when_a_version_was_taken(
    settings: Settings, db: MongoDatabase
) -> None:
    commands = CommandCounter(counting=True)
    client = create_client(str(settings.mongodb_uri), event_listeners=[commands])
    try:
        repos = Repositories.on(client[db.name])
        uow = MongoUnitOfWork(client)
        customers = await customers_with_scores(repos, [9, 7, 3, 10, 0, 8])
        ids = sorted(c.id for c in customers)
        await refresh(repos, uow, ids, now=NOW)
        await repos.feedback.insert_many([f.feedback(c, nps=1, occurred_at=NOW - DAY) for c in customers])
        commands.names.clear()
        batched = await refresh(repos, uow, ids[1:], now=NOW)
        writes = [n for n in commands.names if n in ("update", "delete", "insert")]
        raced = await refresh(replace(repos, standings=Raced(client[db.name])), uow, ids[:1], now=NOW)
    finally:
        await client.close()

    # Five customers' standings, band counts, observations and value cells: one update command each.
    assert batched.standings == 5
    assert writes == ["update"] * 4
    # The taken version: the batch is written again one by one, and the customer recomputed from fresh reads.
    assert raced.standings == 1
    assert (await verify(Repositories.on(db), now=NOW)).differences == []


class InLists(monitoring.CommandListener):
    """The length of every ``$in`` list of the finds sent."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            self.lengths += _in_lengths(event.command.get("filter", {}))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _in_lengths(node: Any) -> list[int]:
    if isinstance(node, dict):
        found = [len(v) for k, v in node.items() if k == "$in"]
        return found + [n for k, v in node.items() if k != "$in" for n in _in_lengths(v)]
    if isinstance(node, list):
        return [n for item in node for n in _in_lengths(item)]
    return []


async def test_a_batch_larger_than_one_read_reads_its_customers_a_chunk_at_a_time_and_recomputes_them_all(
    settings: Settings, db: MongoDatabase
) -> None:
    # The embedded database compares each document a find returns with every value of its ``$in``: read
    # whole, the worker's batches of hundreds of customers cost it the customers squared.
    in_lists = InLists()
    client = create_client(str(settings.mongodb_uri), event_listeners=[in_lists])
    try:
        repos = Repositories.on(client[db.name])
        uow = MongoUnitOfWork(client)
        customers = await customers_with_scores(repos, [n % 11 for n in range(2 * KEYS_PER_READ + 5)])
        ids = [c.id for c in customers]
        await refresh(repos, uow, ids, now=NOW)
        await repos.feedback.insert_many([f.feedback(c, nps=1, occurred_at=NOW - DAY) for c in customers])
        in_lists.lengths.clear()
        done = await refresh(repos, uow, ids, now=NOW)
    finally:
        await client.close()

    assert done.standings == len(customers)
    assert max(in_lists.lengths) == KEYS_PER_READ
    assert (await verify(Repositories.on(db), now=NOW)).differences == []


def test_every_kind_of_record_names_a_field_of_the_records() -> None:
    # A history read again by kind replaces the field its kind names.
    assert {part.value for part in Part} == {field.name for field in fields(Records)}


class CollectionsRead(monitoring.CommandListener):
    """The collections read (``find`` and ``aggregate``) while ``counting`` is on."""

    def __init__(self) -> None:
        self.counting = False
        self.read: list[str] = []
        self.filters: dict[str, list[Any]] = {}  # of the finds, by collection

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.counting and event.command_name in ("find", "aggregate"):
            collection = str(event.command[event.command_name])
            self.read.append(collection)
            if event.command_name == "find":
                self.filters.setdefault(collection, []).append(event.command.get("filter"))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@contextlib.asynccontextmanager
async def counted_reads(
    settings: Settings, db: MongoDatabase
) -> AsyncIterator[tuple[Repositories, UnitOfWork, CollectionsRead]]:
    """Repositories and a unit of work on a client of their own, whose reads are noted while counting."""
    reads = CollectionsRead()
    client = create_client(str(settings.mongodb_uri), event_listeners=[reads])
    try:
        yield Repositories.on(client[db.name]), MongoUnitOfWork(client), reads
    finally:
        await client.close()


async def test_a_refresh_told_what_changed_reads_again_only_those_kinds_of_record(
    settings: Settings, db: MongoDatabase
) -> None:
    async with counted_reads(settings, db) as (repos, uow, reads):
        answered, bought, alerted = customers = await customers_with_scores(repos, [9, 9, 9])
        ids = sorted(c.id for c in customers)
        await refresh(repos, uow, ids, now=NOW)
        response, earlier = f.feedback(answered, nps=1, occurred_at=NOW - DAY), f.feedback(alerted, nps=2)
        await repos.feedback.insert_many([response, earlier])
        await repos.transactions.insert_many([f.transaction(bought, occurred_at=NOW - DAY)])
        alert = f.alert(alerted, earlier)
        await repos.alerts.insert(alert)
        # As the change stream tells them: the response and the alert as inserted, the purchase's kind.
        inserted = FeedbackRepository.answer_from(FeedbackRepository.to_document(response))
        changes = {
            answered.id: Changes(answers={response.id: inserted}),
            bought.id: Changes(reread={Part.PURCHASES}),
            alerted.id: Changes(reread={Part.ANSWERS}, opened_alerts={alert.id}),
        }
        reads.counting = True
        done = await refresh(repos, uow, ids, now=NOW, changes=changes)
        reads.counting = False

    assert done.standings == 3
    history = {"customers", "transactions", "feedback", "alerts", "cases", "interactions", "opportunities"}
    # Of the customers' records, only their profiles and the two kinds named for a read.
    assert sorted(set(reads.read) & history) == ["customers", "feedback", "transactions"]
    stored = await Repositories.on(db).standings.get_many(ids, records=True)
    assert stored[alerted.id].standing.open_alerts == 1
    assert stored[answered.id].standing.action is NextBestAction.RECOVER
    assert (await verify(Repositories.on(db), now=NOW)).differences == []


async def test_a_refresh_told_only_of_responses_inserted_reads_only_the_observations_of_their_months(
    settings: Settings, db: MongoDatabase
) -> None:
    async with counted_reads(settings, db) as (repos, uow, reads):
        answered, alerted = await customers_with_scores(repos, [9, 9])
        await repos.feedback.insert_many([f.feedback(answered, nps=7, occurred_at=NOW - 70 * DAY)])
        await refresh(repos, uow, [answered.id, alerted.id], now=NOW)
        response = f.feedback(answered, nps=1, occurred_at=NOW - DAY)
        await repos.feedback.insert_many([response])
        alert = f.alert(alerted, response)
        await repos.alerts.insert(alert)
        inserted = FeedbackRepository.answer_from(FeedbackRepository.to_document(response))
        changes = {
            answered.id: Changes(answers={response.id: inserted}),
            alerted.id: Changes(opened_alerts={alert.id}),  # in no observation
        }
        reads.counting = True
        done = await refresh(repos, uow, [answered.id, alerted.id], now=NOW, changes=changes)
        reads.counting = False

    month = response.occurred_at.astimezone(UTC).date().replace(day=1)
    # Only the observation of the response's month, by id; the earlier months' are neither read nor written.
    key = observation_key(answered.id, "UTC", month)
    assert reads.filters["valueObservations"][0] == {"_id": {"$in": [key]}}
    assert done.observations == 1
    assert (await verify(Repositories.on(db), now=NOW)).differences == []


async def test_a_profile_written_recomputes_every_observation_of_its_customer(
    repos: Repositories, uow: UnitOfWork, db: MongoDatabase
) -> None:
    (customer,) = await customers_with_scores(repos, [9])
    await repos.feedback.insert_many([f.feedback(customer, nps=3, occurred_at=NOW - 100 * DAY)])
    await refresh(repos, uow, [customer.id], now=NOW)
    # Churned since: within the windows after both responses (40 and 100 days ago).
    churned = {"status": CustomerStatus.CHURNED.value, "churnedAt": NOW - 20 * DAY}
    await db["customers"].update_one({"_id": customer.id}, {"$set": churned})

    done = await refresh(repos, uow, [customer.id], now=NOW, changes={customer.id: Changes(profile=True)})

    assert done.observations == 2
    assert (await verify(repos, now=NOW)).differences == []


def test_records_kept_with_a_standing_come_back_as_they_were_every_kind_of_record() -> None:
    customer = f.customer()
    at = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
    records = Records(
        purchases=(Purchase(at - DAY, Money(12_34, "EUR")), Purchase(at, Money(-5_00, "USD"))),
        answers=(
            Answer("a1", at - DAY, 3, None, Touchpoint.SUPPORT_CALL, "north", "MASS"),
            Answer("a2", at, None, 4, Touchpoint.STORE_VISIT, None, None),
        ),
        open_alert_ids=frozenset({"x", "y"}),
        cases=CaseSummary(at, 2),
        last_interaction_at=at,
        opportunities=(
            f.opportunity(customer, owner_id="e1"),
            f.opportunity(customer, expected_close_on=None, stage=OpportunityStage.WON),
        ),
    )

    assert records_from(records_document(records)) == records
    assert records_from(records_document(Records())) == Records()


async def test_records_kept_in_an_older_layout_are_not_used(repos: Repositories, db: MongoDatabase) -> None:
    (customer,) = await customers_with_scores(repos, [9])
    standing = assess(await _history(repos, customer), NOW)
    document = to_document(standing, 1) | {"records": {"purchases": [], "answers": []}}
    await db["standings"].insert_one(document)

    stored = (await repos.standings.get_many([customer.id], records=True))[customer.id]

    assert stored.records is None  # so the next recomputation reads the history whole


async def test_records_that_change_no_standing_are_still_kept_with_it(
    repos: Repositories, uow: UnitOfWork
) -> None:
    (customer,) = await customers_with_scores(repos, [9])
    await refresh(repos, uow, [customer.id], now=NOW)
    before = (await repos.standings.get_many([customer.id]))[customer.id].standing
    # A response without scores long ago: the standing stays what it was, its records do not.
    old = f.feedback(customer, nps=None, csat=None, occurred_at=NOW - 300 * DAY)
    await repos.feedback.insert_many([old])
    inserted = FeedbackRepository.answer_from(FeedbackRepository.to_document(old))

    done = await refresh(
        repos, uow, [customer.id], now=NOW, changes={customer.id: Changes(answers={old.id: inserted})}
    )

    stored = (await repos.standings.get_many([customer.id], records=True))[customer.id]
    assert stored.standing.same_as(before)
    assert done.standings == 1
    assert stored.records is not None
    assert old.id in {a.id for a in stored.records.answers}
    assert (await verify(repos, now=NOW)).differences == []


async def _history(repos: Repositories, customer: Customer) -> CustomerHistory:
    return (await read_histories(repos, [customer.id]))[customer.id]


async def test_the_worklist_filters_by_action_segment_and_owner(repos: Repositories, uow: UnitOfWork) -> None:
    mine = f.employee()
    promoters = await customers_with_scores(repos, [10, 10], consent=Consent(email=True), owner_id=mine.id)
    passives = await customers_with_scores(repos, [8, 7], segment=Segment.AFFLUENT)
    await refresh(repos, uow, [c.id for c in promoters + passives], now=NOW)

    async def ids(where: WorklistFilter) -> set[str]:
        page = await worklist(repos, where, regions=["north"], first=10, after=None)
        return {s.customer_id for s in page.items}

    assert await ids(WorklistFilter()) == {c.id for c in promoters + passives}
    assert await ids(WorklistFilter(actions=(NextBestAction.ADVOCATE,))) == {c.id for c in promoters}
    assert await ids(WorklistFilter(segments=("AFFLUENT",))) == {c.id for c in passives}
    assert await ids(WorklistFilter(owner_id=mine.id)) == {c.id for c in promoters}
    assert await ids(WorklistFilter(owner_id=f.next_id())) == set()
    assert (await worklist(repos, WorklistFilter(), regions=["south"], first=10, after=None)).items == []


async def test_paging_is_in_priority_order_and_stable_while_standings_change(
    repos: Repositories, uow: UnitOfWork
) -> None:
    rng = random.Random(7)  # noqa: S311
    scores = [rng.choice([3, 7, 8, 9, 10]) for _ in range(60)]
    customers = await customers_with_scores(repos, scores, consent=Consent(email=True, marketing=True))
    for customer in customers[::3]:  # some promoters have something to buy
        await repos.opportunities.insert_many([f.opportunity(customer, stage=OpportunityStage.PROPOSAL)])
    await refresh(repos, uow, [c.id for c in customers], now=NOW)
    moving = customers[::4]  # these change while the list is paged through
    stable = {c.id for c in customers} - {c.id for c in moving}

    async def keep_changing() -> None:
        for round_ in range(6):
            for customer in moving:
                score = rng.choice([0, 8, 10])
                at = NOW - (30 - round_) * timedelta(hours=1)
                await repos.feedback.insert_many([f.feedback(customer, nps=score, occurred_at=at)])
            await refresh(repos, uow, [c.id for c in moving], now=NOW)
            await asyncio.sleep(0)

    async def page_through() -> list[list[tuple[int, str]]]:
        pages, after = [], None
        while True:
            page = await worklist(repos, WorklistFilter(), regions=["north"], first=7, after=after)
            pages.append([(s.priority, s.customer_id) for s in page.items])
            if not page.has_next:
                return pages
            after = cursor_of(page.items[-1])
            await asyncio.sleep(0)

    changing = asyncio.create_task(keep_changing())
    pages = await page_through()
    await changing
    seen = [customer for page in pages for _, customer in page]
    for page in pages:
        priorities = [p for p, _ in page]
        assert priorities == sorted(priorities, reverse=True), page
    assert sorted(c for c in seen if c in stable) == sorted(stable)  # each stable customer once
    assert all(seen.count(c.id) <= 2 for c in moving)
    # The stable ones keep their order across pages too.
    order = [c for c in seen if c in stable]
    ranks = {s.customer_id: s for s in (await _standings(repos, stable))}
    assert [ranks[c].priority for c in order] == sorted((ranks[c].priority for c in order), reverse=True)


async def _standings(repos: Repositories, ids: set[str]) -> list[Standing]:
    return [s.standing for s in (await repos.standings.get_many(sorted(ids))).values()]


async def test_concurrent_sweeps_recompute_each_due_standing_exactly_once(
    repos: Repositories, uow: UnitOfWork
) -> None:
    customers = await customers_with_scores(repos, [2] * 12)  # recent detractors: RECOVER for 30 days
    await repos.feedback.insert_many([f.feedback(c, nps=2, occurred_at=NOW - DAY) for c in customers])
    await refresh(repos, uow, [c.id for c in customers], now=NOW)
    later = NOW + 40 * DAY  # the bad scores are no longer recent: every standing is due

    swept = await asyncio.gather(*(sweep_due(repos, uow, now=later, limit=5) for _ in range(3)))

    assert sum(swept) == len(customers)
    stored = await repos.standings.get_many([c.id for c in customers])
    assert {s.standing.action for s in stored.values()} == {NextBestAction.NONE}
    assert await sweep_due(repos, uow, now=later) == 0
    assert (await verify(repos, now=later)).differences == []


class StandingReads(monitoring.CommandListener):
    """The commands that read standings, as sent."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "aggregate" and event.command["aggregate"] == "standings":
            self.commands.append(
                {"aggregate": "standings", "pipeline": event.command["pipeline"], "cursor": {}}
            )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def a_standing(n: int, rng: random.Random) -> Standing:
    """A stored standing of a random action and priority in one of five regions."""
    action = rng.choice(list(NextBestAction))
    return Standing(
        customer_id=f"s{n:023x}",
        region=("north", "south", "east", "west", "central")[n % 5],
        segment=list(Segment)[n % len(Segment)].value,
        owner_id=f"e{n % 3}",
        priority=0 if action is NextBestAction.NONE else rng.randrange(1, 101),
        action=action,
        reasons=(),
        detractor_at=(),
        open_alerts=0,
        lifetime_value=Money(0, "EUR"),
        computed_at=NOW,
        recheck_at=None,
    )


async def test_a_worklist_page_reads_about_a_page_of_standings_however_many_customers(
    settings: Settings,
) -> None:
    """Each page's reads, explained by the database: the standings examined stay near the page's size at
    10x the customers, for the regions' worklist, a filtered one and an owner's."""
    reads = StandingReads()
    client = create_client(str(settings.mongodb_uri), event_listeners=[reads])
    examined: dict[int, list[int]] = {}
    try:
        for customers in (300, 3000):
            db = client[f"{settings.database_name}_{customers}"]
            try:
                await ensure_schema(db)
                repos = Repositories.on(db)
                rng = random.Random(customers)  # noqa: S311
                await repos.standings.replace_all([a_standing(n, rng) for n in range(customers)])
                regions = ["north", "south"]
                first = await worklist(repos, WorklistFilter(), regions=regions, first=20, after=None)
                pages = [
                    first,
                    await worklist(
                        repos, WorklistFilter(), regions=regions, first=20, after=cursor_of(first.items[-1])
                    ),
                    await worklist(
                        repos,
                        WorklistFilter(actions=(NextBestAction.GROW, NextBestAction.RETAIN)),
                        regions=regions,
                        first=20,
                        after=None,
                    ),
                    await worklist(
                        repos, WorklistFilter(owner_id="e1"), regions=regions, first=20, after=None
                    ),
                ]
                assert all(len(page.items) == 20 for page in pages)
                counts = []
                for command in reads.commands:
                    explained = await db.command({"explain": command, "verbosity": "executionStats"})
                    counts.append(explained["stages"][0]["$cursor"]["executionStats"]["totalDocsExamined"])
                examined[customers] = counts
                reads.commands.clear()
            finally:
                await client.drop_database(db.name)
    finally:
        await client.close()
    # A read per region and page; a band holds about 1.5 pages of what is asked for.
    assert len(examined[300]) == len(examined[3000]) == 8, examined
    assert max(examined[3000]) <= 100, examined
    assert sum(examined[3000]) <= 2 * sum(examined[300]) + 100, examined


async def test_the_band_collection_is_created_before_any_write_with_its_id_index_only(
    settings: Settings,
) -> None:
    """Band counts are written in the standings' transactions, so their collection must exist first; they
    are read by id only, so no other index costs their writes (an older database's is dropped)."""
    client = create_client(str(settings.mongodb_uri))
    db = client[f"{settings.database_name}_bands"]
    try:
        await ensure_schema(db)
        assert "worklistBands" in await db.list_collection_names()
        assert set(await db["worklistBands"].index_information()) == {"_id_"}
        await db["worklistBands"].create_index([("kind", 1)], name="kind_1")  # as earlier versions did
        await ensure_schema(db)  # a start on that database: the collection exists already
        assert set(await db["worklistBands"].index_information()) == {"_id_"}
    finally:
        await client.drop_database(db.name)
        await client.close()
