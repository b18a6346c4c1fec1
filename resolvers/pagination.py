"""Relay connections: edges, page info and the checks on ``first`` and ``after``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Generic, TypeVar

import strawberry

from domain.paging import Page, check_page_size

N = TypeVar("N")
T = TypeVar("T")

FirstArg = Annotated[int, strawberry.argument(description="How many items to return, 1-100 (required).")]
AfterArg = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


@strawberry.type(description="Where a page sits in its list (forward pagination with `first` and `after`).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page; always false, as only forward pagination is offered."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first item of the page.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item; pass it as `after` to get the next page."
    )

    @classmethod
    def of(cls, cursors: Sequence[str], *, has_next: bool) -> PageInfo:
        """The page info of a page whose items have ``cursors``, in order."""
        return cls(
            has_next_page=has_next,
            has_previous_page=False,
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


@strawberry.type(description="A page of a customer's records, newest first.")
class CountedConnection(Connection[N]):
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many records the whole list holds.")
    async def total_count(self) -> int:
        return await self.count()


def page_size(first: int, maximum: int) -> int:
    """The checked page size."""
    return check_page_size(first, maximum=maximum)


def build_edges(
    page: Page[T], view: Callable[[T], N], cursor: Callable[[T], str]
) -> tuple[list[Edge[N]], PageInfo]:
    """Edges and page info of a domain page, each item shown through ``view``."""
    items: Sequence[T] = page.items
    edges = [Edge(cursor=cursor(item), node=view(item)) for item in items]
    return edges, PageInfo.of([e.cursor for e in edges], has_next=page.has_next)
