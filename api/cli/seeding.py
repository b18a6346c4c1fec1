"""Loading synthetic data with progress bars, the demo data set on a first start, and the banner after it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime

from tqdm import tqdm

from api.cli.progress import advance_to, advance_within
from api.cli.rollup_commands import rebuild
from api.cli.standing_commands import rebuild as rebuild_standings
from api.demo.loader import load
from api.http.graphiql import Caller, first_query
from api.settings import Settings
from api.storage.client import (
    MongoCollection,
    MongoDatabase,
    MongoUnitOfWork,
    create_client,
    prepare_database,
)
from auth.keys import NoSigningKey
from auth.principal import Role
from auth.tokens import issue_token
from domain.aggregates.periods import Grain, local_day, month_start, time_zone
from domain.aggregates.repository import COLLECTION as ROLLUPS
from domain.aggregates.repository import FINEST_COLLECTION as FINEST_MONTHS
from domain.aggregates.repository import TOTALS_COLLECTION as WINDOW_TOTALS
from domain.alerts.handling import COLLECTION as HANDLING_COLLECTION
from domain.alerts.models import AlertKind
from domain.employees.models import EmployeeRole
from domain.repositories import Repositories


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def load_with_progress(
    db: MongoDatabase, *, customers: int, seed: int, as_of: datetime | None, rollup_zones: list[str]
) -> None:
    """Generate and store ``customers`` customers with all their records, showing progress, then a summary."""
    started = time.monotonic()
    with (
        tqdm(total=customers, unit=" customers", desc="records", disable=None) as records,
        tqdm(total=0, unit=" cells", desc="rollups", disable=None) as cells,
    ):
        report = await load(
            Repositories.on(db, rollup_zones=rollup_zones),
            customers=customers,
            seed=seed,
            as_of=as_of or _today(),
            progress=advance_to(records),
            cell_progress=advance_within(cells),
            uow=MongoUnitOfWork(db.client),
        )
    print(f"Loaded in {time.monotonic() - started:.0f} s: {report.in_words()}.", flush=True)


async def seed_database(
    settings: Settings,
    *,
    customers: int,
    seed: int,
    as_of: datetime | None,
    replace: bool = False,
    announce: str | None = None,
) -> bool:
    """Load synthetic data unless the database has customers (``replace`` drops it first); True when loaded.

    Indexes and the managed lists come first, so the load maintains indexes as production writes would.
    """
    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        if replace:
            await client.drop_database(settings.database_name)
        elif await db["customers"].find_one({}, {"_id": 1}) is not None:
            return False
        if announce:
            print(announce, flush=True)
        await prepare_database(db)
        await load_with_progress(
            db, customers=customers, seed=seed, as_of=as_of, rollup_zones=settings.rollup_time_zones
        )
    finally:
        await client.close()
    # Standings and experience value at once, so the worklist is full from the first request.
    await rebuild_standings(settings, settle_seconds=0)
    return True


async def first_start(settings: Settings) -> None:
    """Load the demo data set into an empty database; in development, add rollups a database lacks."""
    if settings.demo_customers:
        count = settings.demo_customers
        announce = f"Empty database: loading the demo data set ({count} customers) ..."
        await seed_database(settings, customers=count, seed=1, as_of=None, announce=announce)
    if not settings.is_production and await _rollups_missing(settings):
        # A development database from before these rollups: production runs `rollups rebuild` itself.
        print("The database has records but not all their rollups: building them ...", flush=True)
        await rebuild(settings)


async def _rollups_missing(settings: Settings) -> bool:
    """Whether feedback has no rollup cells, customers no lifecycle cells or operational alerts no handling
    packs, no month that is over has its finest cube's cells kept whole (a database from before them), or
    window counts are neither pending in month rollup documents nor in running totals.

    Each question reads few documents: the embedded database reads every match of a query before its
    limit, so even ``find_one({})`` on the rollups reads them all (a second at the demo data set's size).
    A collection's estimated count is its metadata."""
    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        for records, which, cells in (
            ("feedback", None, ROLLUPS),
            ("customers", None, "lifecycleRollups"),
            ("alerts", {"kind": {"$ne": AlertKind.TACTICAL.value}}, HANDLING_COLLECTION),
        ):
            if await _holds(db[records], which) and not await db[cells].estimated_document_count():
                return True
        if await db[FINEST_MONTHS].estimated_document_count():
            # Written by a rebuild or a sweep of this layout, which keep window counts in running totals.
            return False
        rollups = Repositories.on(db, rollup_zones=settings.rollup_time_zones).rollups
        now = datetime.now(UTC)
        for zone in rollups.zones:
            if await rollups.counted_before(zone, month_start(local_day(now, time_zone(zone)))):
                return True  # from before the finest cube's months were kept whole (reads sum their days)
        # Every month document has responses, so window counts of their days: pending in it (marked) or
        # folded into the running totals. Unmarked ones are from before the totals (which reads skip).
        months = db[ROLLUPS]
        if await months.find_one({"grain": Grain.MONTH.value, "days": {"$exists": True}, "pending": None}):
            return True
        if await db[WINDOW_TOTALS].estimated_document_count() or await months.find_one(
            {"pending": {"$gt": ""}}
        ):
            return False
        return await months.find_one({"grain": Grain.MONTH.value}, {"_id": 1}) is not None
    finally:
        await client.close()


async def _holds(collection: MongoCollection, which: Mapping[str, object] | None) -> bool:
    """Whether ``collection`` has a document matching ``which``, or any document (by its estimated count)."""
    if which is None:
        return bool(await collection.estimated_document_count())
    return await collection.find_one(which, {"_id": 1}) is not None


async def demo_callers(settings: Settings) -> list[Caller]:
    """In development, a token per role for people of the demo data, each with a first query for GraphiQL.

    None in production, which never mints tokens, nor without a development signing key.
    """
    if settings.is_production:
        return []
    try:
        key = settings.development_signing_key()
    except NoSigningKey:
        return []
    subjects, external_id = await _demo_subjects(settings)
    tokens = settings.token_settings()
    today = datetime.now(UTC).date()
    return [
        Caller(
            role.value,
            issue_token(tokens, key, tokens.algorithms[0], role=role, subject=subject, regions=regions),
            first_query(role, regions=regions, today=today, external_id=external_id),
        )
        for role, (subject, regions) in subjects.items()
    ]


async def _demo_subjects(
    settings: Settings,
) -> tuple[dict[Role, tuple[str, list[str]]], tuple[str, str] | None]:
    """A subject (and regions) per role from the demo data where it has one, and a customer's external id."""
    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        frontline = await db["employees"].find_one({"role": EmployeeRole.FRONTLINE.value})
        manager = await db["employees"].find_one({"role": EmployeeRole.MANAGER.value})
        customer = await db["customers"].find_one({}, {"_id": 1, "externalIds": 1})
    finally:
        await client.close()
    subjects: dict[Role, tuple[str, list[str]]] = {
        Role.FRONTLINE: (frontline["_id"], frontline["regions"])
        if frontline
        else ("frontline-dev", ["north"]),
        Role.MANAGER: (manager["_id"], manager["regions"]) if manager else ("manager-dev", ["north"]),
        Role.BOARD: ("board-dev", []),
        Role.CUSTOMER: (customer["_id"] if customer else "customer-dev", []),
        Role.INTEGRATION: ("integration-dev", []),
        Role.BI: ("bi-dev", []),
    }
    known = (customer or {}).get("externalIds") or [{}]
    return subjects, ((known[0]["system"], known[0]["id"]) if known[0] else None)


def welcome(settings: Settings, callers: list[Caller]) -> str:
    """The banner: where the server is, in development its tokens, and what to do next."""
    url = f"http://{settings.host}:{settings.port}/graphql"
    if settings.is_production:
        algorithms = ", ".join(settings.jwt_algorithms)
        issuer, audience = settings.jwt_issuer, settings.jwt_audience
        return "\n".join(
            [
                "",
                f"customer360 is running in production: GraphQL at {url}",
                "This server never issues tokens. Send Authorization: Bearer <token> with a token from your "
                f"identity provider ({algorithms}, iss {issuer!r}, aud {audience!r}; "
                "claims sub, role, exp, and regions for frontline and manager).",
                "For a one-off token: customer360 token --role ROLE --private-key FILE (RS*/ES*) "
                "or --secret-file FILE (HS*)",
            ]
        )
    where = f"GraphiQL at {url}" if settings.graphiql_enabled else f"GraphQL at {url}"
    lines = ["", f"customer360 is running: {where}"]
    if not callers:
        try:
            settings.development_signing_key()
        except NoSigningKey as reason:
            lines.append(f"No development tokens: {reason}.")
        lines.append("Ctrl-C stops the server and the database.")
        lines.append("Development mode: the embedded database is not for production.")
        return "\n".join(lines)
    width = max(len(c.role) for c in callers) + 2
    lines.append('Tokens, for any client as {"Authorization": "Bearer <token>"}:')
    lines += [f"  {c.role:<{width}}{c.token}" for c in callers]
    stop = "Ctrl-C stops the server and the database."
    if settings.graphiql_enabled:
        first = callers[0].role
        lines.append(
            f"Next: open GraphiQL, signed in as {first} (switch role at its top right), and run the query in"
        )
        lines.append(f"its editor; then try the README's examples with these tokens. {stop}")
    else:
        lines.append(f"Next: try the README's examples with these tokens. {stop}")
    lines.append("Development mode: the embedded database and these tokens are not for production.")
    return "\n".join(lines)
