"""Relay connections: edges, page info and the checks on ``first`` and ``after`` (``last`` and ``before``).

Every list pages forward. Only ``customers`` also pages backward: it is one query on an index that can be
walked either way. The lists of a customer's records are read for many customers at once, one batched
command per page size and position, and the timeline merges six of them; alerts are worked from the next
deadline and the audit trail from the newest entry. Those page forward only, and say so in the schema.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Generic, TypeVar

import strawberry

from domain.paging import Page, check_page_size

N = TypeVar("N")
T = TypeVar("T")

FirstArg = Annotated[
    int,
    strawberry.argument(
        description="How many items to return, 1-100 (required). This list pages forward only, with `after` "
        "(`PageInfo.hasPreviousPage` says why)."
    ),
]
AfterArg = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]
ForwardArg = Annotated[
    int | None,
    strawberry.argument(description="How many items to return from the start (or `after`), 1-100."),
]
LastArg = Annotated[
    int | None,
    strawberry.argument(
        description="How many items to return from the end (or just `before` a cursor), 1-100, still in "
        "list order; instead of `first`."
    ),
]
BeforeArg = Annotated[
    str | None,
    strawberry.argument(description="Cursor of the item before which the page ends (with `last`)."),
]


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more items follow this page (paging backward: whether `before` was given)."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page when paging backward with `last`; false when paging "
        "forward, which does not look back. Only `customers` pages backward: it is one query on an index "
        "read either way. A customer's records are read for many customers at once, one batched command "
        "per page, and the timeline merges six such lists; alerts are worked from the next deadline and "
        "the audit trail from the newest entry. Those lists page forward only."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first item of the page.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item; pass it as `after` to get the next page."
    )

    @classmethod
    def of(cls, cursors: Sequence[str], *, has_next: bool, has_previous: bool = False) -> PageInfo:
        """The page info of a page whose items have ``cursors``, in order."""
        return cls(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


@strawberry.type(description="One item of a page and the cursor pointing at it.")
class Edge(Generic[N]):
    cursor: str = strawberry.field(description="Opaque cursor of this item.")
    node: N = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list.")
class Connection(Generic[N]):
    edges: list[Edge[N]] = strawberry.field(description="The items of this page with their cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")

    @strawberry.field(
        description="The items of this page without their cursors (`edges { node }` in short); it reads "
        "nothing more and costs the same."
    )
    def nodes(self) -> list[N]:
        return [edge.node for edge in self.edges]


@strawberry.type(description="A page of a customer's records, newest first.")
class CountedConnection(Connection[N]):
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many records the whole list holds.")
    async def total_count(self) -> int:
        return await self.count()


def page_size(first: int, maximum: int, *, field: str = "first") -> int:
    """The checked page size."""
    return check_page_size(first, maximum=maximum, field=field)


def build_edges(
    page: Page[T],
    view: Callable[[T], N],
    cursor: Callable[[T], str],
    *,
    backward: bool = False,
    before: str | None = None,
) -> tuple[list[Edge[N]], PageInfo]:
    """Edges and page info of a domain page, each item shown through ``view``.

    A page read ``backward`` (``last``, ``before``) tells with ``has_next`` whether items precede it; items
    follow it when it ended ``before`` a cursor.
    """
    items: Sequence[T] = page.items
    edges = [Edge(cursor=cursor(item), node=view(item)) for item in items]
    cursors = [e.cursor for e in edges]
    if backward:
        return edges, PageInfo.of(cursors, has_next=before is not None, has_previous=page.has_next)
    return edges, PageInfo.of(cursors, has_next=page.has_next)
