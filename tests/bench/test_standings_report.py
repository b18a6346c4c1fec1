"""The closed loop's report with the standing worker off and on: each round's two runs compared by label."""

from __future__ import annotations

from bench.closed_loop import ClosedLoopResult
from bench.standings import render_closed_loop, round_order


def _run(per_second: float) -> ClosedLoopResult:
    return ClosedLoopResult(
        requests=100,
        failures=0,
        seconds=100 / per_second,
        reply_seconds=(0.1,),
        push_seconds=(0.01,),
        missed=0,
    )


def test_rounds_in_either_order_compare_the_worker_on_with_the_worker_off_of_the_same_round() -> None:
    # The second round runs on first: read as (off, on) by position, it reported +25 % instead of -20 %.
    runs = [
        ("worker off", _run(40.0)),
        ("worker on", _run(36.0)),
        ("worker on", _run(32.0)),
        ("worker off", _run(40.0)),
    ]
    text = "\n".join(render_closed_loop(runs, concurrency=8))
    assert "round by round: -10 %, -20 %; median **-15 %**" in text
    rows = [line for line in text.splitlines() if line.startswith(("| 1 |", "| 2 |"))]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| 1", "worker off"],
        ["| 1", "worker on"],
        ["| 2", "worker on"],
        ["| 2", "worker off"],
    ]


def test_the_rounds_alternate_which_of_off_and_on_runs_first() -> None:
    # Every round adds its data set to the same database: with on always second, a drift over the run
    # was charged to the worker.
    orders = [[label for label, _ in round_order(n)] for n in (1, 2, 3, 4)]
    assert orders == [["worker off", "worker on"], ["worker on", "worker off"]] * 2
