"""The README's examples: its GraphQL blocks, the token each says it needs, and running them as written."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
_BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)
# A block that needs another token than the frontline one says so in a comment: "# ... customer token ...".
_TOKEN = re.compile(r"#.*?\b(\w+) token\b")


def graphql_blocks() -> list[str]:
    return _BLOCK.findall(README)


def role_of(block: str) -> str:
    """The role whose printed token the block runs with: the first one a comment names, else frontline."""
    named = _TOKEN.search(block)
    return named.group(1) if named else "frontline"


def section(title: str) -> str:
    """The README's text under ``## title``, up to the next section."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def run_every_block(http: httpx.Client, token: Callable[[str], str]) -> list[tuple[str, dict[str, Any]]]:
    """Runs each block as written with its role's printed token; ``$id``: an id the first block returned."""
    answers: list[tuple[str, dict[str, Any]]] = []
    for block in graphql_blocks():
        variables = {}
        if "$id" in block:
            first = answers[0][1]["data"]["customers"]["edges"][0]["node"]["id"]
            variables["id"] = first
        headers = {"Authorization": f"Bearer {token(role_of(block))}"}
        body = http.post("/graphql", headers=headers, json={"query": block, "variables": variables}).json()
        answers.append((block, body))
    return answers


def typed_errors(value: object) -> Iterator[dict[str, Any]]:
    """Every object in ``value`` whose ``__typename`` is an error result (``... on Error``)."""
    if isinstance(value, dict):
        if str(value.get("__typename", "")).endswith("Error"):
            yield value
        for item in value.values():
            yield from typed_errors(item)
    elif isinstance(value, list):
        for item in value:
            yield from typed_errors(item)
