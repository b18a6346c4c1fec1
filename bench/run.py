"""``python -m bench``: create the data sets, start the server against them, measure, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from graphql import parse

from api.settings import Settings
from api.storage.embedded import EmbeddedDatabase
from auth.principal import Role
from auth.tokens import issue_dev_token
from bench import (
    aggregates,
    closed_loop,
    dashboard,
    datasets,
    first_start,
    report,
    standings,
    tactical_check,
    team_table,
    worker_cost,
)
from bench.closed_loop import measure_closed_loop
from bench.measure import Measurement, measure
from bench.process import ServerProcess, settle
from bench.scenarios import Scenario, by_name
from bench.server import TARGETS
from resolvers.pipeline import fallbacks
from resolvers.schema import build_schema


@dataclass
class SizeResult:
    """Everything measured on one data set."""

    data: datasets.DataSet
    load_seconds: float | None  # None when an existing data set was reused
    measurements: list[Measurement] = field(default_factory=list)
    # scenario -> every target answered alike (None: not compared, some target failed)
    same_json: dict[str, bool | None] = field(default_factory=dict)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default="1000,10000", help="customers per data set, comma-separated")
    parser.add_argument("--seed", type=int, default=1, help="seed of the demo data")
    parser.add_argument("--requests", type=int, default=120, help="measured requests per scenario and target")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once")
    parser.add_argument("--warmup", type=int, default=12, help="unmeasured requests before each measurement")
    parser.add_argument("--scenarios", help="comma-separated scenario names (default: all)")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="report to write")
    parser.add_argument(
        "--storage",
        default=".customer360/bench-db",
        help="embedded database directory (kept, so data sets are reused), or :memory:",
    )
    parser.add_argument("--log", type=Path, default=Path(".customer360/bench.log"), help="server log")
    parser.add_argument(
        "--closed-loop-requests",
        type=int,
        default=200,
        help="submitFeedback requests of the closed loop (0: skip)",
    )
    parser.add_argument(
        "--closed-loop-rounds",
        type=int,
        default=3,
        help="alternating rounds of the closed loop with the standing worker off and on (standings section)",
    )
    parser.add_argument(
        "--dashboard-feedback",
        default="10000,1000000",
        help="responses per board-dashboard data set, comma-separated (empty: skip); the raw $group is "
        "timed on the largest",
    )
    parser.add_argument("--dashboard-requests", type=int, default=30, help="measured dashboard requests")
    parser.add_argument(
        "--first-start-customers",
        type=int,
        default=400,
        help="demo customers of the first-start scenario (0: skip it)",
    )
    parser.add_argument(
        "--aggregates-sizes",
        default="1000,10000",
        help="customers per data set of the aggregates at BI sizes, comma-separated (empty: skip)",
    )
    parser.add_argument(
        "--aggregates-requests", type=int, default=15, help="measured requests per aggregate query and size"
    )
    parser.add_argument(
        "--tactical-feedback",
        default="10000,1000000",
        help="responses per tactical-check data set (the dashboard's), comma-separated (empty: skip)",
    )
    parser.add_argument(
        "--tactical-rounds", type=int, default=20, help="measured rounds of the tactical check"
    )
    parser.add_argument(
        "--loop-alerts",
        default="1000,100000",
        help="alerts per loop-performance data set, comma-separated (empty: skip)",
    )
    parser.add_argument("--loop-requests", type=int, default=20, help="measured loopPerformance requests")
    parser.add_argument(
        "--worklist-customers",
        default="1000,100000",
        help="customers per worklist data set, comma-separated (empty: skip)",
    )
    parser.add_argument(
        "--value-transactions",
        default="10000,1000000",
        help="transactions per experience-value data set, comma-separated (empty: skip)",
    )
    parser.add_argument(
        "--standings-requests", type=int, default=30, help="measured worklist and experience-value requests"
    )
    parser.add_argument(
        "--worker-cost-customers",
        type=int,
        default=300,
        help="customers of the standing worker's cost scenario (0: skip it)",
    )
    parser.add_argument(
        "--worker-cost-responses",
        type=int,
        default=200,
        help="responses the worker's cost scenario recomputes",
    )
    parser.add_argument(
        "--worker-cost-rounds", type=int, default=3, help="rounds of the worker's cost scenario"
    )
    parser.add_argument(
        "--only",
        help="comma-separated scenarios to run on their own (first-start, aggregates, worker-cost, tactical, "
        "loop, standings, closed-loop); their sections of --out are replaced and the rest of it is kept",
    )
    return parser


FIRST_START = "first-start"
AGGREGATES = "aggregates"
WORKER_COST = "worker-cost"
SECTIONS = {
    "tactical": "## Tactical check",
    "loop": "## Loop performance",
    "standings": standings.TITLE,
    "closed-loop": closed_loop.TITLE,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    if args.only:
        only = [name.strip() for name in args.only.split(",") if name.strip()]
        if unknown := [
            name for name in only if name not in (FIRST_START, AGGREGATES, WORKER_COST, *SECTIONS)
        ]:
            choices = ", ".join([FIRST_START, AGGREGATES, WORKER_COST, *SECTIONS])
            raise SystemExit(f"--only: unknown scenario {unknown[0]!r}; choose from {choices}")
        # A scenario asked for with no size to measure is left out, as in a full run: its section stays.
        if FIRST_START in only and args.first_start_customers > 0:
            _write_section(args.out, first_start.TITLE, _first_start(args, command.strip()))
        if WORKER_COST in only and args.worker_cost_customers > 0:
            _write_section(args.out, worker_cost.TITLE, _worker_cost(args, command.strip()))
        if AGGREGATES in only and args.aggregates_sizes.strip():
            with _database(args.storage, args.log) as (uri, _, _pid):
                section = _aggregates(args, uri, command.strip())
            _write_section(args.out, aggregates.TITLE, section)
        if rest := [name for name in only if name in SECTIONS]:
            with _database(args.storage, args.log) as (uri, _, db_pid):
                sections = _sections(uri, args, rest, command.strip(), db_pid=db_pid)
            existing = args.out.read_text() if args.out.exists() else "# Benchmarks\n"
            args.out.write_text(report.splice(existing, sections))
            print(f"wrote {', '.join(rest)} to {args.out}", flush=True)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    scenarios = by_name(args.scenarios.split(",") if args.scenarios else None)
    started = time.time()
    with _database(args.storage, args.log) as (uri, database_label, db_pid):
        results = [asyncio.run(_one_size(uri, db_pid, size, scenarios, args)) for size in sizes]
        feedback_sizes = [int(s) for s in args.dashboard_feedback.split(",") if s.strip()]
        board = None
        if feedback_sizes:
            board = asyncio.run(
                dashboard.measure_dashboard(
                    uri,
                    sizes=feedback_sizes,
                    requests=args.dashboard_requests,
                    raw_group_at=max(feedback_sizes),
                    seed=args.seed,
                    log_path=args.log,
                )
            )
        bi_sizes = _aggregates(args, uri, command.strip()) if args.aggregates_sizes.strip() else []
        sections = _sections(uri, args, list(SECTIONS), command.strip(), db_pid=db_pid)
    starts = _first_start(args, command.strip()) if args.first_start_customers > 0 else []
    worker = _worker_cost(args, command.strip()) if args.worker_cost_customers > 0 else []
    compiled = _fallbacks(scenarios, results[0].data if results else None, board_shown=bool(feedback_sizes))
    text = report.render(
        results=[(r.data, r.load_seconds, r.measurements, r.same_json) for r in results],
        command=command.strip(),
        database=database_label,
        requests=args.requests,
        concurrency=args.concurrency,
        warmup=args.warmup,
        started=started,
        dashboard=dashboard.render(board, requests=args.dashboard_requests) if board else [],
        first_start=starts,
        more=[line for lines in sections.values() for line in ["", *lines]],
        fallbacks=compiled,
    )
    if bi_sizes:
        text = report.replace_section(text, aggregates.TITLE, bi_sizes)
    if worker:
        text = report.replace_section(text, worker_cost.TITLE, worker)
    args.out.write_text(text)
    print(f"wrote {args.out}", flush=True)
    return 0


def _write_section(out: Path, title: str, section: list[str]) -> None:
    """``section`` in place of the report's ``title`` section, the rest of the report kept."""
    previous = out.read_text() if out.exists() else ""
    out.write_text(report.replace_section(previous, title, section))
    print(f"wrote the section {title.removeprefix('## ')!r} of {out}", flush=True)


def _aggregates(args: argparse.Namespace, uri: str, command: str) -> list[str]:
    """Measures churn and experience at BI sizes; the report's section."""
    sizes = [int(s) for s in args.aggregates_sizes.split(",") if s.strip()]
    timed, loads = asyncio.run(
        aggregates.measure_aggregates(
            uri, sizes=sizes, requests=args.aggregates_requests, seed=args.seed, log_path=args.log
        )
    )
    return aggregates.render(timed, loads, requests=args.aggregates_requests, command=command)


def _first_start(args: argparse.Namespace, command: str) -> list[str]:
    """Measures the first and second start of ``customer360 serve``; the report's section."""
    load = os.getloadavg()[0]
    print(f"first start: customer360 serve on an empty database ({args.first_start_customers} customers) ...")
    first, second = first_start.measure(customers=args.first_start_customers)
    for start in (first, second):
        print(f"  {start.label}: first answer {start.answer:.1f} s, Ctrl-C {start.stop:.1f} s", flush=True)
    return first_start.render(first, second, command=command, customers=args.first_start_customers, load=load)


def _worker_cost(args: argparse.Namespace, command: str) -> list[str]:
    """Measures what the standing worker's recomputation costs the database; the report's section."""
    customers, responses = (
        args.worker_cost_customers,
        min(args.worker_cost_responses, args.worker_cost_customers),
    )
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"worker cost: {responses} responses over {customers} customers, recomputed ...", flush=True)
    rounds = worker_cost.measure(customers=customers, responses=responses, rounds=args.worker_cost_rounds)
    for n, measured in enumerate(rounds, start=1):
        cost = measured.per_customer_ms(measured.database_seconds)
        print(f"  round {n}: {measured.customers} customers, {cost:.2f} ms of database CPU each", flush=True)
    return worker_cost.render(rounds, command=command, when=when, customers=customers, responses=responses)


def _sections(
    uri: str, args: argparse.Namespace, only: Sequence[str], command: str, *, db_pid: int | None
) -> dict[str, list[str]]:
    """The sections of ``only`` (tactical, loop, standings, closed-loop), measured; one whose sizes (or
    requests) are empty is left out."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    sections: dict[str, list[str]] = {}
    tactical_sizes = [int(s) for s in args.tactical_feedback.split(",") if s.strip()]
    if "tactical" in only and tactical_sizes:
        checks = asyncio.run(
            tactical_check.measure_checks(
                uri, sizes=tactical_sizes, rounds=args.tactical_rounds, seed=args.seed
            )
        )
        sections[SECTIONS["tactical"]] = tactical_check.render(checks, command=command, when=when)
    loop_sizes = [int(s) for s in args.loop_alerts.split(",") if s.strip()]
    if "loop" in only and loop_sizes:
        tables = asyncio.run(
            team_table.measure_tables(
                uri, sizes=loop_sizes, requests=args.loop_requests, seed=args.seed, log_path=args.log
            )
        )
        sections[SECTIONS["loop"]] = team_table.render(
            tables, requests=args.loop_requests, command=command, when=when
        )
    if "standings" in only and (args.worklist_customers.strip() or args.value_transactions.strip()):
        sections[SECTIONS["standings"]] = _standings(uri, args, db_pid=db_pid)
    if "closed-loop" in only and args.closed_loop_requests > 0:
        print("closed loop: submitFeedback through one process, alerts pushed by another ...", flush=True)
        loop = asyncio.run(
            measure_closed_loop(
                uri,
                requests=args.closed_loop_requests,
                concurrency=args.concurrency,
                log_path=args.log,
                db_pid=db_pid,
            )
        )
        sections[SECTIONS["closed-loop"]] = closed_loop.render(
            loop, concurrency=args.concurrency, command=command, when=when
        )
    return sections


def _fallbacks(
    scenarios: Sequence[Scenario], data: datasets.DataSet | None, *, board_shown: bool
) -> dict[str, list[str]]:
    """What each measured query reads outside the compiled pipelines (nothing: compiled fully)."""
    schema = build_schema(compiled=True)._schema
    found: dict[str, list[str]] = {}
    if data is not None:
        for scenario in scenarios:
            found[scenario.name] = fallbacks(schema, parse(scenario.document), scenario.variables(data, 0))
    if board_shown:
        found["board dashboard"] = fallbacks(schema, parse(dashboard.DASHBOARD), dashboard.VARIABLES)
    return found


def _standings(uri: str, args: argparse.Namespace, *, db_pid: int | None) -> list[str]:
    """Measures the worklist, experience value and the closed loop with and without the worker."""
    customers = [int(s) for s in args.worklist_customers.split(",") if s.strip()]
    transactions = [int(s) for s in args.value_transactions.split(",") if s.strip()]
    worklists, values = asyncio.run(
        standings.measure_standings(
            uri,
            customers=customers,
            transactions=transactions,
            requests=args.standings_requests,
            seed=args.seed,
            log_path=args.log,
            db_pid=db_pid,
        )
    )
    section = standings.render(worklists, values, requests=args.standings_requests)
    if args.closed_loop_requests > 0:
        runs = asyncio.run(
            standings.closed_loop_with_and_without(
                uri,
                requests=args.closed_loop_requests,
                concurrency=args.concurrency,
                log_path=args.log,
                rounds=args.closed_loop_rounds,
                db_pid=db_pid,
            )
        )
        section += ["", *standings.render_closed_loop(runs, concurrency=args.concurrency)]
    return section


@contextlib.contextmanager
def _database(storage: str, log: Path) -> Iterator[tuple[str, str, int | None]]:
    """MONGODB_URI when set, else an embedded SecantusDB started for the run (whose CPU is measured)."""
    if uri := os.environ.get("MONGODB_URI"):
        yield uri, "MongoDB at MONGODB_URI", None
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    server = EmbeddedDatabase(storage, log_path=log.with_name("bench-db.log"))
    # Kept data sets of a million records take minutes to open on a loaded machine, not seconds.
    server.start(timeout=600)
    try:
        yield server.uri, "SecantusDB 0.7.0b3 (embedded, its own process)", server.pid
    finally:
        server.stop()


async def _one_size(
    uri: str, db_pid: int | None, size: int, scenarios: Sequence[Scenario], args: argparse.Namespace
) -> SizeResult:
    print(f"data set: {size} customers (seed {args.seed}) ...", flush=True)
    began = time.perf_counter()
    data, loaded = await datasets.prepare(uri, customers=size, seed=args.seed)
    result = SizeResult(data, time.perf_counter() - began if loaded else None)
    secret = secrets.token_urlsafe(32)
    settings = Settings(mongodb_uri=uri, database_name=data.database_name, jwt_secret=secret)
    tokens = {
        Role.FRONTLINE: issue_dev_token(
            settings.token_settings(), role=Role.FRONTLINE, subject="bench-frontline", regions=data.regions
        )
    }
    server = ServerProcess(
        mongodb_uri=uri, database_name=data.database_name, jwt_secret=secret, log_path=args.log
    )
    with server:
        waited = await settle([server.pid, *([db_pid] if db_pid is not None else [])])
        print(f"  server and database quiet after {waited:.0f} s", flush=True)
        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as client:
            for scenario in scenarios:
                targets = [(name, f"/{name}/graphql") for name in TARGETS]
                if scenario.reference is not None:
                    targets.append(("reference", scenario.reference))
                headers = {
                    "authorization": f"Bearer {tokens[scenario.role]}",
                    "content-type": "application/json",
                }
                answers: list[Any] = []
                concurrency = scenario.concurrency or args.concurrency
                for target, path in targets:
                    measurement, shown = await measure(
                        client,
                        pid=server.pid,
                        path=path,
                        target=target,
                        scenario=scenario,
                        data=data,
                        headers=headers,
                        requests=max(1, round(args.requests * scenario.share)),
                        concurrency=concurrency,
                        warmup=max(1, round(args.warmup * scenario.share)),
                        db_pid=db_pid,
                    )
                    print(f"  {report.line(measurement)}", flush=True)
                    result.measurements.append(measurement)
                    answers.append(shown)
                measured = [m for m in result.measurements if m.scenario == scenario.name]
                result.same_json[scenario.name] = (
                    None if any(m.failed for m in measured) else all(a == answers[0] for a in answers)
                )
    return result
