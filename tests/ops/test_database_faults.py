"""The database misbehaves under a real server's load: a dropped connection, a crash, a freeze.

A single dropped connection is a blip the driver retries, not an outage: nothing is refused. When the
database really goes away (killed, or frozen and silent), every request already sent answers within
seconds, with UNAVAILABLE or its result, and every write that was acknowledged is still there after the
database restarts on its storage.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api.settings import Settings
from api.storage.client import create_client, ensure_schema
from api.storage.embedded import EmbeddedDatabase, free_port
from auth.principal import Role
from domain.customers.models import Customer
from domain.repositories import Repositories
from tests import factories as f
from tests.ops.faults import Proxy
from tests.ops.load import Load, Shot, wait_until
from tests.ops.test_graceful_shutdown import serve, served

# Reading unmasked personal data writes audit entries before the response: each 200 is a read and a write.
READ = "{ customers(first: 5) { edges { node { displayName emails } } } }"
SUBMIT = """mutation Submit($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { __typename ... on FeedbackSubmitted { feedback { id } } }
}"""
# Generous on a loaded machine, yet well short of the request time limit (15 s) that used to answer.
ANSWER_WITHIN = 10.0
DEADLINE = 60.0


@contextlib.contextmanager
def server(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """``customer360 serve`` against ``settings.mongodb_uri``; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = serve(settings, port, tmp_path / "server.log")
    try:
        wait_until(lambda: served(url), deadline=time.monotonic() + 30, message="serve did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


async def seed(uri: str, database_name: str) -> list[Customer]:
    client = create_client(uri)
    try:
        db = client[database_name]
        await ensure_schema(db)
        customers = [f.customer() for _ in range(5)]
        await Repositories.on(db).customers.insert_many(customers)
        return customers
    finally:
        await client.close()


def outcome(shot: Shot) -> tuple[int | None, tuple[str, ...]]:
    errors = (shot.body or {}).get("errors") or ()
    return shot.status, tuple(str(e.get("extensions", {}).get("code")) for e in errors)


def feedback(request_id: str) -> dict[str, Any]:
    occurred = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    entry = {"idempotencyKey": request_id, "channel": "APP", "touchpoint": "DELIVERY", "occurredAt": occurred}
    return {"query": SUBMIT, "variables": {"input": {**entry, "nps": 9}}}


def after(shots: list[Shot], moment: float) -> int:
    return sum(1 for s in shots if s.started > moment)


def outage(loads: tuple[Load, ...], began: float) -> None:
    """Keeps the database away longer than any answer may take, with requests refused meanwhile."""
    wait_until(
        lambda: (
            time.monotonic() > began + ANSWER_WITHIN + 1
            and sum(after(load.shots, began) for load in loads) >= 3
        ),
        deadline=time.monotonic() + DEADLINE,
        message="no request was answered while the database was away",
    )


def loads(url: str, token: Any, customer: Customer) -> tuple[Load, Load]:
    reads = Load(
        f"{url}/graphql", {"query": READ}, {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}, workers=2
    )
    writes = Load(
        f"{url}/graphql",
        feedback,
        {"Authorization": f"Bearer {token(Role.CUSTOMER, sub=customer.id)}"},
        workers=3,
    )
    return reads, writes


async def test_a_dropped_database_connection_is_retried_and_refuses_nothing(
    settings: Settings, token: Any, tmp_path: Path
) -> None:
    with EmbeddedDatabase(tmp_path / "db") as database, Proxy(database.port) as proxy:
        customers = await seed(database.uri, settings.database_name)
        settings = settings.model_copy(update={"mongodb_uri": proxy.uri})
        with server(settings, tmp_path) as url:
            reads, writes = loads(url, token, customers[0])
            reads.start()
            writes.start()
            try:
                wait_until(
                    lambda: writes.done() >= 10, deadline=time.monotonic() + DEADLINE, message="no load"
                )
                # Each command lost on its way to the database, or its reply lost after the database ran
                # it: reads, the audit entries a read writes, feedback written in a transaction, its commit.
                for command, collection, forwarded in (
                    ("find", None, False),
                    ("find", None, True),
                    ("insert", "audit", True),
                    ("insert", "audit", False),
                    ("insert", "feedback", True),
                    ("commitTransaction", None, True),
                    ("commitTransaction", None, False),
                ):
                    cut = proxy.cut(command, collection=collection, after_forwarding=forwarded)
                    assert cut.done.wait(DEADLINE), f"no {command} went through the proxy"
                    moment = time.monotonic()
                    wait_until(
                        lambda moment=moment: after(reads.shots + writes.shots, moment) >= 12,
                        deadline=time.monotonic() + DEADLINE,
                        message="the load stalled after a dropped connection",
                    )
            finally:
                reads.stop()
                writes.stop()
        # The database was up all along: every request succeeded, none was refused as UNAVAILABLE.
        outcomes = Counter(outcome(s) for s in reads.shots + writes.shots)
        assert set(outcomes) == {(200, ())}, outcomes
        await acknowledged_writes_stored(writes.shots, database.uri, settings.database_name, customers[0].id)
    assert len(proxy.cuts) == 7


def kill(database: EmbeddedDatabase) -> None:
    """SIGKILL: the process dies at once, its connections reset, nothing is flushed on the way out."""
    process = database._process
    assert process is not None
    process.kill()
    process.wait(timeout=30)
    database._process = None


def pause(database: EmbeddedDatabase, sig: signal.Signals) -> None:
    """SIGSTOP freezes the database with its connections open and silent; SIGCONT resumes it."""
    process = database._process
    assert process is not None
    process.send_signal(sig)


def check_answers(shots: list[Shot], fault: float) -> None:
    outcomes = Counter(outcome(s) for s in shots)
    assert set(outcomes) <= {(200, ()), (503, ("UNAVAILABLE",))}, outcomes
    in_flight = [s for s in shots if s.started < fault < s.ended]
    assert in_flight, "no request was in flight at the fault: the test proved nothing"
    slowest = max(s.ended - s.started for s in shots)
    assert slowest < ANSWER_WITHIN, f"a request waited {slowest:.1f} s for an answer"


async def acknowledged_writes_stored(shots: list[Shot], uri: str, database_name: str, subject: str) -> None:
    acknowledged = [
        s.request_id
        for s in shots
        if s.status == 200 and (s.body or {}).get("data", {}).get("submitFeedback", {}).get("feedback")
    ]
    assert acknowledged, "no write was acknowledged: the test proved nothing"
    client = create_client(uri)
    try:
        repos = Repositories.on(client[database_name])
        missing = [
            key for key in acknowledged if await repos.feedback.by_idempotency_key(subject, key) is None
        ]
    finally:
        await client.close()
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged writes are missing"


@contextlib.contextmanager
def killed(database: EmbeddedDatabase) -> Iterator[None]:
    """The database killed, then started again on the same storage and port: the server finds it by itself."""
    kill(database)
    yield
    database.start()


@contextlib.contextmanager
def frozen(database: EmbeddedDatabase) -> Iterator[None]:
    """The database frozen with its connections open, then resumed."""
    pause(database, signal.SIGSTOP)
    try:
        yield
    finally:
        pause(database, signal.SIGCONT)


async def fault_under_load(
    settings: Settings,
    token: Any,
    tmp_path: Path,
    fault: Callable[[EmbeddedDatabase], contextlib.AbstractContextManager[None]],
) -> None:
    """Reads and writes run while ``fault`` takes the database away; every answer is checked, and every
    acknowledged write must be stored once the database is back."""
    database = EmbeddedDatabase(tmp_path / "db")
    database.start()
    try:
        customers = await seed(database.uri, settings.database_name)
        settings = settings.model_copy(update={"mongodb_uri": database.uri})
        with server(settings, tmp_path) as url:
            reads, writes = loads(url, token, customers[0])
            reads.start()
            writes.start()
            began = 0.0
            try:
                wait_until(
                    lambda: writes.done() >= 10, deadline=time.monotonic() + DEADLINE, message="no load"
                )
                began = time.monotonic()
                with fault(database):
                    outage((reads, writes), began)
                back = time.monotonic()
                wait_until(
                    lambda: sum(1 for s in writes.shots if s.started > back and s.status == 200) >= 5,
                    deadline=time.monotonic() + DEADLINE,
                    message="service did not come back after the database did",
                )
            finally:
                reads.stop()
                writes.stop()
        check_answers(reads.shots + writes.shots, began)
        await acknowledged_writes_stored(writes.shots, database.uri, settings.database_name, customers[0].id)
    finally:
        database.stop()


async def test_requests_in_flight_when_the_database_dies_answer_within_seconds_and_lose_no_write(
    settings: Settings, token: Any, tmp_path: Path
) -> None:
    await fault_under_load(settings, token, tmp_path, killed)


async def test_requests_in_flight_when_the_database_freezes_answer_within_seconds(
    settings: Settings, token: Any, tmp_path: Path
) -> None:
    await fault_under_load(settings, token, tmp_path, frozen)
