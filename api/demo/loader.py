"""Writes generated demo data through the repositories, one batch of bulk inserts at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from itertools import chain

from api.demo.generator import Batch, generate
from domain.aggregates.rollups import CellKey, count_in
from domain.aggregates.tally import Tally
from domain.repositories import Repositories


@dataclass(frozen=True, slots=True)
class LoadReport:
    """How many records of each collection were written."""

    employees: int = 0
    customers: int = 0
    transactions: int = 0
    interactions: int = 0
    cases: int = 0
    feedback: int = 0
    opportunities: int = 0
    alerts: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def plus(self, batch: Batch) -> LoadReport:
        """This report with ``batch`` counted in: its fields are named like the report's."""
        return LoadReport(*(getattr(self, f.name) + len(getattr(batch, f.name)) for f in fields(self)))


async def load(
    repos: Repositories,
    *,
    customers: int,
    seed: int = 1,
    as_of: datetime,
    progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Generate and insert ``customers`` customers with their records into an empty database, telling
    ``progress`` how many are done.

    A batch's collections are written concurrently, each in one unordered bulk insert, while the next
    batch is generated: generation runs on the event loop, so it fills the time spent waiting for the
    database. The feedback rollups are counted in memory as batches go and written last, in bulk.
    """
    report = LoadReport()
    cells: dict[CellKey, Tally] = {}
    writing: asyncio.Future[Batch] | None = None
    try:
        for batch in chain(generate(customers=customers, seed=seed, as_of=as_of), (None,)):
            if writing is not None:
                report = report.plus(await writing)
                if progress is not None:
                    progress(report.customers)
            if batch is not None:
                for feedback in batch.feedback:
                    count_in(cells, feedback, repos.rollups.zones)
            writing = None if batch is None else asyncio.ensure_future(_write(repos, batch))
            await asyncio.sleep(0)  # let the inserts start before the next batch is generated
    finally:
        if writing is not None:
            writing.cancel()  # only reached when generating or writing failed
    await repos.rollups.insert_cells(cells)
    return report


async def _write(repos: Repositories, batch: Batch) -> Batch:
    await asyncio.gather(
        repos.employees.insert_many(batch.employees),
        repos.customers.insert_many(batch.customers),
        repos.transactions.insert_many(batch.transactions),
        repos.interactions.insert_many(batch.interactions),
        repos.cases.insert_many(batch.cases),
        repos.feedback.insert_many(batch.feedback),
        repos.opportunities.insert_many(batch.opportunities),
        repos.alerts.insert_many(batch.alerts),
    )
    return batch
