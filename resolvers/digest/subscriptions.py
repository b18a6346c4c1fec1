"""Each region's digest of the day before, pushed once a day."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from domain.events import EventKind
from resolvers.context import Info
from resolvers.digest.types import Digest
from resolvers.live_events import events_for


@strawberry.type
class DigestSubscriptions:
    @strawberry.subscription(
        description="Each of your regions' digest of the day before, as it is published (once a day, after "
        "midnight of the reporting time zone)."
    )
    async def digest_published(self, info: Info) -> AsyncGenerator[Digest, None]:
        async for event in events_for(info, EventKind.DIGEST_PUBLISHED):
            assert event.digest is not None
            yield Digest.of(event.digest, list(event.digest.regions))
