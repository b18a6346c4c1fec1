"""``python -m bench --only worker-cost`` recomputes the worker's batches on copies of one database and
replaces only its own section of the report. No figure is checked against a time: only that the run
completes with sane numbers and counts the worker's writes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROUND = re.compile(
    r"^\| (?P<round>\d+) \| (?P<customers>\d+) \| (?P<database>[\d.]+) \| (?P<response>[\d.]+) \| [\d.]+ \|$"
)


def test_the_worker_cost_scenario_runs_alone_and_keeps_the_rest_of_the_report(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n\n## 1000 customers\n\nfigures\n\n## Closed loop\n\nmore figures\n")
    command = [sys.executable, "-m", "bench", "--only", "worker-cost", "--worker-cost-customers", "20"]
    command += ["--worker-cost-responses", "10", "--worker-cost-rounds", "2", "--out", str(report)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

    text = report.read_text()
    start, end = text.index("## Standing worker: what a recomputation costs"), text.index("## Closed loop")
    assert text[:start] == "# Benchmarks\n\n## 1000 customers\n\nfigures\n\n"
    assert text[end:] == "## Closed loop\n\nmore figures\n"
    rounds = [m.groupdict() for m in map(ROUND.match, text[start:end].splitlines()) if m]
    assert [r["round"] for r in rounds] == ["1", "2"]
    # Each response's customer is recomputed (once, or again when a later change names it too).
    assert all(
        int(r["customers"]) >= 10 and min(float(r["database"]), float(r["response"])) > 0 for r in rounds
    )
    assert "| update | standings |" in text
