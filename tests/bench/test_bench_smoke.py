"""A tiny run of the bench command, so it cannot rot: every scenario and target lands in the report.

No figure is checked against a time; only that the run completes and reports sane, non-zero numbers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pymongo

from bench import aggregates, closed_loop, dashboard, standings, team_table
from bench.datasets import database_name
from bench.scenarios import SCENARIOS
from bench.server import TARGETS

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| (?P<scenario>[\w-]+) \| (?P<target>\w+) \| (?P<figures>.*) \|$")
CUSTOMERS = 110
AGGREGATES = (12, 24)  # customers of the aggregates' data sets
WORKLIST = (40,)  # customers of the worklist data set (the full bench compares sizes)
VALUE = (150,)  # transactions of the experience-value data set


def run_bench(command: list[str], mongodb_uri: str, *, timeout: float, made: Sequence[str]) -> None:
    """Runs the bench ``command`` against the suite's database and checks it exits 0; the data sets it
    ``made`` are dropped however it ended. ``timeout`` is generous: a loaded machine stretches a run
    several times."""
    try:
        finished = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, "MONGODB_URI": mongodb_uri},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        client: pymongo.MongoClient[dict[str, object]]
        with pymongo.MongoClient(mongodb_uri) as client:
            for name in made:
                client.drop_database(name)
    assert finished.returncode == 0, finished.stdout + finished.stderr


def test_the_bench_command_writes_a_report_with_every_scenario(mongodb_uri: str, tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    command = [sys.executable, "-m", "bench", "--sizes", str(CUSTOMERS), "--requests", "2", "--warmup", "0"]
    command += ["--concurrency", "2", "--out", str(report), "--log", str(tmp_path / "bench.log")]
    command += ["--closed-loop-requests", "3", "--dashboard-feedback", "100,200", "--dashboard-requests", "2"]
    command += ["--first-start-customers", "0"]  # tests/bench/test_first_start.py runs that one
    command += ["--worker-cost-customers", "0"]  # and tests/bench/test_worker_cost.py this one
    command += ["--aggregates-sizes", ",".join(map(str, AGGREGATES)), "--aggregates-requests", "1"]
    command += ["--tactical-feedback", "", "--loop-alerts", ""]  # their own run below
    command += ["--worklist-customers", "", "--value-transactions", ""]  # their own run below
    made = [
        database_name(CUSTOMERS, 1),
        *(dashboard.database_name(feedback, 1) for feedback in (100, 200)),
        *(aggregates.database_name(customers, 1) for customers in AGGREGATES),
    ]
    run_bench(command, mongodb_uri, timeout=600, made=made)

    text = report.read_text()
    rows = {(m["scenario"], m["target"]): m["figures"] for m in map(ROW.match, text.splitlines()) if m}
    for scenario in SCENARIOS:
        targets = [*TARGETS, *(["reference"] if scenario.reference else [])]
        for target in targets:
            shown = rows[(scenario.name, target)].split(" | ")
            # The database is the suite's own (MONGODB_URI): the bench does not measure its CPU.
            assert shown.pop(4) == "-"
            figures = dict(
                zip(
                    ("rps", "p50", "p99", "cpu", "sent", "fields", "us", "failed"),
                    map(float, shown),
                    strict=True,
                )
            )
            assert min(figures[f] for f in ("rps", "p50", "cpu", "fields", "us")) > 0, (scenario.name, target)
            assert figures["p50"] <= figures["p99"], (scenario.name, target)
            assert figures["sent"] >= 1, (scenario.name, target)
            assert figures["failed"] == 0, (scenario.name, target)
        if scenario.name.startswith("customer"):
            # The pipelines read a customer query in one command, plus the audit write.
            assert float(rows[(scenario.name, "pipelines")].split(" | ")[5]) <= 3, scenario.name
    assert "every target returned the same data: **False**" not in text
    assert "every target returned the same data: **not compared" not in text
    assert "- `customer-360`: compiled fully" in text
    [loop] = [line for line in text.splitlines() if line.startswith("| 3 |")]
    requests, failures, per_second, *latencies, missed, conflicts = (
        float(f) for f in loop.strip("| ").split(" | ")
    )
    assert (requests, failures, missed) == (3, 0, 0)
    assert conflicts >= 0  # write conflicts per 100 requests, read from both servers' metrics
    assert per_second > 0
    # Mutation latencies are positive; a push may beat the reply to its client, so push figures may not be.
    assert min(latencies[:2]) > 0

    board = [line for line in text.splitlines() if line.startswith(("| 100 |", "| 200 |"))]
    assert len(board) == 2
    for line in board:
        _, cells, per_second, p50, p99, cpu, commands, failures, _ = line.strip("| ").split(" | ")
        assert int(cells) > 0
        assert float(per_second) > 0
        assert float(commands) >= 1
        assert 0 < float(p50) <= float(p99)
        assert float(cpu) > 0
        assert failures == "0"
    assert board[0].split(" | ")[-1] == "- |"
    assert board[1].split(" | ")[-1] != "- |"  # the raw $group is timed on the largest

    section = text[text.index(aggregates.TITLE) :].split("\n## ")[0]
    measured = [line for line in section.splitlines() if line.startswith(("| churn", "| experience"))]
    assert len(measured) == len(aggregates.QUERIES)
    for line in measured:
        *_, small, large, ratio, commands = line.strip("| ").split(" | ")
        assert min(float(f) for f in (*small.split(", "), *large.split(", "))) > 0
        assert float(ratio.strip("*x")) > 0
        assert min(float(c) for c in commands.split(" / ")) >= 1


def test_only_the_tactical_check_loop_performance_and_closed_loop_replace_their_own_sections(
    mongodb_uri: str, tmp_path: Path
) -> None:
    report = tmp_path / "BENCHMARKS.md"
    earlier = (
        "# Benchmarks",
        "## 10 customers",
        "kept",
        "## Loop performance",
        "old",
        "## The cuts, step by step",
    )
    report.write_text("\n\n".join([*earlier, "kept too"]) + "\n")
    command = [sys.executable, "-m", "bench", "--only", "tactical,loop,closed-loop"]
    command += ["--tactical-feedback", "200,400", "--tactical-rounds", "2"]
    command += ["--loop-alerts", "30,60", "--loop-requests", "2", "--closed-loop-requests", "3"]
    command += ["--out", str(report), "--log", str(tmp_path / "bench.log")]
    made = [
        *(dashboard.database_name(feedback, 1) for feedback in (200, 400)),
        *(team_table.database_name(alerts, 1) for alerts in (30, 60)),
    ]
    run_bench(command, mongodb_uri, timeout=240, made=made)

    text = report.read_text()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## 10 customers",
        "## Loop performance",
        "## Tactical check",
        closed_loop.TITLE,
        "## The cuts, step by step",
    ]
    assert "kept\n" in text
    assert "kept too" in text
    assert "\nold\n" not in text
    checks = [line for line in text.splitlines() if line.startswith(("| 200 |", "| 400 |"))]
    assert len(checks) == 2
    tables = [line for line in text.splitlines() if line.startswith(("| 30 |", "| 60 |"))]
    assert len(tables) == 4  # a manager's and the board's table per size
    for line in tables:
        figures = line.strip("| ").split(" | ")
        assert int(figures[2]) > 0  # rows
        assert figures[-1] == "0"  # failures
    [loop] = [line for line in text.splitlines() if line.startswith("| 3 |")]
    assert loop.strip("| ").split(" | ")[:2] == ["3", "0"]  # requests, failures


def test_only_the_standings_section_measures_the_worklist_value_and_closed_loop_with_the_worker(
    mongodb_uri: str, tmp_path: Path
) -> None:
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n\n## 10 customers\n\nkept\n")
    command = [sys.executable, "-m", "bench", "--only", "standings", "--concurrency", "2"]
    command += ["--worklist-customers", ",".join(map(str, WORKLIST)), "--standings-requests", "2"]
    command += ["--value-transactions", ",".join(map(str, VALUE)), "--closed-loop-requests", "5"]
    command += ["--closed-loop-rounds", "1"]
    command += ["--out", str(report), "--log", str(tmp_path / "bench.log")]
    made = [
        *(standings.worklist_database(size, 1) for size in WORKLIST),
        *(standings.value_database(size, 1) for size in VALUE),
    ]
    run_bench(command, mongodb_uri, timeout=300, made=made)

    text = report.read_text()
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## 10 customers",
        standings.TITLE,
    ]
    assert "kept\n" in text
    # The worklist and experience value at their sizes, and the closed loop with the worker off and on.
    for size in (*WORKLIST, *VALUE):
        [row] = [line for line in text.splitlines() if line.startswith(f"| {size} |")]
        measured = row.strip("| ").split(" | ")
        assert 0 < float(measured[2]) <= float(measured[3]), row  # p50, p99
        assert float(measured[5]) >= 1, row  # database commands per request
        assert measured[6] == "0", row  # failures
    for label in ("worker off", "worker on"):
        [row] = [line for line in text.splitlines() if line.startswith(f"| 1 | {label} |")]
        cells = row.split(" | ")
        assert cells[2:4] == ["5", "0"], row  # requests, failures
        # Each server's CPU per request; the database's is not this machine's process here (MONGODB_URI).
        # Process CPU is counted in ticks of 10 ms: server A's five requests take several, but B's pushes
        # of five alerts can take less than one (CI read 0.00 once).
        assert float(cells[8]) > 0, row
        assert float(cells[9]) >= 0, row
        assert cells[10] == "-", row
        # With the worker on, the run waited until it caught up with every customer written.
        caught_up = cells[11]
        assert (caught_up == "-") if label == "worker off" else (float(caught_up) >= 0), row
        assert cells[12] == "-", row  # all three processes' CPU: not without the database's
        assert float(cells[13].rstrip(" |")) >= 0, row  # write conflicts per 100 requests
    assert "- Throughput with the worker on against off, round by round: " in text
    assert "- All rounds together: " in text


def test_only_scenarios_with_nothing_to_measure_leave_the_report_as_it_was(tmp_path: Path) -> None:
    # Asked for with no size (no customers, no data set), a scenario is left out as in a full run; the
    # aggregates with no size crashed the report's rendering, the first start measured a start regardless.
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\nkept\n")
    command = [sys.executable, "-m", "bench", "--only", "first-start,worker-cost,aggregates"]
    command += ["--first-start-customers", "0", "--worker-cost-customers", "0", "--aggregates-sizes", ""]
    command += ["--out", str(out)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert out.read_text() == "# Benchmarks\n\nkept\n"
