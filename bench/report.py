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
from bench.process import QUIET_SHARE, QUIET_WINDOW
from bench.scenarios import SCENARIOS
from bench.server import TARGETS

CUTS = Path(__file__).with_name("CUTS.md")
CUT_HEADING = "## The cuts, step by step"
PACKAGES = ("strawberry-graphql", "graphql-core", "starlette", "uvicorn", "pymongo", "orjson")
Result = tuple[DataSet, float | None, Sequence[Measurement], dict[str, bool | None]]


def line(m: Measurement) -> str:
    """One measurement on one console line."""
    db = f"{m.db_cpu_ms:7.2f}" if m.db_cpu_ms is not None else "      -"
    return (
        f"{m.scenario:<13} {m.target:<9} {m.per_second:7.1f} req/s  p50 {m.p50_ms:7.1f} ms  "
        f"p99 {m.p99_ms:7.1f} ms  cpu {m.cpu_ms:7.2f} ms/req  db cpu {db} ms/req  {m.commands:5.1f} cmd/req  "
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
        "| scenario | target | req/s | p50 ms | p99 ms | server CPU ms/req | DB CPU ms/req | DB commands/req "
        "| resolved fields | CPU µs/field | failures |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in measurements:
        if m.failed:
            # Figures over failed requests mean nothing: the failure is the result.
            rows.append(
                f"| {m.scenario} | {m.target} | FAILED | - | - | - | - | - | - | - | "
                f"{m.failures} of {m.requests} |"
            )
            continue
        db = f"{m.db_cpu_ms:.2f}" if m.db_cpu_ms is not None else "-"
        rows.append(
            f"| {m.scenario} | {m.target} | {m.per_second:.1f} | {m.p50_ms:.1f} | {m.p99_ms:.1f} "
            f"| {m.cpu_ms:.2f} | {db} | {m.commands:.1f} | {m.fields} | {m.us_per_field:.2f} | 0 |"
        )
    rows += ["", "DB commands per request by name:", ""]
    rows += [
        f"- {m.scenario} / {m.target}: " + ", ".join(f"{n} {c:g}" for n, c in m.by_name.items())
        for m in measurements
        if not m.failed
    ]
    return rows


def _find(measurements: Sequence[Measurement], scenario: str, target: str) -> Measurement | None:
    """The measurement of a scenario on a target, unless it is missing or failed."""
    found = next((m for m in measurements if m.scenario == scenario and m.target == target), None)
    return found if found is not None and not found.failed else None


def _met(ratio: float, limit: float) -> str:
    return f"({'meets' if ratio <= limit else 'misses'} ≤ {limit:g})"


def _ratio_line(label: str, before: float, after: float, unit: str, limit: float | None) -> str:
    ratio = after / before if before else float("inf")
    goal = f" {_met(ratio, limit)}" if limit is not None else ""
    return f"- {label}: {before:.2f} → {after:.2f} {unit} = **{ratio:.2f}x**{goal}"


def _before_after(measurements: Sequence[Measurement]) -> list[str]:
    """Per scenario, the loaders (before) against the pipelines (after): commands, DB CPU, server CPU."""
    rows = [
        "| scenario | DB commands/req: stock, compiled → pipelines "
        "| DB CPU ms/req: stock, compiled → pipelines "
        "| server CPU ms/req: stock, compiled → pipelines | p50 ms: compiled → pipelines |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]

    def figure(m: Measurement | None, value: float | None, digits: int) -> str:
        return "FAILED" if m is None else ("-" if value is None else f"{value:.{digits}f}")

    for scenario in dict.fromkeys(m.scenario for m in measurements):
        stock, compiled, after = (
            _find(measurements, scenario, t) for t in ("stock", "compiled", "pipelines")
        )
        cells = []
        for attribute, digits in (("commands", 1), ("db_cpu_ms", 2), ("cpu_ms", 2)):
            values = [
                figure(m, getattr(m, attribute) if m else None, digits) for m in (stock, compiled, after)
            ]
            cells.append(f"{values[0]}, {values[1]} → {values[2]}")
        p50 = f"{figure(compiled, compiled.p50_ms if compiled else None, 1)} → "
        p50 += figure(after, after.p50_ms if after else None, 1)
        rows.append(f"| {scenario} | {' | '.join(cells)} | {p50} |")
    return rows


def _verdicts(measurements: Sequence[Measurement], same_json: dict[str, bool | None]) -> list[str]:
    """The targets of the compiled pipelines, each with the figures it rests on (before: the compiled
    executor on loaders; after: the same executor reading customers in one pipeline), and the ratios to
    the hand-written reference."""
    out: list[str] = []
    for scenario in ("customer-360", "customers-50", "customers-1", "customers-100"):
        after = _find(measurements, scenario, "pipelines")
        if after is not None:
            out.append(
                f"- {scenario}, DB commands per request with pipelines: **{after.commands:.1f}** "
                f"{_met(after.commands, 3)}"
            )
    sizes = [_find(measurements, s, "pipelines") for s in ("customers-1", "customers-50", "customers-100")]
    if all(m is not None for m in sizes):
        counts = [round(m.commands, 2) for m in sizes if m is not None]
        equal = "equal" if len(set(counts)) == 1 else "DIFFERENT"
        out.append(f"- DB commands per request with pipelines at first: 1, 50, 100: {counts}: **{equal}**")
    before, after = (
        _find(measurements, "customer-360", "compiled"),
        _find(measurements, "customer-360", "pipelines"),
    )
    if before is not None and after is not None:
        if before.db_cpu_ms is not None and after.db_cpu_ms is not None:
            out.append(
                _ratio_line("customer-360, DB CPU per request", before.db_cpu_ms, after.db_cpu_ms, "ms", 0.6)
            )
        out.append(
            _ratio_line("customer-360, server CPU per request", before.cpu_ms, after.cpu_ms, "ms", 0.75)
        )
    for scenario in ("customer-360", "customers-50"):
        before, after = _find(measurements, scenario, "compiled"), _find(measurements, scenario, "pipelines")
        if before is not None and after is not None:
            out.append(_ratio_line(f"{scenario}, p50 latency", before.p50_ms, after.p50_ms, "ms", 0.5))
    before, after = _find(measurements, "large", "compiled"), _find(measurements, "large", "pipelines")
    if before is not None and after is not None:
        out.append(
            _ratio_line(
                f"large response ({after.fields} fields), server CPU per resolved field",
                before.us_per_field,
                after.us_per_field,
                "µs",
                0.7,
            )
        )
    for scenario, same in same_json.items():
        shown = "not compared: a target failed" if same is None else str(same)
        out.append(f"- {scenario}: every target returned the same data: **{shown}**")
    out += ["", "Against the hand-written reference (server CPU per request):", ""]
    for scenario in ("customer-360", "customers-50", "large"):
        reference = _find(measurements, scenario, "reference")
        if reference is None or not reference.cpu_ms:
            continue
        for target in ("stock", "compiled", "pipelines"):
            if (m := _find(measurements, scenario, target)) is not None:
                out.append(
                    f"- {scenario}, {target} / reference: {m.cpu_ms:.2f} / {reference.cpu_ms:.2f} ms = "
                    f"**{m.cpu_ms / reference.cpu_ms:.2f}x**"
                )
    return out


def _compiled(fallbacks: dict[str, list[str]]) -> list[str]:
    return [
        f"- `{name}`: " + ("compiled fully" if not found else "falls back to loaders for " + ", ".join(found))
        for name, found in fallbacks.items()
    ]


def render(
    *,
    results: Sequence[Result],
    command: str,
    database: str,
    requests: int,
    concurrency: int,
    warmup: int,
    started: float,
    dashboard: Sequence[str] = (),
    first_start: Sequence[str] = (),
    more: Sequence[str] = (),
    fallbacks: dict[str, list[str]] | None = None,
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
        f"process; `customers-100` by 2): {warmup} warm-up requests, then {requests} measured ones (a share "
        "of that for the slow, database-bound `customers-50`, `customers-100` and `large`, and three times "
        "as many for `customer-360`, whose ratio to the reference moved by ±15 % between runs of 60; see "
        "`bench/scenarios.py`). Measuring starts once the server and the database have each used under "
        f"{QUIET_SHARE:.0%} of a core over a whole window of {QUIET_WINDOW:g} s (`bench/process.py` "
        "`settle`): a server started on a kept data set first recomputes the standings of what changed "
        "since a worker last ran on it.",
        "- Targets, one after the other on the same server process (uvicorn, one worker) and database, each "
        "the same schema and app at `/<target>/graphql`: "
        + "; ".join(f"`{name}`: {target.title}" for name, target in TARGETS.items())
        + ". `reference` is a hand-written Starlette handler making the loaders' database calls and "
        "returning the same JSON (`bench/reference.py`). Before: `stock` and `compiled` (the loaders); "
        "after: `pipelines`.",
        "- Server CPU per request: user + system time of the server process from `/proc/<pid>/stat` over the "
        "measured requests, divided by their number. DB CPU per request: the same for the database's own "
        "process (the embedded SecantusDB; not measured against `MONGODB_URI`), which also runs the "
        "server's idle change streams. DB commands per request: pymongo command monitoring inside the server "
        "process.",
        "- A target with any failed request (a status other than 200 or an error in the body, such as "
        "`TIMEOUT`) is reported as FAILED, without figures: they would average failures in. Scenarios "
        "with a failed target are not compared for equal data.",
        "- Resolved fields: every key of every object in one response's `data`. CPU µs/field: server CPU "
        "per request divided by that number, so it includes the database driver and HTTP costs too.",
        "",
        "Scenarios:",
        "",
        *(f"- `{s.name}`: {s.title}" for s in SCENARIOS),
        "- the first and second start of `customer360 serve`, what the standing worker's recomputation of a "
        "customer costs the database, the closed loop (`submitFeedback` and its pushed alert) and the board "
        "dashboard at growing feedback volumes: their own sections below.",
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
            "Before (the loaders) and after (one pipeline per root field), per request:",
            "",
            *_before_after(measurements),
            "",
            "Targets and ratios:",
            "",
            *_verdicts(measurements, same_json),
        ]
    if fallbacks:
        text += [
            "",
            "## Compiled pipelines",
            "",
            "Which queries the pipelines read whole, and what they leave to the loaders (read on demand, "
            "field by field):",
            "",
            *_compiled(fallbacks),
        ]
    if first_start:
        text += ["", *first_start]
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
