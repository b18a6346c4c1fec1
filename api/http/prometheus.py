"""Prometheus metrics of one application: operations, latency, database commands, subscriptions, alerts.

Each app has its own registry (no process-wide state). The active-subscription gauge reads the change feed's
own count when scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pymongo import monitoring

from domain.store import Database

logger = logging.getLogger("customer360.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The application's metrics and the few calls that update them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.operations = Counter(
            "customer360_graphql_operations",
            "GraphQL operations by operation (type and root fields) and outcome (ok or error code).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.operation_seconds = Histogram(
            "customer360_graphql_operation_seconds",
            "Time to answer a GraphQL operation, by operation.",
            ["operation"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.http_requests = Counter(
            "customer360_http_requests",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "customer360_http_request_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.db_commands = Counter(
            "customer360_db_commands",
            "MongoDB commands sent, by command name and outcome (ok, or the error's code name).",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.db_seconds = Histogram(
            "customer360_db_command_seconds",
            "MongoDB command round trips, by command name.",
            ["command"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.active_subscriptions = Gauge(
            "customer360_active_subscriptions",
            "GraphQL subscriptions currently running.",
            registry=self.registry,
        )
        self.database_available = Gauge(
            "customer360_database_available",
            "1 while the database takes commands, 0 while it is unavailable.",
            registry=self.registry,
        )
        self.alerts = Gauge(
            "customer360_alerts",
            "Alerts by state (counted when scraped).",
            ["state"],
            registry=self.registry,
        )
        self.command_listener = CommandMetrics(self)

    def operation_done(self, operation: str, outcome: str, seconds: float) -> None:
        self.operations.labels(operation, outcome).inc()
        self.operation_seconds.labels(operation).observe(seconds)

    def request_done(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_seconds.labels(route).observe(seconds)

    async def scrape(self, db: Database | None, *, available: bool) -> bytes:
        """The exposition text, with the alert counts read now (one aggregate) when the database is up."""
        self.database_available.set(1 if available else 0)
        if db is not None and available:
            try:
                counts = {
                    str(row["_id"]): int(row["n"])
                    async for row in await db["alerts"].aggregate(
                        [{"$group": {"_id": "$state", "n": {"$sum": 1}}}]
                    )
                }
            except Exception:  # a scrape must answer even when the count fails; the rest is still true
                logger.warning("could not count alerts for /metrics", exc_info=True)
            else:
                for state in {labels[0] for labels in self._alert_states()} - counts.keys():
                    counts[state] = 0
                for state, n in counts.items():
                    self.alerts.labels(state).set(n)
        return generate_latest(self.registry)

    def _alert_states(self) -> list[tuple[str, ...]]:
        return [
            tuple(sample.labels.values()) for metric in self.alerts.collect() for sample in metric.samples
        ]


class CommandMetrics(monitoring.CommandListener):
    """Counts every command the driver sends, by outcome, and times its round trip.

    A failure counts under its error's code name, so what each costs can be told apart: a write conflict
    (``WriteConflict``) means a transaction runs again whole, a network error the command is retried."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        return None

    def _done(
        self, event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent, outcome: str
    ) -> None:
        self._metrics.db_commands.labels(event.command_name, outcome).inc()
        self._metrics.db_seconds.labels(event.command_name).observe(event.duration_micros / 1e6)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event, "ok")

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._done(event, failure_name(event.failure))


def failure_name(failure: Mapping[str, Any]) -> str:
    """A failed command's outcome: the server's code name, else its code, else the driver's error (a
    network error has no code)."""
    name = failure.get("codeName") or failure.get("code") or failure.get("errtype")
    return str(name) if name is not None else "failed"
