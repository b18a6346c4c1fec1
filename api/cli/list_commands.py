"""``customer360 lists audit [--adopt]``: report values in records that are no code of their managed list,
and adopt them when an operator decides they are legitimate."""

from __future__ import annotations

from datetime import UTC, datetime

from api.cli.rollup_commands import rebuild
from api.settings import Settings
from api.storage.client import MongoUnitOfWork, create_client
from domain.lists.models import ListKind
from domain.lists.unlisted import Adoption, Unlisted, adopt, find_unlisted, usages
from domain.repositories import Repositories

ADOPTED_BY = "customer360 lists audit --adopt"


async def audit(settings: Settings, *, adopt_found: bool) -> bool:
    """Print every unlisted value with its count; with ``adopt_found``, adopt them. True when none were found.

    Adopting renames service dimensions in stored feedback, so the rollups are rebuilt afterwards.
    """
    client = create_client(str(settings.mongodb_uri))
    try:
        # Nothing is written without --adopt, not even the default lists (a list never stored reads as them).
        db = client[settings.database_name]
        repos = Repositories.on(db, rollup_zones=settings.rollup_time_zones)
        found = await find_unlisted(repos)
        report(repos, found)
        adoption = None
        if adopt_found and found:
            now = datetime.now(UTC)
            adoption = await adopt(repos, MongoUnitOfWork(client), found, by=ADOPTED_BY, now=now)
            report_adoption(adoption)
    finally:
        await client.close()
    if adoption is not None and adoption.renamed_any(ListKind.SERVICE_DIMENSION):
        # The rollups count service dimensions by name: recount them under the codes.
        await rebuild(settings)
    return not found


def report(repos: Repositories, found: list[Unlisted]) -> None:
    for kind, usage in usages(repos).items():
        mine = [u for u in found if u.kind is kind]
        if not mine:
            print(f"{kind.value} ({usage.where}): every value is listed")
            continue
        total = sum(u.records for u in mine)
        print(f"{kind.value} ({usage.where}): {_values(len(mine))}, {usage.noun}: {total}")
        for unlisted in mine:
            code = f"code {unlisted.code!r}" if unlisted.code else "no code can be made of it"
            print(f"  {unlisted.value!r}: {usage.noun} {unlisted.records}, {code}")
    if found:
        print(
            f"found {_values(len(found))}: `customer360 lists audit --adopt` makes each an entry of its "
            "list and gives its records the code (pause intake meanwhile: the rollups are rebuilt)"
        )


def _values(count: int) -> str:
    return f"{count} unlisted value{'' if count == 1 else 's'}"


def report_adoption(adoption: Adoption) -> None:
    for kind, entry in adoption.added:
        print(f"added {kind.value} entry {entry.code!r} ({entry.label!r})")
    for unlisted, renamed in adoption.renamed:
        print(f"{unlisted.kind.value} value {unlisted.value!r} is now {unlisted.code!r} in {renamed} records")
    for unlisted, reason in adoption.left:
        print(f"left {unlisted.kind.value} value {unlisted.value!r} as it is: {reason}")
