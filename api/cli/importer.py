"""``customer360 import``: reads a file in batches, upserts the valid rows by external id, reports the rest.

Rows are validated one by one (``domain/imports``); a bad row is reported with its line number and
reason and the others are still imported. Upserts are idempotent, so importing the same file again
changes nothing, and an interrupted import can simply be run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo.errors import DuplicateKeyError, PyMongoError

from api.storage.client import MongoDatabase, MongoUnitOfWork
from domain.customers.models import ExternalId
from domain.errors import Conflict
from domain.ids import new_id
from domain.imports.fields import Row, RowError
from domain.imports.formats import FileError, FileFormat, rows
from domain.imports.rows import (
    FIELDS,
    ImportKind,
    Pending,
    Upserted,
    customer_from_row,
    interaction_from_row,
    transaction_from_row,
)
from domain.repositories import Repositories
from domain.store import DuplicateKey

BATCH_ROWS = 500


@dataclass
class ImportReport:
    """What an import did: rows read, what the upserts did, and each rejected row with its reason."""

    kind: ImportKind
    rows: int = 0
    upserted: Upserted = field(default_factory=Upserted)
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        u = self.upserted
        imported = u.created + u.updated + u.unchanged
        return (
            f"{self.kind.value}: {self.rows} rows, {imported} imported ({u.created} created, {u.updated} "
            f"updated, {u.unchanged} unchanged), {len(self.rejected)} rejected"
        )


def format_of(path: Path, chosen: str | None) -> FileFormat:
    """The format named, else the one the file's extension says (.csv, else JSON lines)."""
    if chosen:
        return FileFormat(chosen)
    return FileFormat.CSV if path.suffix.lower() == ".csv" else FileFormat.JSONL


@dataclass
class _Batch:
    """Valid rows waiting to be written, with their line numbers."""

    lines: list[int] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)


class Importer:
    """Imports one file of one kind into ``db``."""

    def __init__(
        self,
        db: MongoDatabase,
        *,
        kind: ImportKind,
        source: str,
        now: datetime | None = None,
        rollup_zones: Sequence[str] = ("UTC",),
    ) -> None:
        self._repos = Repositories.on(db, rollup_zones=rollup_zones)
        self._uow = MongoUnitOfWork(db.client)
        self._kind = kind
        self._source = source
        self._now = now or datetime.now(UTC)
        self._seen: dict[ExternalId, int] = {}

    async def run(
        self, path: Path, file_format: FileFormat, *, progress: Callable[[int], None] | None = None
    ) -> ImportReport:
        """Imports ``path``; ``progress`` is told how many rows have been read after each batch."""
        report = ImportReport(self._kind)
        batch = _Batch()
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                for line, row in rows(handle, file_format, FIELDS[self._kind]):
                    report.rows += 1
                    self._take(line, row, batch, report)
                    if len(batch.items) >= BATCH_ROWS:
                        await self._flush(batch, report)
                        batch = _Batch()
                        if progress is not None:
                            progress(report.rows)
        except UnicodeDecodeError as error:
            raise FileError(f"the file is not UTF-8 ({error.reason})") from None
        await self._flush(batch, report)
        if progress is not None:
            progress(report.rows)
        report.rejected.sort()
        return report

    def _take(self, line: int, row: Row | RowError, batch: _Batch, report: ImportReport) -> None:
        try:
            if isinstance(row, RowError):
                raise row
            item = self._parse(row)
        except RowError as error:
            report.rejected.append((line, error.reason))
            return
        key = item.external_ids[0] if self._kind is ImportKind.CUSTOMERS else item.record.external_id
        if key in self._seen:
            report.rejected.append((line, f"externalId: {key.id!r} is already on line {self._seen[key]}"))
            return
        self._seen[key] = line
        batch.lines.append(line)
        batch.items.append(item)

    def _parse(self, row: Row) -> Any:
        if self._kind is ImportKind.CUSTOMERS:
            return customer_from_row(row, source=self._source, now=self._now, new_id=new_id())
        if self._kind is ImportKind.TRANSACTIONS:
            return transaction_from_row(row, source=self._source, new_id=new_id())
        return interaction_from_row(row, source=self._source, new_id=new_id())

    async def _flush(self, batch: _Batch, report: ImportReport) -> None:
        if not batch.items:
            return
        try:
            upserted, rejected = await self._write(batch)
        except (Conflict, DuplicateKey, PyMongoError) as error:
            if isinstance(error, PyMongoError) and not _is_duplicate(error):
                raise
            # Another import wrote some of these meanwhile: the retry finds them and updates instead.
            upserted, rejected = await self._write(batch)
        report.upserted += upserted
        report.rejected += rejected

    async def _write(self, batch: _Batch) -> tuple[Upserted, list[tuple[int, str]]]:
        if self._kind is ImportKind.CUSTOMERS:
            return await self._repos.customers.upsert_by_external_id(
                batch.items, now=self._now, uow=self._uow
            ), []
        pending: Sequence[Pending[Any]] = batch.items
        customers = await self._repos.customers.by_external_keys({p.customer for p in pending})
        records: list[Any] = []
        rejected: list[tuple[int, str]] = []
        for line, item in zip(batch.lines, pending, strict=True):
            customer = customers.get(item.customer)
            if customer is None:
                rejected.append((line, f"customerExternalId: no customer {item.customer.id!r}"))
                continue
            records.append(item.for_customer(customer))
        if self._kind is ImportKind.TRANSACTIONS:
            return await self._repos.transactions.upsert_by_external_id(records), rejected
        return await self._repos.interactions.upsert_by_external_id(records), rejected


def _is_duplicate(error: PyMongoError) -> bool:
    if isinstance(error, DuplicateKeyError):
        return True
    details: Any = getattr(error, "details", None) or {}
    codes = {e.get("code") for e in details.get("writeErrors", ())} if isinstance(details, dict) else set()
    return 11000 in codes
