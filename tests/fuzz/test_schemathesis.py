"""Schemathesis fuzzes every query and mutation with a fixed seed: no 5xx, no masked internal error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.settings import Settings
from auth.principal import Role

REPO = Path(__file__).resolve().parents[2]
SEED = 20261124
EXAMPLES_PER_OPERATION = 30


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Fuzzing sends hundreds of operations as one caller: its budget would stop it, not find bugs.
    return settings.model_copy(update={"cost_budget_per_minute": 0})


def test_fuzzing_every_operation_finds_no_server_error_and_no_masked_error(
    live_server: str, token: Any, tmp_path: Path
) -> None:
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{live_server}/graphql",
            "--header",
            f"Authorization: Bearer {token(Role.FRONTLINE)}",
            "--checks",
            "no_5xx_status,no_masked_internal_error",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--workers",
            "2",
            "--generation-database",
            "none",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]

    metrics = httpx.get(f"{live_server}/metrics", timeout=10).text
    outcomes: dict[str, float] = {}
    statuses: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "customer360_graphql_operations_total":
                outcome = sample.labels["outcome"]
                outcomes[outcome] = outcomes.get(outcome, 0) + sample.value
            if sample.name == "customer360_http_requests_total":
                statuses[sample.labels["status"]] = statuses.get(sample.labels["status"], 0) + sample.value
    assert sum(outcomes.values()) >= 100, outcomes
    assert "INTERNAL" not in outcomes
    assert not [status for status in statuses if status.startswith("5")], statuses
