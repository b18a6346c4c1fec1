"""The state of one compiled execution: the executor it runs in, and whether anything went wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import FieldNode
from graphql.execution import Executor


class Completed:
    """A value already completed for its field's selection: the plan's object completer takes it as it is.

    Only the compiled pipelines hand such values to resolvers (``resolvers/pipeline/completion.py``), and
    only while a plan runs: the stock executor never meets one.
    """

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data


class Run:
    """One request's execution of a plan; a failure makes the executor answer with the stock path."""

    __slots__ = ("_arguments", "_converted", "executor", "failed", "is_awaitable")

    def __init__(self, executor: Executor[Any]) -> None:
        self.executor = executor
        self.is_awaitable = executor.is_awaitable
        self.failed = False
        self._arguments: dict[int, dict[str, Any]] = {}
        self._converted: dict[object, dict[str, Any]] = {}

    def fail(self) -> Any:
        """Marks the run failed; completion goes on (so nothing is left unawaited) and yields None here."""
        self.failed = True
        return None

    def arguments(self, node: FieldNode, coerce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A field's coerced arguments, computed once per request (they depend only on node and variables)."""
        found = self._arguments.get(id(node))
        if found is None:
            found = self._arguments[id(node)] = coerce()
        return found

    def converted(self, slot: object, convert: Callable[[Run], dict[str, Any]]) -> dict[str, Any]:
        """A resolver's converted arguments, once per request for the plan step that owns ``slot``."""
        found = self._converted.get(slot)
        if found is None:
            found = self._converted[slot] = convert(self)
        return found
