"""Logs: JSON lines with the request id for log collectors, or short lines for a person at a terminal."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object, with the ``fields`` it carries (``extra={"fields": {...}}``)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["requestId"] = request_id
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        return orjson.dumps(entry).decode()


class ReadableFormatter(logging.Formatter):
    """One short line per record: local time, the level unless it is INFO, the message and how long it took.

    The request id is shown on warnings and errors, which a person may want to look up.
    """

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        level = "" if record.levelno == logging.INFO else f"{record.levelname} "
        line = f"{at} {level}{record.getMessage()}"
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and isinstance(fields.get("durationMs"), int | float):
            line += f" ({fields['durationMs']:.0f} ms)"
        request_id = getattr(record, "request_id", None)
        if request_id and record.levelno >= logging.WARNING:
            line += f" [request {request_id}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO", *, readable: bool = False) -> None:
    """Send every log line to stderr, as JSON or (``readable``) as short lines for a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ReadableFormatter() if readable else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
