"""Persistence of value observations and of the cells that add them up.

Cells are only ever changed by the difference between an observation as stored and as recomputed, in the
same transaction as the observation itself and conditional on its version: so a cell always holds exactly
the sum of the stored observations, and recomputing an unchanged customer writes nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from domain.scope import RowScope, any_of
from domain.store import Database, Document, IndexSpec, Session, VersionedWrite, write_all, write_versioned
from domain.value.models import (
    CellKey,
    NpsCategory,
    Observation,
    Outcome,
    ValueFigures,
    ValueWindow,
    cells_of,
)

OBSERVATIONS = "valueObservations"
CELLS = "valueCells"


@dataclass(frozen=True, slots=True)
class StoredObservation:
    """An observation as stored, with the version its next write is conditional on."""

    observation: Observation
    version: int


def slot_key(zone: str, window: ValueWindow, month: date) -> str:
    """The one indexed value a request selects cells by: zone, window and month."""
    return f"{zone}|{window.value}|{month.isoformat()}"


def _cell_id(key: CellKey) -> str:
    return json.dumps(
        [
            slot_key(key.zone, key.window, key.month),
            key.region,
            key.segment,
            key.touchpoint,
            key.category.value,
        ]
    )


def _observation_doc(observation: Observation, version: int) -> Document:
    return {
        "_id": observation.key,
        "customerId": observation.customer_id,
        "zone": observation.zone,
        "month": observation.month.isoformat(),
        "feedbackAt": observation.feedback_at,
        "region": observation.region,
        "segment": observation.segment,
        "touchpoint": observation.touchpoint,
        "category": observation.category.value,
        "outcomes": {
            window.value: {
                "before": dict(outcome.spend_before),
                "after": dict(outcome.spend_after),
                "repeat": outcome.repeat,
                "churned": outcome.churned,
            }
            for window, outcome in observation.outcomes.items()
        },
        "version": version,
    }


def _observation_from(document: Document) -> StoredObservation:
    observation = Observation(
        customer_id=document["customerId"],
        zone=document["zone"],
        month=date.fromisoformat(document["month"]),
        feedback_at=document["feedbackAt"],
        region=document["region"],
        segment=document["segment"],
        touchpoint=document["touchpoint"],
        category=NpsCategory(document["category"]),
        outcomes={
            ValueWindow(window): Outcome(
                {c: int(v) for c, v in o.get("before", {}).items()},
                {c: int(v) for c, v in o.get("after", {}).items()},
                bool(o.get("repeat")),
                bool(o.get("churned")),
            )
            for window, o in document.get("outcomes", {}).items()
        },
    )
    return StoredObservation(observation, int(document["version"]))


def _increments(figures: ValueFigures) -> dict[str, int]:
    paths = {"customers": figures.customers, "repeat": figures.repeat, "churned": figures.churned}
    for currency, (before, after) in figures.spend.items():
        paths[f"spend.{currency}.before"] = before
        paths[f"spend.{currency}.after"] = after
    return {path: n for path, n in paths.items() if n}


def _cell_from(document: Document) -> tuple[CellKey, ValueFigures]:
    zone, window, month = document["slot"].split("|")
    key = CellKey(
        zone,
        ValueWindow(window),
        date.fromisoformat(month),
        document["region"],
        document["segment"],
        document["touchpoint"],
        NpsCategory(document["category"]),
    )
    figures = ValueFigures(
        int(document.get("customers", 0)),
        int(document.get("repeat", 0)),
        int(document.get("churned", 0)),
        {c: [int(s.get("before", 0)), int(s.get("after", 0))] for c, s in document.get("spend", {}).items()},
    )
    return key, figures


def _identity(key: CellKey) -> Document:
    return {
        "slot": slot_key(key.zone, key.window, key.month),
        "region": key.region,
        "segment": key.segment,
        "touchpoint": key.touchpoint,
        "category": key.category.value,
    }


def _write(old: StoredObservation | None, new: Observation | None) -> VersionedWrite | None:
    """The write replacing the observation read (None: there was none) with ``new`` (None: removing it)."""
    if new is not None:
        return VersionedWrite.over(
            new.key, old.version if old is not None else None, partial(_observation_doc, new)
        )
    return VersionedWrite.removal(old.observation.key, old.version) if old is not None else None


class ValueRepository:
    """Observations (a few per customer) and cells; reads of cells are limited to the scope's regions."""

    def __init__(self, db: Database, scope: RowScope | None = None) -> None:
        self._db = db
        self._observations = db[OBSERVATIONS]
        self._cells = db[CELLS]
        self._scope = scope or RowScope.everything()

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        return [IndexSpec(OBSERVATIONS, (("customerId", 1),)), IndexSpec(CELLS, (("slot", 1),))]

    async def observations_of(
        self, customer_ids: Sequence[str], *, only: Mapping[str, Sequence[str]] | None = None
    ) -> dict[str, list[StoredObservation]]:
        """The stored observations of each of these customers: all of them, or for a customer in ``only``
        those of the keys it lists there (a read of a few documents by id, not of all of theirs)."""
        only = only or {}
        found: dict[str, list[StoredObservation]] = {c: [] for c in customer_ids}
        queries = []
        if whole := [c for c in customer_ids if c not in only]:
            queries.append({"customerId": {"$in": whole}})
        if keys := [key for c in customer_ids for key in only.get(c, ())]:
            queries.append({"_id": {"$in": keys}})
        for query in queries:
            async for document in self._observations.find(query):
                found[document["customerId"]].append(_observation_from(document))
        return found

    async def apply_all(
        self, changes: Sequence[tuple[StoredObservation | None, Observation | None]], *, session: Session
    ) -> bool:
        """``apply`` in ``session``'s transaction, in at most four commands whatever the number of changes;
        False, with nothing written, when any observation changed since it was read (``apply`` tells
        which)."""
        writes = [w for old, new in changes if (w := _write(old, new)) is not None]
        if not await write_versioned(self._db, OBSERVATIONS, writes, session=session):
            return False
        await self._move_cells(changes, session=session)
        return True

    async def _move_cells(
        self,
        changes: Sequence[tuple[StoredObservation | None, Observation | None]],
        *,
        session: Session | None,
    ) -> None:
        """Move the cells by the difference the (saved) changes make."""
        deltas: dict[CellKey, ValueFigures] = defaultdict(ValueFigures)
        for old, new in changes:
            for key, figures in cells_of(old.observation).items() if old else ():
                deltas[key].add(figures, -1)
            for key, figures in cells_of(new).items() if new else ():
                deltas[key].add(figures)
        statements = [
            {
                "q": {"_id": _cell_id(key)},
                "u": {"$inc": increments, "$setOnInsert": _identity(key)},
                "upsert": True,
            }
            for key, figures in sorted(deltas.items(), key=lambda kv: _cell_id(kv[0]))
            if (increments := _increments(figures))
        ]
        if statements:
            await write_all(self._db, "update", CELLS, statements, session=session)

    async def apply(
        self,
        changes: Sequence[tuple[StoredObservation | None, Observation | None]],
        *,
        session: Session,
    ) -> list[str]:
        """Replace observations as read (None: there was none) with recomputed ones (None: there is none
        any more), and move the cells by the difference, in ``session``'s transaction; the customers of
        observations that changed since they were read are returned, unchanged."""
        conflicts: list[str] = []
        saved_changes: list[tuple[StoredObservation | None, Observation | None]] = []
        for old, new in changes:
            if (write := _write(old, new)) is None:
                continue
            if not await write_versioned(self._db, OBSERVATIONS, [write], session=session):
                conflicts.append(new.customer_id if new is not None else old.observation.customer_id)  # type: ignore[union-attr]
                continue
            saved_changes.append((old, new))
        await self._move_cells(saved_changes, session=session)
        return conflicts

    async def cells(
        self, zone: str, window: ValueWindow, months: Sequence[date], where: Mapping[str, Sequence[str]]
    ) -> list[tuple[CellKey, ValueFigures]]:
        """The cells of these months whose axis values are among ``where``'s (region, segment, touchpoint)."""
        if self._scope.nothing or self._scope.customer_id is not None:
            return []
        narrow: dict[str, Any] = any_of(**where)
        if self._scope.regions is not None:
            allowed = set(self._scope.regions)
            asked = where.get("region")
            narrow["region"] = {"$in": [r for r in asked if r in allowed] if asked else sorted(allowed)}
        query = {"slot": {"$in": [slot_key(zone, window, m) for m in dict.fromkeys(months)]}, **narrow}
        found = [_cell_from(d) async for d in self._cells.find(query)]
        return [(key, figures) for key, figures in found if figures.customers]

    async def every_observation(self) -> AsyncIterator[Observation]:
        """Every stored observation (for verifying them)."""
        async for document in self._observations.find({}):
            yield _observation_from(document).observation

    async def every_cell(self) -> AsyncIterator[tuple[CellKey, ValueFigures]]:
        """Every stored cell (for verifying them)."""
        async for document in self._cells.find({}):
            yield _cell_from(document)

    async def replace_all(self, observations: Sequence[Observation]) -> None:
        """Drop every observation and cell and store these, with their cells (nothing else may write
        observations meanwhile)."""
        await self._observations.delete_many({})
        await self._cells.delete_many({})
        cells: dict[CellKey, ValueFigures] = defaultdict(ValueFigures)
        for observation in observations:
            for key, figures in cells_of(observation).items():
                cells[key].add(figures)
        documents = [_observation_doc(o, 1) for o in observations]
        for start in range(0, len(documents), 5000):
            await self._observations.insert_many(documents[start : start + 5000], ordered=False)
        await self.insert_cells(cells)

    async def insert_cells(self, cells: Mapping[CellKey, ValueFigures]) -> None:
        """Store whole new cells in bulk (where none of them exist yet)."""
        documents = []
        for key, figures in cells.items():
            document: Document = {"_id": _cell_id(key), **_identity(key)}
            for path, n in _increments(figures).items():
                *parents, leaf = path.split(".")
                node = document
                for part in parents:
                    node = node.setdefault(part, {})
                node[leaf] = n
            documents.append(document)
        for start in range(0, len(documents), 5000):
            await self._cells.insert_many(documents[start : start + 5000], ordered=False)
