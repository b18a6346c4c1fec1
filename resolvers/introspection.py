"""Introspection runs off the event loop, and stops when the request that asked for it is given up.

Answering ``__schema`` is plain CPU work on the schema, with nothing to await: on the event loop it would
hold every other request and health check for as long as it runs, and the time limit, which can only
interrupt an ``await``, could not stop it. An operation that only introspects is therefore run on a
worker thread; when its awaiting is cancelled (the time limit, a client gone), the worker notices at the
next field and stops.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from graphql import GraphQLObjectType
from graphql.execution.collect_fields import DeferUsage, FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# Few at a time: each holds a core while it runs, and what waits here still counts against its time limit.
_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="introspection")

_META = frozenset({"__schema", "__type", "__typename"})


class Stopped(BaseException):
    """Raised in the worker when nobody waits for the result any more; not an error of the operation."""


def introspects_only(fields: GroupedFieldSet) -> bool:
    """Whether the root fields only read the schema (``__typename`` alone is not worth a thread)."""
    names = {details[0].node.name.value for details in fields.values()}
    return names <= _META and names != {"__typename"}


class IntrospectionOffLoop(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, running operations that only introspect on a worker thread."""

    _stop: threading.Event | None = None

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[DeferUsage],
    ) -> AwaitableOrValue[dict[str, Any]]:
        if serially or new_defer_usages or not introspects_only(grouped_field_set):
            return super().execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )

        def work() -> Any:
            return super(IntrospectionOffLoop, self).execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )

        return self._off_loop(work)

    async def _off_loop(self, work: Callable[[], Any]) -> dict[str, Any]:
        self._stop = threading.Event()
        loop = asyncio.get_running_loop()
        try:
            result: dict[str, Any] = await loop.run_in_executor(
                _WORKERS, contextvars.copy_context().run, work
            )
        except asyncio.CancelledError:
            self._stop.set()
            raise
        return result

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        stop = self._stop
        if stop is not None and stop.is_set():
            raise Stopped
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
