"""The lock files pin versions pyproject.toml allows, and the tests run on exactly the locked set."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def pins(name: str) -> dict[str, str]:
    """The lock file's pins that apply to this interpreter, by canonical package name."""
    found = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        if match := PIN.match(line):
            package, version, marker = match.groups()
            if marker is None or Marker(marker).evaluate():
                found[canonicalize_name(package)] = version
    return found


def test_every_declared_dependency_is_locked_at_a_version_its_range_allows() -> None:
    serving, development = pins("serve.txt"), pins("dev.txt")
    declared = [Requirement(r) for r in PYPROJECT["dependencies"]]
    declared += [Requirement(r) for r in PYPROJECT["optional-dependencies"]["embedded"]]
    assert {canonicalize_name(r.name) for r in declared} >= {"graphql-core", "pydantic"}
    for requirement in declared:
        name = canonicalize_name(requirement.name)
        assert name in serving, f"{name} is not in requirements/serve.txt: run make lock"
        assert requirement.specifier.contains(serving[name], prereleases=True), (name, serving[name])
        assert development[name] == serving[name], name
    for tool in map(Requirement, PYPROJECT["optional-dependencies"]["dev"]):
        locked = development[canonicalize_name(tool.name)]
        assert tool.specifier.contains(locked, prereleases=True), (tool.name, locked)


def test_the_tests_run_on_the_locked_versions() -> None:
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differing = {name: (version, installed.get(name)) for name, version in pins("dev.txt").items()}
    assert {name: pair for name, pair in differing.items() if pair[0] != pair[1]} == {}
