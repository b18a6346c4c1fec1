"""``python -m bench --only first-start`` times two starts of ``customer360 serve`` and replaces only its own
section of the report. No figure is checked against a time: only that the run completes with sane numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench.report import replace_section

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| (first|second): [^|]+ \| (?P<figures>.*) \|$")


def test_the_first_start_scenario_runs_alone_and_keeps_the_rest_of_the_report(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    before = "# Benchmarks\n\n## 1000 customers\n\nfigures\n\n## Closed loop\n\nmore figures\n"
    report.write_text(before)
    command = [sys.executable, "-m", "bench", "--only", "first-start", "--first-start-customers", "10"]
    done = subprocess.run(
        [*command, "--out", str(report)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr

    text = report.read_text()
    start, end = text.index("## First start"), text.index("## Closed loop")
    assert text[:start] == "# Benchmarks\n\n## 1000 customers\n\nfigures\n\n"
    assert text[end:] == "## Closed loop\n\nmore figures\n"
    rows = [m.group("figures").split(" | ") for m in map(ROW.match, text.splitlines()) if m]
    assert len(rows) == 2
    (database, loaded, banner, answer, server, db, stop), second = rows
    assert 0 < float(database) < float(loaded) < float(banner) <= float(answer)
    assert min(float(server), float(db), float(stop)) > 0
    assert second[:2] == ["-", "-"]  # the second start loads nothing
    assert "10 customers with " in text
    assert "First start to the first answer: **" in text


def test_a_new_run_replaces_the_section_it_wrote_before() -> None:
    report = "# Benchmarks\n\n## First start\n\nold\n\n## Closed loop\n\nkept\n"
    assert replace_section(report, "## First start", ["## First start", "", "new"]) == (
        "# Benchmarks\n\n## First start\n\nnew\n\n## Closed loop\n\nkept\n"
    )
