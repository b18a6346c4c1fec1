"""Writes generated demo data through the repositories in bulk, and its rollup cells whole at the end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from itertools import chain

from api.demo.generator import Batch, generate
from api.demo.loop import demo_standards
from domain.aggregates.churn import LifecycleCounts, LifecycleKey, count_lifecycle
from domain.aggregates.rollups import CellKey, count_in
from domain.aggregates.tally import Tally
from domain.customers.repository import lifecycle_of
from domain.repositories import Repositories
from domain.store import UnitOfWork
from domain.tactical.service import check_windows

# Batches small enough that the next one is generated while the database stores the last, and progress
# moves steadily; large enough that each is a handful of bulk inserts.
LOAD_BATCH = 50


@dataclass(frozen=True, slots=True)
class LoadReport:
    """How many records of each collection were written, and how many rollup cells."""

    employees: int = 0
    customers: int = 0
    transactions: int = 0
    interactions: int = 0
    cases: int = 0
    feedback: int = 0
    opportunities: int = 0
    alerts: int = 0
    rollup_cells: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def plus(self, batch: Batch) -> LoadReport:
        """This report with ``batch``'s records counted in (its fields are named like the report's)."""
        counted = {f.name: getattr(self, f.name) + len(getattr(batch, f.name)) for f in fields(Batch)}
        return replace(self, **counted)

    def in_words(self) -> str:
        """What was loaded, as a person would say it."""
        records = [
            _count(self.transactions, "transaction"),
            _count(self.interactions, "interaction"),
            _count(self.cases, "case"),
            _count(self.feedback, "feedback response"),
            _count(self.opportunities, "opportunity", "opportunities"),
            _count(self.alerts, "alert"),
        ]
        return (
            f"{_count(self.customers, 'customer')} with {', '.join(records[:-1])} and {records[-1]}, "
            f"{_count(self.employees, 'employee')}, and {_count(self.rollup_cells, 'rollup cell')} "
            "for the aggregates"
        )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


async def load(
    repos: Repositories,
    *,
    customers: int,
    seed: int = 1,
    as_of: datetime,
    progress: Callable[[int], None] | None = None,
    cell_progress: Callable[[int, int], None] | None = None,
    batch_size: int = LOAD_BATCH,
    uow: UnitOfWork | None = None,
) -> LoadReport:
    """Generate and insert ``customers`` customers with their records into an empty database. With ``uow``,
    the demo's service standards are stored too and the tactical check runs once as of ``as_of``, as a
    server's first sweep would.

    ``progress`` hears how many customers are written after each batch, ``cell_progress`` how many rollup
    cells of how many. A batch's collections are written concurrently, each in one unordered bulk insert,
    while the next batch is generated: generation runs on the event loop, so it fills the time spent waiting
    for the database. The feedback is counted into rollup cells in memory as batches go, with the code
    ``customer360 rollups rebuild`` uses, and the cells are written whole, in bulk, at the end: the same
    figures as counting each response in as it is taken (``rollups verify`` agrees), in far fewer writes.
    The customers' lifecycle cells are counted and written the same way.
    """
    report = LoadReport()
    cells: dict[CellKey, Tally] = {}
    lifecycles: dict[LifecycleKey, LifecycleCounts] = {}
    writing: asyncio.Future[Batch] | None = None
    try:
        batches = generate(customers=customers, seed=seed, as_of=as_of, batch_size=batch_size)
        for batch in chain(batches, (None,)):
            if writing is not None:
                report = report.plus(await writing)
                if progress is not None:
                    progress(report.customers)
            if batch is not None:
                for feedback in batch.feedback:
                    count_in(cells, feedback, repos.rollups.zones)
                for customer in batch.customers:
                    count_lifecycle(lifecycles, lifecycle_of(customer), repos.lifecycles.zones)
            writing = None if batch is None else asyncio.ensure_future(_write(repos, batch))
            await asyncio.sleep(0)  # let the inserts start before the next batch is generated
    finally:
        if writing is not None:
            writing.cancel()  # only reached when generating or writing failed

    def cells_written(done: int) -> None:
        if cell_progress is not None:
            cell_progress(done, len(cells))

    cells_written(0)
    await repos.rollups.insert_cells(cells, progress=cells_written)
    await repos.lifecycles.insert_cells(lifecycles)
    if uow is not None:
        previous = 0
        for standard in demo_standards(as_of):
            await repos.standards.save(standard, read_version=previous)
            previous = standard.version
        await check_windows(repos, uow, now=as_of)
    return replace(report, rollup_cells=len(cells))


async def _write(repos: Repositories, batch: Batch) -> Batch:
    await asyncio.gather(
        repos.employees.insert_many(batch.employees),
        repos.customers.insert_many(batch.customers, count_lifecycles=False),
        repos.transactions.insert_many(batch.transactions),
        repos.interactions.insert_many(batch.interactions),
        repos.cases.insert_many(batch.cases),
        repos.feedback.insert_many(batch.feedback),
        repos.opportunities.insert_many(batch.opportunities),
        repos.alerts.insert_many(batch.alerts),
    )
    return batch
