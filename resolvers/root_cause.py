"""The root cause type: why an operational alert or a complaint happened, as recorded when it was resolved."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain import root_cause


@strawberry.type(
    description="Why it happened: a ROOT_CAUSE code under its category, and what was said about it."
)
class RootCause:
    code: str = strawberry.field(
        description="The cause: a ROOT_CAUSE code of managedList, e.g. carrier-delay."
    )
    category: str = strawberry.field(
        description="Its category when it was recorded: a CASE_CATEGORY code, e.g. delivery."
    )
    note: str = strawberry.field(description="What happened, in the words of whoever recorded it.")
    at: datetime = strawberry.field(description="When it was recorded (at the resolution).")
    by: str = strawberry.field(description="Who recorded it.")

    @classmethod
    def of(cls, cause: root_cause.RootCause | None) -> RootCause | None:
        if cause is None:
            return None
        return cls(code=cause.code, category=cause.category, note=cause.note, at=cause.at, by=cause.by)
