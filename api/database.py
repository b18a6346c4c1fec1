"""The database connection: one async client per application, and the indexes its queries need."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.monitoring import _EventListener

from domain.store import Document, IndexSpec

Client = AsyncMongoClient[Document]
DatabaseHandle = AsyncDatabase[Document]


def create_client(
    uri: str, *, server_selection_timeout_ms: int = 5000, event_listeners: Sequence[_EventListener] = ()
) -> Client:
    """A client that returns timezone-aware datetimes (UTC), as the domain expects."""
    return AsyncMongoClient(
        uri,
        event_listeners=list(event_listeners),
        tz_aware=True,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        appname="customer360",
    )


async def ensure_indexes(db: DatabaseHandle, specs: Iterable[IndexSpec]) -> None:
    """Create every index that is missing; existing ones are left as they are."""
    for spec in specs:
        await db[spec.collection].create_index(list(spec.keys), name=spec.name, unique=spec.unique)


async def is_reachable(client: Client) -> bool:
    """Whether the database answers a ping."""
    try:
        await client.admin.command("ping")
    except Exception:  # any failure means "not ready"; the reason is logged by the driver
        return False
    return True
