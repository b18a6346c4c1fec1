"""BENCHMARKS.md: machine, command, date, the figures of every scenario and target, ratios, acceptance."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

from bench.datasets import DataSet
from bench.measure import Measurement
from bench.scenarios import SCENARIOS

CUTS = Path(__file__).with_name("CUTS.md")
CUT_HEADING = "## The cuts, step by step"
PACKAGES = ("strawberry-graphql", "graphql-core", "starlette", "uvicorn", "pymongo", "orjson")
Result = tuple[DataSet, float | None, Sequence[Measurement], dict[str, bool]]


def line(m: Measurement) -> str:
    """One measurement on one console line."""
    return (
        f"{m.scenario:<13} {m.target:<9} {m.per_second:7.1f} req/s  p50 {m.p50_ms:7.1f} ms  "
        f"p99 {m.p99_ms:7.1f} ms  cpu {m.cpu_ms:7.2f} ms/req  {m.commands:5.1f} cmd/req  "
        f"{m.fields} fields  {m.us_per_field:5.2f} us/field  failures {m.failures}"
    )


def machine() -> list[str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for row in info:
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        memory_kb = int(info.readline().split()[1])
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {memory_kb / 1024 / 1024:.0f} GiB",
        f"- OS: {platform.platform()}; Python {platform.python_version()}",
        f"- Packages: {versions}",
    ]


def _table(measurements: Sequence[Measurement]) -> list[str]:
    rows = [
        "| scenario | target | req/s | p50 ms | p99 ms | server CPU ms/req | DB commands/req "
        "| resolved fields | CPU µs/field | failures |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows += [
        f"| {m.scenario} | {m.target} | {m.per_second:.1f} | {m.p50_ms:.1f} | {m.p99_ms:.1f} "
        f"| {m.cpu_ms:.2f} | {m.commands:.1f} | {m.fields} | {m.us_per_field:.2f} | {m.failures} |"
        for m in measurements
    ]
    rows += ["", "DB commands per request by name:", ""]
    rows += [
        f"- {m.scenario} / {m.target}: " + ", ".join(f"{n} {c:g}" for n, c in m.by_name.items())
        for m in measurements
    ]
    return rows


def _find(measurements: Sequence[Measurement], scenario: str, target: str) -> Measurement | None:
    return next((m for m in measurements if m.scenario == scenario and m.target == target), None)


def _verdicts(measurements: Sequence[Measurement], same_json: dict[str, bool]) -> list[str]:
    """The ratios between executors and the targets they are held to, each with the figures it rests on."""
    executors = list(dict.fromkeys(m.target for m in measurements if m.target != "reference"))
    out: list[str] = []
    for scenario in ("customer-360", "customers-50"):
        reference = _find(measurements, scenario, "reference")
        if reference is None or not reference.cpu_ms:
            continue
        for target in executors:
            if (m := _find(measurements, scenario, target)) is not None:
                ratio = m.cpu_ms / reference.cpu_ms
                met = "meets" if ratio <= 1.5 else "misses"
                goal = f" ({met} ≤ 1.5)" if scenario == "customer-360" else ""
                out.append(
                    f"- {scenario}, server CPU per request, {target} / reference: "
                    f"{m.cpu_ms:.2f} / {reference.cpu_ms:.2f} ms = **{ratio:.2f}x**{goal}"
                )
        if scenario in same_json:
            out.append(f"- {scenario}: every target returned the same data: **{same_json[scenario]}**")
    reference_large = _find(measurements, "large", "reference")
    if reference_large is not None and reference_large.fields:
        for target in executors:
            if (m := _find(measurements, "large", target)) is not None:
                overhead = (m.cpu_ms - reference_large.cpu_ms) * 1000 / m.fields
                out.append(
                    f"- large response, GraphQL layer only ({target} CPU minus the reference's, per field): "
                    f"**{overhead:.2f} µs/field**"
                )
    stock = _find(measurements, "large", "stock")
    for target in executors:
        large = _find(measurements, "large", target)
        if large is None:
            continue
        text = f"- large response, {large.fields} fields: {target} **{large.us_per_field:.2f} µs/field**"
        if stock is not None and target != "stock" and stock.us_per_field:
            ratio = large.us_per_field / stock.us_per_field
            met = "meets" if ratio <= 0.5 else "misses"
            text += f", {ratio:.2f} of stock's {stock.us_per_field:.2f} ({met} ≤ 0.5)"
        out.append(text)
    for target in executors:
        fifty, one = _find(measurements, "customers-50", target), _find(measurements, "customers-1", target)
        if fifty is not None and one is not None:
            equal = "equal" if round(fifty.commands, 2) == round(one.commands, 2) else "DIFFERENT"
            out.append(
                f"- DB commands per request, {target}: `customers(first: 50)` {fifty.commands:.1f}, "
                f"`first: 1` {one.commands:.1f}: **{equal}**"
            )
    return out


def render(
    *,
    results: Sequence[Result],
    command: str,
    database: str,
    requests: int,
    concurrency: int,
    warmup: int,
    started: float,
    closed_loop: Sequence[str] = (),
    dashboard: Sequence[str] = (),
    first_start: Sequence[str] = (),
    more: Sequence[str] = (),
) -> str:
    """The whole report."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    text = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` (`{command}`) on {when}. Regenerate with the same command; this file is",
        "overwritten.",
        "",
        "## Machine",
        "",
        *machine(),
        f"- Database: {database}",
        "",
        "## Method",
        "",
        f"- Each scenario is sent to each target by {concurrency} concurrent clients (httpx, in the bench "
        f"process): {warmup} warm-up requests, then {requests} measured ones (a share of that for the "
        "slow, database-bound `customers-50` and `large`, and three times as many for `customer-360`, "
        "whose ratio to the reference moved by ±15 % between runs of 60; see `bench/scenarios.py`).",
        "- Targets: each executor serves the same schema and app at `/<executor>/graphql` in one server "
        "process (uvicorn, one worker); `reference` is a hand-written Starlette handler making the same "
        "database calls and returning the same JSON (`bench/reference.py`).",
        "- Server CPU per request: user + system time of the server process from `/proc/<pid>/stat` over the "
        "measured requests, divided by their number; the database runs in its own process and is not "
        "counted. DB commands per request: pymongo command monitoring inside the server process.",
        "- Resolved fields: every key of every object in one response's `data`. CPU µs/field: server CPU "
        "per request divided by that number, so it includes the database driver and HTTP costs too.",
        "",
        "Scenarios:",
        "",
        *(f"- `{s.name}`: {s.title}" for s in SCENARIOS),
        "- the first and second start of `customer360 serve`, the closed loop (`submitFeedback` and its "
        "pushed alert) and the board dashboard at growing feedback volumes: their own sections below.",
    ]
    for data, load_seconds, measurements, same_json in results:
        loaded = f"loaded in {load_seconds:.0f} s" if load_seconds is not None else "reused"
        text += [
            "",
            f"## {data.customers} customers",
            "",
            f"Database `{data.database_name}` ({loaded}).",
            "",
            *_table(measurements),
            "",
            "Ratios and acceptance:",
            "",
            *_verdicts(measurements, same_json),
        ]
    if first_start:
        text += ["", *first_start]
    if closed_loop:
        text += ["", *closed_loop]
    if dashboard:
        text += ["", *dashboard]
    text += more
    if CUTS.exists():
        text += ["", CUTS.read_text().strip()]
    return "\n".join(text) + "\n"


def replace_section(report: str, title: str, section: list[str]) -> str:
    """``report`` with its ``title`` section replaced by ``section``, or added before the closed loop's
    (or the dashboard's, or the cuts', else at the end)."""
    text = "\n".join(section).strip() + "\n"
    if title in report:
        start = report.index(title)
        end = report.find("\n## ", start + len(title))
        return report[:start] + text + (report[end:] if end >= 0 else "")
    for anchor in ("## Closed loop", "## Board dashboard", "## The cuts"):
        if anchor in report:
            at = report.index(anchor)
            return report[:at] + text + "\n" + report[at:]
    return report.rstrip("\n") + "\n\n" + text


def splice(report: str, sections: Mapping[str, Sequence[str]]) -> str:
    """``report`` with each of ``sections`` (keyed by its ``## `` heading) in place of the section of that
    heading, or inserted before the cuts (at the end when there are none); the rest is kept as it is."""
    lines = report.rstrip("\n").split("\n")
    for heading, section in sections.items():
        starts = [n for n, line in enumerate(lines) if line.startswith("## ")]
        if heading in lines:
            first = lines.index(heading)
            last = next((n for n in starts if n > first), len(lines))
            lines[first:last] = [*section, ""] if last < len(lines) else list(section)
        else:
            cuts = next((n for n in starts if lines[n] == CUT_HEADING), None)
            where = cuts if cuts is not None else len(lines)
            lines[where:where] = [
                *([""] if where == len(lines) else []),
                *section,
                *([""] if cuts is not None else []),
            ]
    return "\n".join(lines) + "\n"
