"""The worklist at growing customer counts, experience value at growing transaction counts, through a server.

Both read what the standing worker keeps (standings with their rank index and band counts; value cells), so
their time should stay flat as the data grows. Each data set is synthetic and lean, made for the one query:

- worklist: customers over 5 regions and every segment, each with a standing of a random action and priority
  (stored whole, as ``standings rebuild`` stores them); a frontline member of one region pages by priority.
- experience value: 2,000 customers with a few NPS responses each and the given number of transactions over
  21 months; standings, observations and cells are rebuilt from that raw history (as ``standings rebuild``
  does); a board member asks for nine months by region and month.

The servers run with the standing worker off (``CUSTOMER360_STANDING_WORKER=false``), so nothing but the
measured requests uses the process. Data sets are kept in their databases and reused.
"""

from __future__ import annotations

import random
import secrets
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from api.settings import Settings
from api.storage.client import MongoDatabase, create_client, ensure_schema
from api.storage.standing_worker import rebuild_under_lease
from auth.principal import Role
from auth.tokens import issue_dev_token
from bench.closed_loop import ClosedLoopResult, measure_closed_loop
from bench.load import percentile, run
from bench.measure import commands_so_far
from bench.process import WORKER_OFF, WORKER_ON, ServerProcess, cpu_seconds, settle
from domain.crm.models import SalesChannel, Transaction
from domain.crm.repository import TransactionRepository
from domain.customers.models import Consent, Customer, CustomerStatus, ExternalId, Segment, Tier
from domain.feedback.models import Feedback, FeedbackChannel, Touchpoint
from domain.feedback.repository import FeedbackRepository
from domain.money import Money
from domain.repositories import Repositories
from domain.standing.models import NextBestAction, Reason, ReasonCode, Standing
from domain.standing.rules import BASE

REGIONS = ("north", "south", "east", "west", "central")
LAYOUT = "v1"  # changes whenever the data a size generates does, so an old data set is never reused
BATCH = 20_000
NOW = datetime(2026, 11, 15, tzinfo=UTC)
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 630  # to late September 2026
VALUE_CUSTOMERS = 2_000
RESPONSES_PER_CUSTOMER = 4

WORKLIST = """
query Worklist($after: String) {
  worklist(first: 20, after: $after) {
    edges { cursor node { id displayName segment standing { priority action reasons { code text } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
VALUE = """
query ExperienceValue {
  experienceValue(filter: {from: "2026-01-01", to: "2026-09-30", window: DAYS_30}, groupBy: [REGION],
                  interval: MONTH) {
    periodStart region category suppressed customers repeatPurchaseRate churnRate
    spend { currency meanBefore meanAfter change }
  }
}
"""
TITLE = "## Worklist and experience value"


@dataclass(frozen=True, slots=True)
class Measured:
    """One data set's figures."""

    size: int  # customers (worklist) or transactions (experience value)
    load_seconds: float | None  # None: reused
    requests: int
    failures: int
    commands: float  # database commands per request
    p50_ms: float
    p99_ms: float
    cpu_ms: float


def _customer(n: int, rng: random.Random) -> Customer:
    segments = list(Segment)
    return Customer(
        id=f"c{n:023x}",
        given_name=rng.choice(("Ana", "Ben", "Chloé", "Dario", "Eva", "Femi")),
        family_name=f"Bench{n}",
        emails=(f"bench{n}@example.com",),
        phones=(),
        address=None,
        birth_date=None,
        external_ids=(ExternalId("crm", f"BENCH{n}"),),
        segment=segments[n % len(segments)],
        tier=Tier.BRONZE,
        region=REGIONS[n % len(REGIONS)],
        owner_id=None,
        status=CustomerStatus.ACTIVE,
        lifetime_value=Money(rng.randrange(0, 2_000_000), "EUR"),
        consent=Consent(email=True, marketing=rng.random() < 0.5),
        tags=(),
        created_at=START,
        updated_at=START,
        version=1,
    )


def _standing(customer: Customer, rng: random.Random) -> Standing:
    action = rng.choice(list(NextBestAction))
    priority = 0 if action is NextBestAction.NONE else min(100, BASE[action] + rng.randrange(0, 30))
    return Standing(
        customer_id=customer.id,
        region=customer.region,
        segment=customer.segment.value,
        owner_id=customer.owner_id,
        priority=priority,
        action=action,
        reasons=(Reason(ReasonCode.NOTHING_DUE, "bench"),),
        detractor_at=(),
        open_alerts=0,
        lifetime_value=customer.lifetime_value,
        computed_at=NOW,
        recheck_at=None,
    )


def value_customers(transactions: int) -> int:
    """Customers of an experience-value data set: 2,000, fewer for tiny runs (a fifth of the transactions)."""
    return min(VALUE_CUSTOMERS, max(20, transactions // 5))


def worklist_database(customers: int, seed: int) -> str:
    return f"bench_worklist_{customers}_s{seed}_{LAYOUT}"


def value_database(transactions: int, seed: int) -> str:
    return f"bench_value_{transactions}_s{seed}_{LAYOUT}"


async def _reused(db: MongoDatabase, kind: str) -> bool:
    marker = await db["benchMeta"].find_one({"_id": kind})
    return marker is not None and marker.get("layout") == LAYOUT


async def prepare_worklist(db: MongoDatabase, customers: int, seed: int) -> float | None:
    """Customers with standings, unless a complete data set is there; the load time (None: reused)."""
    if await _reused(db, "worklist"):
        await ensure_schema(db)  # an index added since is built here, not in a server's start
        return None
    began = time.perf_counter()
    await db.client.drop_database(db.name)
    await ensure_schema(db)
    repos = Repositories.on(db)
    rng = random.Random(seed)
    made = [_customer(n, rng) for n in range(customers)]
    for start in range(0, customers, BATCH):
        await repos.customers.insert_many(made[start : start + BATCH])
        print(f"  {min(customers, start + BATCH)} / {customers} customers", flush=True)
    await repos.standings.replace_all([_standing(c, rng) for c in made])
    await db["benchMeta"].insert_one({"_id": "worklist", "layout": LAYOUT})
    return time.perf_counter() - began


async def prepare_value(db: MongoDatabase, transactions: int, seed: int) -> float | None:
    """Customers, responses, ``transactions`` purchases, their observations and cells (None: reused)."""
    if await _reused(db, "value"):
        await ensure_schema(db)  # an index added since is built here, not in a server's start
        return None
    began = time.perf_counter()
    await db.client.drop_database(db.name)
    await ensure_schema(db)
    repos = Repositories.on(db)
    rng = random.Random(seed)
    count = value_customers(transactions)
    customers = [_customer(n, rng) for n in range(count)]
    await repos.customers.insert_many(customers)

    def moment() -> datetime:
        return START + timedelta(seconds=rng.randrange(DAYS * 86400))

    responses = []
    for customer in customers:
        for k in range(RESPONSES_PER_CUSTOMER):
            at = moment()
            responses.append(
                Feedback(
                    id=f"f{customer.id[1:]}{k}",
                    customer_id=customer.id,
                    channel=FeedbackChannel.APP,
                    touchpoint=rng.choice(list(Touchpoint)),
                    occurred_at=at,
                    received_at=at,
                    nps=rng.randrange(11),
                    csat=None,
                    effort=None,
                    items=(),
                    comment=None,
                    transaction_id=None,
                    case_id=None,
                    interaction_id=None,
                    region=customer.region,
                    segment=customer.segment.value,
                )
            )
    await db["feedback"].insert_many([FeedbackRepository.to_document(f) for f in responses], ordered=False)
    for start in range(0, transactions, BATCH):
        chunk = []
        for n in range(start, min(transactions, start + BATCH)):
            customer = customers[rng.randrange(count)]
            chunk.append(
                Transaction(
                    id=f"t{n:023x}",
                    customer_id=customer.id,
                    region=customer.region,
                    amount=Money(rng.randrange(-2_000, 40_000), rng.choice(("EUR", "EUR", "EUR", "USD"))),
                    items=(),
                    channel=SalesChannel.ONLINE,
                    touchpoint="checkout",
                    occurred_at=moment(),
                )
            )
        await db["transactions"].insert_many(
            [TransactionRepository.to_document(t) for t in chunk], ordered=False
        )
        print(f"  {start + len(chunk)} / {transactions} transactions", flush=True)
    # Standings, observations and cells from raw history, as `customer360 standings rebuild` makes them.
    await rebuild_under_lease(db, repos, holder="bench")
    await db["benchMeta"].insert_one({"_id": "value", "layout": LAYOUT})
    return time.perf_counter() - began


async def measure_standings(
    uri: str,
    *,
    customers: list[int],
    transactions: list[int],
    requests: int,
    seed: int,
    log_path: Path,
    db_pid: int | None,
) -> tuple[list[Measured], list[Measured]]:
    """The worklist at each customer count and experience value at each transaction count; each measured once
    the server and the database (``db_pid``, when it is a process here) are quiet: a data set just generated
    keeps the database busy for a while after its last write."""
    quiet = [db_pid] if db_pid is not None else []
    worklists, values = [], []
    client = create_client(uri, server_selection_timeout_ms=30_000)
    try:
        for size in customers:
            db = client[worklist_database(size, seed)]
            print(f"worklist: {size} customers ...", flush=True)
            loaded = await prepare_worklist(db, size, seed)
            token = {"role": Role.FRONTLINE, "subject": "bench-frontline", "regions": ["north"]}
            body = {"query": WORKLIST, "variables": {"after": None}}
            worklists.append(
                Measured(size, loaded, *await _serve(uri, db.name, token, body, requests, log_path, quiet))
            )
        for size in transactions:
            db = client[value_database(size, seed)]
            print(f"experience value: {size} transactions ...", flush=True)
            loaded = await prepare_value(db, size, seed)
            token = {"role": Role.BOARD, "subject": "bench-board"}
            body = {"query": VALUE, "variables": {}}
            values.append(
                Measured(size, loaded, *await _serve(uri, db.name, token, body, requests, log_path, quiet))
            )
    finally:
        await client.close()
    return worklists, values


async def _serve(
    uri: str,
    name: str,
    token: dict[str, Any],
    body: dict[str, Any],
    requests: int,
    log_path: Path,
    quiet: list[int],
) -> tuple[int, int, float, float, float, float]:
    secret = secrets.token_urlsafe(32)
    bearer = issue_dev_token(
        Settings(mongodb_uri=uri, database_name=name, jwt_secret=secret).token_settings(), **token
    )
    headers = {"authorization": f"Bearer {bearer}", "content-type": "application/json"}
    server = ServerProcess(
        mongodb_uri=uri, database_name=name, jwt_secret=secret, log_path=log_path, env=WORKER_OFF
    )
    with server:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            path = "/stock/graphql"
            first = await http.post(path, json=body, headers=headers)
            assert "errors" not in first.json(), first.text
            await run(http, path, lambda n: body, headers=headers, requests=3, concurrency=1)
            await settle([server.pid, *quiet])
            before, sent = cpu_seconds(server.pid), sum((await commands_so_far(http)).values())
            result = await run(http, path, lambda n: body, headers=headers, requests=requests, concurrency=1)
            cpu = (cpu_seconds(server.pid) - before) / max(1, requests)
            commands = (sum((await commands_so_far(http)).values()) - sent) / max(1, requests)
    return (
        result.requests,
        result.failures,
        commands,
        percentile(result.latencies, 0.5) * 1000,
        percentile(result.latencies, 0.99) * 1000,
        cpu * 1000,
    )


def _table(results: list[Measured], unit: str) -> list[str]:
    lines = [
        f"| {unit} | load s | p50 ms | p99 ms | server CPU ms/req | DB commands/req | failures |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        load = f"{r.load_seconds:.0f}" if r.load_seconds is not None else "reused"
        lines.append(
            f"| {r.size} | {load} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.cpu_ms:.2f} | {r.commands:.1f} "
            f"| {r.failures} |"
        )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        lines += [
            "",
            f"- At {large.size} against {small.size} {unit}: p50 **{large.p50_ms / small.p50_ms:.2f}x**, "
            f"server CPU per request **{large.cpu_ms / small.cpu_ms:.2f}x**.",
        ]
    return lines


def render(worklists: list[Measured], values: list[Measured], *, requests: int) -> list[str]:
    """The report section."""
    return [
        TITLE,
        "",
        f"`python -m bench --worklist-customers ... --value-transactions ...`: one caller sends each query "
        f"{requests} times, one at a time, after 3 warm-up requests and once the server and the database "
        "are quiet, to a server process with the standing worker off (`bench/standings.py`). Worklist: a "
        "frontline member of one region (a fifth of the customers) asks for the first 20 by priority with "
        "their standings; each customer has a standing of a random action and priority. Experience value: "
        "a board member asks for nine months by region and "
        f"month over {VALUE_CUSTOMERS} customers (fewer in tiny runs) with {RESPONSES_PER_CUSTOMER} NPS "
        "responses each and the given number of transactions; its cells are rebuilt from that raw history "
        "first.",
        "",
        "### Worklist",
        "",
        *_table(worklists, "customers"),
        "",
        "### Experience value",
        "",
        *_table(values, "transactions"),
    ]


def round_order(round_number: int) -> tuple[tuple[str, dict[str, str]], ...]:
    """The closed loop's runs of one round (counted from 1), in order: off first in odd rounds, on first in
    even ones."""
    off, on = ("worker off", WORKER_OFF), ("worker on", WORKER_ON)
    return (off, on) if round_number % 2 else (on, off)


async def closed_loop_with_and_without(
    uri: str,
    *,
    requests: int,
    concurrency: int,
    log_path: Path,
    rounds: int = 1,
    db_pid: int | None = None,
) -> list[tuple[str, ClosedLoopResult]]:
    """The closed loop with the standing worker off (as before standings) and on, each on new data, in
    ``rounds`` pairs whose order alternates (off, on, on, off, off, on ...), so a drift over the run falls
    on both alike, each on a data set of a customer per request (at least 20): a run long enough for the
    worker's lag to be a small part of it needs more customers than the closed loop's own data set has.

    The drift is real: every round adds its data set to the same database, and one run's rounds with the
    worker off fell from 38.0 to 30.3 requests a second over its first seven. With the worker on always
    second, each pair charged it a share of that decline."""
    customers = max(20, requests)
    runs = []
    for round_number in range(1, rounds + 1):
        for label, env in round_order(round_number):
            print(f"closed loop, standing {label}, round {round_number} of {rounds} ...", flush=True)
            result = await measure_closed_loop(
                uri,
                requests=requests,
                concurrency=concurrency,
                log_path=log_path,
                env=env,
                customers=customers,
                db_pid=db_pid,
                catch_up=env is WORKER_ON,
            )
            runs.append((label, result))
            print(f"  {label}: {result.requests} requests, {result.per_second:.1f}/s", flush=True)
    return runs


def render_closed_loop(runs: list[tuple[str, ClosedLoopResult]], *, concurrency: int) -> list[str]:
    """The closed loop's throughput and latency with the standing worker off and on, round by round."""
    rounds = len(runs) // 2
    lines = [
        "### Closed loop with and without standing updates",
        "",
        f"The closed loop of the section below (`submitFeedback` of detractors by {concurrency} concurrent "
        "clients to process A, alerts pushed by process B), each run on fresh data: with the standing worker "
        "off in both processes, as before standings existed, and on, recomputing each customer the writes "
        "name (the write path itself does no standing work: the worker follows the change stream). Both "
        "start from data whose standings were rebuilt, so the worker only follows the writes; each round "
        "waits until both processes and the database are quiet (the data set was just written and the "
        "servers just started) before it sends its requests. Off and on "
        f"alternate, {rounds} round{'s' if rounds != 1 else ''} of each, in an order that alternates too "
        "(off then on, on then off, ...): each round adds its data set to the same database, and a drift "
        "over the run falls on both alike. CPU per request: what each process "
        "used while the requests were sent (the worker runs in the process that holds its lease), over the "
        "requests; the database's is its own process's (the embedded SecantusDB). With the worker on, the "
        "run also waits until the standings of every customer written have been recomputed: the worker's "
        "work left when the last reply came (caught up, seconds after it) counts in the last column, all "
        "three processes' CPU until then; with it off that column is the three processes' while the "
        "requests were sent. Write conflicts: the commands both processes saw fail with one over the same "
        "span (each a transaction run again whole), per 100 requests.",
        "",
        "| round | standing worker | requests | failures | req/s | mutation p50 ms | p99 ms | push p50 ms "
        "| A CPU ms/req | B CPU ms/req | DB CPU ms/req | caught up s | all CPU ms/req "
        "| write conflicts /100 req |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, (label, r) in enumerate(runs):
        lines.append(
            f"| {n // 2 + 1} | {label} | {r.requests} | {r.failures} | {r.per_second:.1f} "
            f"| {percentile(r.reply_seconds, 0.5) * 1000:.0f} "
            f"| {percentile(r.reply_seconds, 0.99) * 1000:.0f} "
            f"| {percentile(r.push_seconds, 0.5) * 1000:.0f} "
            f"| {r.per_request_ms(r.writer_cpu)} | {r.per_request_ms(r.pusher_cpu)} "
            f"| {r.per_request_ms(r.database_cpu)} "
            f"| {'-' if r.caught_up_seconds is None else f'{r.caught_up_seconds:.1f}'} "
            f"| {r.per_request_ms(r.all_cpu)} | {r.conflicts_per_hundred} |"
        )
    if any(r.failures or r.missed for _, r in runs):
        return [*lines, "", "- **FAILED**: requests failed or alerts were missed; no ratio is given."]
    pairs = [(by_label["worker off"], by_label["worker on"]) for by_label in _rounds(runs)]
    ratios = [on.per_second / off.per_second for off, on in pairs if off.per_second]
    if ratios:
        each = ", ".join(f"{(ratio - 1) * 100:+.0f} %" for ratio in ratios)
        on_pooled, off_pooled = _pooled(runs, "worker on"), _pooled(runs, "worker off")
        lines += [
            "",
            "- Throughput with the worker on against off, round by round: "
            f"{each}; median **{(statistics.median(ratios) - 1) * 100:+.0f} %**.",
            f"- All rounds together: {on_pooled:.1f} req/s with the worker on against {off_pooled:.1f} off "
            f"({(on_pooled / off_pooled - 1) * 100:+.0f} %).",
        ]
    costs = [(_cpu_per_request(off), _cpu_per_request(on)) for off, on in pairs]
    if costs and all(off and on for off, on in costs):
        extra = [on / off - 1 for off, on in costs if off and on]
        each = ", ".join(f"{e * 100:+.0f} %" for e in extra)
        lines.append(
            "- CPU per request of the two processes and the database together (the worker's catch-up "
            f"included), the worker on against off, round by round: {each}; median "
            f"**{statistics.median(extra) * 100:+.0f} %**."
        )
    return lines


def _rounds(runs: list[tuple[str, ClosedLoopResult]]) -> list[dict[str, ClosedLoopResult]]:
    """Each round's two runs, by label (a round's order alternates)."""
    return [dict(runs[k : k + 2]) for k in range(0, len(runs) - 1, 2)]


def _pooled(runs: list[tuple[str, ClosedLoopResult]], label: str) -> float:
    """Requests per second over every round of ``label``: all their requests over all their time."""
    chosen = [r for name, r in runs if name == label]
    seconds = sum(r.seconds for r in chosen)
    return sum(r.requests for r in chosen) / seconds if seconds else 0.0


def _cpu_per_request(result: ClosedLoopResult) -> float | None:
    """``ClosedLoopResult.all_cpu`` per request."""
    cpu = result.all_cpu
    return None if cpu is None or not result.requests else cpu / result.requests
