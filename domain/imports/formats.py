"""The two file formats: JSON lines (one object a line) and CSV (a header row, then one row a line)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum

from domain.imports.fields import Row, RowError


class FileFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


class FileError(ValueError):
    """The file as a whole cannot be read (for example a CSV header naming unknown columns)."""


def rows(
    lines: Iterable[str], file_format: FileFormat, allowed: frozenset[str]
) -> Iterator[tuple[int, Row | RowError]]:
    """Each data row with its line number in the file, or the reason it cannot be read."""
    if file_format is FileFormat.JSONL:
        yield from _json_lines(lines)
    else:
        yield from _csv_rows(lines, allowed)


def _json_lines(lines: Iterable[str]) -> Iterator[tuple[int, Row | RowError]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, RowError(f"not valid JSON ({error.msg})")
            continue
        yield number, value if isinstance(value, dict) else RowError("not a JSON object")


def _csv_rows(lines: Iterable[str], allowed: frozenset[str]) -> Iterator[tuple[int, Row | RowError]]:
    reader = csv.DictReader(iter(lines), restkey="\x00extra")
    header = reader.fieldnames or []
    unknown = sorted(set(header) - allowed)
    if unknown:
        raise FileError(f"unknown columns: {', '.join(unknown)}")
    for row in reader:
        if "\x00extra" in row:
            yield reader.line_num, RowError("more values than columns")
            continue
        if any(value is None for value in row.values()):
            yield reader.line_num, RowError("fewer values than columns")
            continue
        yield reader.line_num, {k: v for k, v in row.items() if v != ""}
