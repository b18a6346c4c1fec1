"""``loopPerformance`` at growing alert volumes: a manager's team table and the board's, through the server.

Each data set holds only employees (5 regions x 3 teams x 4 employees, and a manager per region) and
operational alerts raised over July to September 2026, handled as staff would (acknowledged, resolved,
some reopened or escalated, some customers answering again). The query reads the handling of the period's
alerts, so its cost grows with them: the figures show by how much.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from api.settings import Settings
from api.storage.client import MongoDatabase, create_client, ensure_schema
from auth.principal import Role
from auth.tokens import issue_dev_token
from bench.dashboard import insert_all
from bench.load import percentile, run
from bench.measure import commands_so_far
from bench.process import WORKER_OFF, ServerProcess, cpu_seconds
from domain.alerts.models import Alert, AlertReason, Recovery, Reply
from domain.alerts.repository import AlertRepository
from domain.alerts.rules import acknowledge, raise_alert, reopen, resolve
from domain.employees.models import Employee, EmployeeRole
from domain.feedback.models import Touchpoint
from domain.repositories import Repositories
from domain.standards.models import default_standard

REGIONS = ("north", "south", "east", "west", "central")
TEAMS = 3
PER_TEAM = 4
START = datetime(2026, 7, 1, tzinfo=UTC)
DAYS = 92
BATCH = 10_000
EMPLOYEES = """
query Team($filter: LoopFilter!) {
  loopPerformance(filter: $filter, groupBy: [EMPLOYEE], interval: MONTH) {
    periodStart employee { name } alerts acknowledgedInTimeShare resolvedInTimeShare medianMinutesToResolve
    p90MinutesToResolve escalations reopenRate open openOldestAgeHours recoveryShare meanNpsChange
  }
}
"""
TEAMS_QUERY = EMPLOYEES.replace("[EMPLOYEE]", "[TEAM, REGION]").replace("employee { name }", "team region")
PERIOD = {"filter": {"from": "2026-07-01", "to": "2026-09-30"}}


@dataclass(frozen=True, slots=True)
class TableSize:
    """One data set's figures for one caller."""

    alerts: int
    caller: str
    rows: int
    requests: int
    failures: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    commands: float


def database_name(alerts: int, seed: int) -> str:
    return f"bench_loop_{alerts}_s{seed}"


def staff() -> list[Employee]:
    people = []
    for region in REGIONS:
        manager = Employee(
            f"m-{region}",
            f"Manager {region}",
            f"m.{region}@example.com",
            EmployeeRole.MANAGER,
            (region,),
            f"{region}-lead",
            None,
        )
        people.append(manager)
        for team in range(TEAMS):
            for n in range(PER_TEAM):
                people.append(
                    Employee(
                        f"e-{region}-{team}-{n}",
                        f"Agent {region} {team}.{n}",
                        f"a.{region}.{team}.{n}@example.com",
                        EmployeeRole.FRONTLINE,
                        (region,),
                        f"{region}-{team + 1}",
                        manager.id,
                    )
                )
    return people


def alerts(count: int, seed: int, people: list[Employee]) -> list[Alert]:
    """``count`` alerts, handled; deterministic for a seed."""
    rng = random.Random(seed)
    frontline = [p for p in people if p.role is EmployeeRole.FRONTLINE]
    made = []
    for n in range(count):
        handler = rng.choice(frontline)
        region = handler.regions[0]
        raised = START + timedelta(seconds=rng.randrange(DAYS * 86400))
        nps = rng.randint(0, 6)
        alert = raise_alert(
            alert_id=f"{n:024x}",
            customer_id=f"c{rng.randrange(max(50, count // 2)):023x}",
            region=region,
            standard=default_standard(region, rng.choice(list(Touchpoint))),
            reasons=(AlertReason.LOW_NPS,),
            assignee_id=handler.id,
            now=raised,
            by="customer",
            nps=nps,
        )
        if rng.random() < 0.9:
            alert = acknowledge(alert, by=handler.id, now=raised + timedelta(minutes=rng.randint(5, 480)))
        if rng.random() < 0.8:
            done = raised + timedelta(hours=rng.randint(9, 96))
            reply = Reply("Sorry", "EMAIL", done)
            alert = resolve(alert, by=handler.id, now=done, resolution="Called back", reply=reply)
            if rng.random() < 0.05:
                again = done + timedelta(hours=2)
                standard = default_standard(region, Touchpoint(alert.touchpoint))
                alert = reopen(alert, by="customer", now=again, note=None, standard=standard)
                alert = resolve(
                    alert, by=handler.id, now=again + timedelta(hours=5), resolution="Again", reply=reply
                )
            if rng.random() < 0.4:
                at = done + timedelta(days=rng.randint(1, 20))
                alert = replace(alert, recovery=Recovery(f"f{n:023x}", rng.randint(0, 10), at))
        made.append(alert)
    return made


async def prepare(db: MongoDatabase, count: int, seed: int) -> float | None:
    """Load the data set unless it is there; the load time in seconds (None: reused).

    Alerts are loaded in bulk and their handling packed afterwards, as ``rollups rebuild`` does; a data set
    loaded before alerts were packed gets its packs only.
    """
    marker = await db["benchMeta"].find_one({"_id": "loop"})
    if marker is not None and marker.get("alerts") == count and marker.get("packed"):
        return None
    began = time.perf_counter()
    repos = Repositories.on(db)
    if marker is None or marker.get("alerts") != count:
        await db.client.drop_database(db.name)
        await ensure_schema(db)
        people = staff()
        await repos.employees.insert_many(people)
        made = alerts(count, seed, people)
        for start in range(0, len(made), BATCH):
            documents = [AlertRepository.to_document(a) for a in made[start : start + BATCH]]
            await insert_all(db, "alerts", documents)
    else:
        await ensure_schema(db)
    await repos.alert_handling.replace_all(repos.alerts.handling_documents())
    await db["benchMeta"].replace_one({"_id": "loop"}, {"alerts": count, "packed": True}, upsert=True)
    return time.perf_counter() - began


async def measure_tables(
    uri: str, *, sizes: list[int], requests: int, seed: int, log_path: Path
) -> list[TableSize]:
    """The manager's and the board's tables on each data set (kept for reuse)."""
    results = []
    client = create_client(uri, server_selection_timeout_ms=30_000)
    try:
        for size in sizes:
            db = client[database_name(size, seed)]
            print(f"loop performance: {size} alerts ...", flush=True)
            await prepare(db, size, seed)
            results += await _serve_and_measure(uri, db.name, size, requests, log_path)
    finally:
        await client.close()
    return results


async def _serve_and_measure(
    uri: str, name: str, size: int, requests: int, log_path: Path
) -> list[TableSize]:
    secret = secrets.token_urlsafe(32)
    settings = Settings(mongodb_uri=uri, database_name=name, jwt_secret=secret).token_settings()
    callers = {
        "manager, by employee": (
            issue_dev_token(settings, role=Role.MANAGER, subject="bench-manager", regions=list(REGIONS)),
            EMPLOYEES,
        ),
        "board, by team and region": (
            issue_dev_token(settings, role=Role.BOARD, subject="bench-board"),
            TEAMS_QUERY,
        ),
    }
    measured = []
    with ServerProcess(
        mongodb_uri=uri, database_name=name, jwt_secret=secret, log_path=log_path, env=WORKER_OFF
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
            for caller, (bearer, query) in callers.items():
                headers = {"authorization": f"Bearer {bearer}", "content-type": "application/json"}
                body: dict[str, Any] = {"query": query, "variables": PERIOD}
                path = "/stock/graphql"
                first = await http.post(path, json=body, headers=headers)
                answer = first.json()
                if not answer.get("data"):
                    raise RuntimeError(f"loopPerformance failed for the {caller}: {first.text[:2000]}")
                rows = len(answer["data"]["loopPerformance"])
                before, sent = cpu_seconds(server.pid), sum((await commands_so_far(http)).values())
                result = await run(http, path, _same(body), headers=headers, requests=requests, concurrency=1)
                cpu = (cpu_seconds(server.pid) - before) / max(1, requests)
                commands = (sum((await commands_so_far(http)).values()) - sent) / max(1, requests)
                measured.append(
                    TableSize(
                        alerts=size,
                        caller=caller,
                        rows=rows,
                        requests=result.requests,
                        failures=result.failures,
                        per_second=result.per_second,
                        p50_ms=percentile(result.latencies, 0.5) * 1000,
                        p99_ms=percentile(result.latencies, 0.99) * 1000,
                        cpu_ms=cpu * 1000,
                        commands=commands,
                    )
                )
    return measured


def _same(body: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
    return lambda _: body


def render(results: list[TableSize], *, requests: int, command: str, when: str) -> list[str]:
    """The report section."""
    lines = [
        "## Loop performance",
        "",
        f"`{command}` on {when}. Data sets hold only employees ({len(REGIONS)} regions x {TEAMS} teams x "
        f"{PER_TEAM} employees, a manager per region) and operational alerts raised over July to September "
        "2026, handled as staff would: 90 % acknowledged, 80 % resolved (5 % of those reopened and resolved "
        "again), 40 % of the resolved with the customer's next response (`bench/team_table.py`). A manager "
        "of every region asks for the quarter by month and employee, a board member by month, team and "
        f"region (the protected lattice); each {requests} times, one at a time, after one unmeasured "
        "request, through the server (stock executor).",
        "",
        "| alerts | caller | rows | req/s | p50 ms | p99 ms | server CPU ms/req | DB commands/req "
        "| failures |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.alerts} | {r.caller} | {r.rows} | {r.per_second:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.cpu_ms:.2f} | {r.commands:.1f} | {r.failures} |"
        )
    sizes = sorted({r.alerts for r in results})
    if len(sizes) >= 2:
        lines.append("")
        for caller in dict.fromkeys(r.caller for r in results):
            small = next(r for r in results if r.alerts == sizes[0] and r.caller == caller)
            large = next(r for r in results if r.alerts == sizes[-1] and r.caller == caller)
            ratio = large.p50_ms / small.p50_ms if small.p50_ms else 0.0
            lines.append(
                f"- {caller}: p50 at {large.alerts} against {small.alerts} alerts: **{ratio:.1f}x**, for "
                f"{large.alerts // max(1, small.alerts)}x the alerts."
            )
    return lines
