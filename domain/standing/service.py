"""Keeping customers' derived state (standing, experience-value observations) equal to their raw history.

``refresh`` recomputes the customers a change touched: it reads the stored versions, then the raw history,
computes, and writes in one transaction, each write conditional on the version read. Whatever order
concurrent refreshes run in, the last write of a customer was computed from inputs read after the write
before it; a refresh that finds its version taken retries with fresh reads. Recomputing a customer whose
inputs did not change writes nothing, so refreshing twice is harmless (idempotent).

A standing is stored with the records it was computed from. Told what changed since (``Changes``: the
standing worker knows it from the change stream), a refresh reads again only those kinds of record and
takes the rest from the stored standing: every change after those records were read has its own change,
which names its kind, still to come. So a standing is written whenever its records change, even when the
standing itself does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from domain.customer_history import Changes, CustomerHistory, Records, read_histories
from domain.customers.models import Segment
from domain.errors import InvalidInput
from domain.paging import Page, decode_cursor, encode_cursor
from domain.repositories import Repositories
from domain.standing.models import Standing
from domain.standing.repository import Stored
from domain.standing.rules import assess
from domain.standing.worklist import (
    WIDENING,
    WIDENINGS,
    WorklistFilter,
    band_end,
    bands_for,
    bands_of,
    expected,
    rank_of,
    valid_rank,
)
from domain.store import Session, UnitOfWork, read_by_chunks
from domain.value.models import CellKey, Observation, ValueFigures, cells_of, observation_key
from domain.value.observations import months_touched, observe
from domain.value.repository import StoredObservation

BATCH = 200
MAX_ATTEMPTS = 5
# A claimed standing not refreshed by then (its sweep died) is due again.
CLAIM = timedelta(minutes=5)
CURSOR_KIND = "worklist"


@dataclass(frozen=True, slots=True)
class Refreshed:
    """How many customers were recomputed, and how many standings and observations changed."""

    customers: int = 0
    standings: int = 0
    observations: int = 0

    def plus(self, other: Refreshed) -> Refreshed:
        return Refreshed(
            self.customers + other.customers,
            self.standings + other.standings,
            self.observations + other.observations,
        )


def value_zone(repos: Repositories) -> str:
    """The time zone observations are kept in: the reporting zone, the first one rollups are kept in."""
    return repos.rollups.zones[0]


async def refresh(
    repos: Repositories,
    uow: UnitOfWork,
    customer_ids: Sequence[str],
    *,
    now: datetime,
    value: bool = True,
    changes: Mapping[str, Changes] | None = None,
) -> Refreshed:
    """Recompute the standing (and, with ``value``, the observations) of these customers from raw data: all
    of it, or, given the ``changes`` since their standings were stored, the kinds of record changed."""
    pending = list(dict.fromkeys(customer_ids))
    done = Refreshed()
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        done = done.plus(await _refresh_batch(repos, uow, batch, now, value=value, changes=changes))
    return done


async def _refresh_batch(
    repos: Repositories,
    uow: UnitOfWork,
    customer_ids: list[str],
    now: datetime,
    *,
    value: bool,
    changes: Mapping[str, Changes] | None,
) -> Refreshed:
    pending, standings_changed, observations_changed = customer_ids, 0, 0
    zone = value_zone(repos)
    for _ in range(MAX_ATTEMPTS):
        # The versions first, then the inputs: a write conditional on a version is computed from inputs
        # read after that version was written.
        stored = await read_by_chunks(pending, partial(repos.standings.get_many, records=True))
        kept = _kept(stored) if changes is not None else None
        touched = _months_touched(kept, changes, zone)
        only = {c: [observation_key(c, zone, month) for month in months] for c, months in touched.items()}
        stored_observations = (
            await read_by_chunks(pending, partial(repos.value.observations_of, only=only)) if value else {}
        )
        histories = await read_histories(repos, pending, kept=kept, changes=changes)
        standings = _standing_changes(stored, histories, now)
        observations = _observation_changes(stored_observations, histories, zone, touched) if value else []
        if not standings and not observations:
            break
        records = {customer_id: history.records for customer_id, history in histories.items()}
        retried = set(await _write(repos, uow, standings, records, observations))
        standings_changed += sum(1 for _, s in standings if s.customer_id not in retried)
        observations_changed += sum(1 for old, new in observations if _owner(old, new) not in retried)
        pending, changes = sorted(retried), None  # read again whole: another write came between
        if not pending:
            break
    return Refreshed(len(customer_ids), standings_changed, observations_changed)


def _kept(stored: Mapping[str, Stored]) -> dict[str, Records]:
    return {customer_id: s.records for customer_id, s in stored.items() if s.records is not None}


def _months_touched(
    kept: Mapping[str, Records] | None, changes: Mapping[str, Changes] | None, zone: str
) -> dict[str, set[date]]:
    """The customers whose observations can have changed only in some months (those months): those
    recomputed from kept records whose changes inserted responses at most. The others' are all read."""
    if kept is None or changes is None:
        return {}
    touched = {c: months_touched(changes[c], zone) for c in kept if c in changes}
    return {c: months for c, months in touched.items() if months is not None}


class _Taken(Exception):
    """A version read was taken meanwhile: the batched write is abandoned for one write at a time."""


async def _write(
    repos: Repositories,
    uow: UnitOfWork,
    standings: list[tuple[Stored | None, Standing]],
    records: Mapping[str, Records],
    observations: list[tuple[StoredObservation | None, Observation | None]],
) -> list[str]:
    """Both kinds of change in one transaction; the customers whose versions were taken meanwhile.

    First a command per collection for all of them (what a change-stream batch costs the database does not
    grow with its customers); when a version was taken, that transaction is abandoned and each document is
    written on its own, which tells whose versions were taken."""

    async def at_once(session: Session) -> list[str]:
        if not await repos.standings.save_all(standings, records=records, session=session):
            raise _Taken
        if not await repos.value.apply_all(observations, session=session):
            raise _Taken
        return []

    async def one_by_one(session: Session) -> list[str]:
        conflicts = await repos.standings.save(standings, records=records, session=session)
        return conflicts + await repos.value.apply(observations, session=session)

    try:
        return await uow.run(at_once)
    except _Taken:
        return await uow.run(one_by_one)


def _standing_changes(
    stored: dict[str, Stored], histories: dict[str, CustomerHistory], now: datetime
) -> list[tuple[Stored | None, Standing]]:
    """The standings to write: those that differ from the stored ones, or were computed from other records
    (kept with the standing, they must be those of its last computation)."""
    changes = []
    for customer_id, history in histories.items():
        new = assess(history, now)
        old = stored.get(customer_id)
        if old is None or not old.standing.same_as(new) or old.records != history.records:
            changes.append((old, new))
    return changes


def _observation_changes(
    stored: dict[str, list[StoredObservation]],
    histories: dict[str, CustomerHistory],
    zone: str,
    touched: Mapping[str, set[date]],
) -> list[tuple[StoredObservation | None, Observation | None]]:
    """The observations to write; of a customer in ``touched``, only those of its months there were read
    and can differ."""
    changes: list[tuple[StoredObservation | None, Observation | None]] = []
    for customer_id, history in histories.items():
        old = {s.observation.key: s for s in stored.get(customer_id, ())}
        months = touched.get(customer_id)
        new = {o.key: o for o in observe(history, zone) if months is None or o.month in months}
        for key in sorted({*old, *new}):
            before, after = old.get(key), new.get(key)
            if before is None or after is None or before.observation != after:
                changes.append((before, after))
    return changes


def _owner(old: StoredObservation | None, new: Observation | None) -> str:
    return new.customer_id if new is not None else old.observation.customer_id  # type: ignore[union-attr]


async def sweep_due(repos: Repositories, uow: UnitOfWork, *, now: datetime, limit: int = 500) -> int:
    """Recompute the standings whose time-bound rules changed their answer by ``now``; safe in many
    processes at once: each due standing is claimed by one sweep (a conditional update) and recomputed
    by it alone. How many this sweep recomputed."""
    swept, more = 0, True
    while more:
        claimed, more = await repos.standings.claim_due(now, until=now + CLAIM, limit=limit)
        if claimed:
            await refresh(repos, uow, claimed, now=now, value=False)
            swept += len(claimed)
    return swept


@dataclass(frozen=True, slots=True)
class Recomputed:
    """Every customer's standing and observations computed from raw data, and the records they were
    computed from (by customer)."""

    standings: list[Standing]
    observations: list[Observation]
    records: dict[str, Records]


async def recompute_all(
    repos: Repositories, *, now: datetime, progress: Callable[[int], None] | None = None
) -> Recomputed:
    """Every customer's standing and observations computed from raw data."""
    recomputed = Recomputed([], [], {})
    zone = value_zone(repos)
    read = 0
    async for ids in repos.customers.ids(batch=BATCH):
        for customer_id, history in (await read_histories(repos, ids)).items():
            recomputed.standings.append(assess(history, now))
            recomputed.observations.extend(observe(history, zone))
            recomputed.records[customer_id] = history.records
        read += len(ids)
        if progress is not None:
            progress(read)
    return recomputed


async def rebuild(
    repos: Repositories, *, now: datetime, progress: Callable[[int], None] | None = None
) -> Refreshed:
    """Replace every standing, band, observation and cell with the recomputation from raw data (nothing
    else may refresh customers meanwhile: the command line takes the worker's lease first)."""
    recomputed = await recompute_all(repos, now=now, progress=progress)
    await repos.standings.replace_all(recomputed.standings, records=recomputed.records)
    await repos.value.replace_all(recomputed.observations)
    return Refreshed(len(recomputed.standings), len(recomputed.standings), len(recomputed.observations))


@dataclass(frozen=True, slots=True)
class Difference:
    """Something stored that is not what the raw data gives."""

    what: str
    key: str
    stored: str
    expected: str

    def describe(self) -> str:
        return f"{self.what} {self.key}: stored {self.stored}, raw data gives {self.expected}"


@dataclass(frozen=True, slots=True)
class Verified:
    """The differences found, and the standings only waiting for the time sweep (not differences)."""

    differences: list[Difference]
    due: int


async def verify(
    repos: Repositories, *, now: datetime, progress: Callable[[int], None] | None = None
) -> Verified:
    """Compare every standing (and the records kept with it), band, observation and cell with a
    recomputation from raw data."""
    recomputed = await recompute_all(repos, now=now, progress=progress)
    differences: list[Difference] = []
    due = 0
    expected_standings = {s.customer_id: s for s in recomputed.standings}
    stored: dict[str, Stored] = {}
    async for item in repos.standings.every():
        stored[item.standing.customer_id] = item
    for customer_id in sorted({*expected_standings, *stored}):
        wanted, kept = expected_standings.get(customer_id), stored.get(customer_id)
        found = kept.standing if kept is not None else None
        if kept is not None and kept.records != recomputed.records.get(customer_id):
            differences.append(Difference("records", customer_id, "kept", "other records"))
        if found is not None and found.recheck_at is not None and found.recheck_at <= now:
            due += 1
            continue
        if wanted is None or found is None or not found.same_as(wanted):
            differences.append(Difference("standing", customer_id, _describe(found), _describe(wanted)))
    differences += await _verify_bands(repos, [s.standing for s in stored.values()])
    differences += await _verify_value(repos, recomputed.observations)
    return Verified(differences, due)


async def _verify_bands(repos: Repositories, standings: list[Standing]) -> list[Difference]:
    """The band counts must count the stored standings (whatever those say)."""
    wanted: dict[str, dict[str, dict[int, int]]] = {}
    for standing in standings:
        for band in bands_of(standing.region, standing.segment, standing.owner_id):
            by_priority = wanted.setdefault(band, {}).setdefault(standing.action.value, {})
            by_priority[standing.priority] = by_priority.get(standing.priority, 0) + 1
    found: dict[str, dict[str, dict[int, int]]] = {}
    async for band, counts in repos.standings.every_band():
        kept = {a: {p: n for p, n in by.items() if n} for a, by in counts.items()}
        if kept := {a: by for a, by in kept.items() if by}:
            found[band] = kept
    return [
        Difference("band", band, str(found.get(band, {})), str(wanted.get(band, {})))
        for band in sorted({*wanted, *found})
        if found.get(band, {}) != wanted.get(band, {})
    ]


async def _verify_value(repos: Repositories, observations: list[Observation]) -> list[Difference]:
    differences = []
    wanted = {o.key: o for o in observations}
    found = {o.key: o async for o in repos.value.every_observation()}
    for key in sorted({*wanted, *found}):
        if wanted.get(key) != found.get(key):
            differences.append(Difference("observation", key, str(found.get(key)), str(wanted.get(key))))
    cells: dict[CellKey, ValueFigures] = {}
    for observation in observations:
        for cell, figures in cells_of(observation).items():
            cells.setdefault(cell, ValueFigures()).add(figures)
    stored_cells = {key: figures async for key, figures in repos.value.every_cell()}
    for cell in sorted({*cells, *stored_cells}, key=str):
        mine = cells.get(cell, ValueFigures()).comparable()
        theirs = stored_cells.get(cell, ValueFigures()).comparable()
        if mine != theirs:
            differences.append(Difference("value cell", str(cell), str(theirs), str(mine)))
    return differences


def _describe(standing: Standing | None) -> str:
    if standing is None:
        return "nothing"
    return (
        f"{standing.action.value} {standing.priority} ({', '.join(r.code.value for r in standing.reasons)})"
    )


async def worklist(
    repos: Repositories,
    where: WorklistFilter,
    *,
    regions: Sequence[str],
    first: int,
    after: str | None,
) -> Page[Standing]:
    """A page of the standings in scope matching ``where`` in worklist order, after the cursor ``after``.

    The counts of the request's bands say how far the page has to read (``domain.standing.worklist``);
    a band that turns out short is followed by wider ones, then by a read of the rest.
    """
    start = _rank_from(after) if after is not None else None
    bands = await repos.standings.band_counts(bands_for(where, regions, [s.value for s in Segment]))
    per_priority = expected(bands, where.actions)
    reach = first + 1
    end = band_end(per_priority, start, reach)
    found = await repos.standings.page(where, regions=regions, after=start, before=end, limit=reach)
    for widening in range(WIDENINGS + 1):
        if len(found) >= reach or end is None:
            break
        lower, missing = end, reach - len(found)
        end = band_end(per_priority, lower, WIDENING * missing) if widening < WIDENINGS else None
        found += await repos.standings.page(where, regions=regions, after=lower, before=end, limit=missing)
    return Page(found[:first], has_next=len(found) > first)


def cursor_of(standing: Standing) -> str:
    """The cursor pointing just after ``standing`` in the worklist."""
    return encode_cursor(CURSOR_KIND, rank_of(standing.priority, standing.customer_id))


def _rank_from(cursor: str) -> str:
    (rank,) = decode_cursor(CURSOR_KIND, cursor, parts=1)
    if not valid_rank(rank):
        raise InvalidInput("malformed cursor", field="after")
    return rank
