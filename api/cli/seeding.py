"""Loading synthetic data with a progress bar, and the demo data set on a first start."""

from __future__ import annotations

from datetime import UTC, datetime

from tqdm import tqdm

from api.cli.progress import advance_to
from api.cli.rollup_commands import rebuild
from api.demo.loader import load
from api.settings import Settings
from api.storage.client import MongoDatabase, create_client, prepare_database
from auth.keys import NoSigningKey
from auth.principal import Role
from auth.tokens import issue_token
from domain.employees.models import EmployeeRole
from domain.repositories import Repositories


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def load_with_progress(
    db: MongoDatabase, *, customers: int, seed: int, as_of: datetime | None, rollup_zones: list[str]
) -> None:
    """Generate and store ``customers`` customers with all their records, showing progress."""
    with tqdm(total=customers, unit="customer", desc="seeding", disable=None) as bar:
        report = await load(
            Repositories.on(db, rollup_zones=rollup_zones),
            customers=customers,
            seed=seed,
            as_of=as_of or _today(),
            progress=advance_to(bar),
        )
    print(f"loaded {report}", flush=True)


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
        return True
    finally:
        await client.close()


async def first_start(settings: Settings) -> None:
    """Load the demo data set into an empty database; in development, add rollups a database lacks."""
    if settings.demo_customers:
        count = settings.demo_customers
        announce = f"Empty database: loading the demo data set ({count} customers) ..."
        await seed_database(settings, customers=count, seed=1, as_of=None, announce=announce)
    if not settings.is_production and await _feedback_without_rollups(settings):
        # A development database from before aggregates existed: production runs `rollups rebuild` itself.
        print("The database has feedback but no rollups: building them for the aggregates ...", flush=True)
        await rebuild(settings)


async def _feedback_without_rollups(settings: Settings) -> bool:
    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        has_feedback = await db["feedback"].find_one({}, {"_id": 1}) is not None
        return has_feedback and await db["rollups"].find_one({}, {"_id": 1}) is None
    finally:
        await client.close()


async def welcome(settings: Settings) -> str:
    """What to do next: in development the URL and a ready token per role; in production how to get one."""
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
    lines = ["", f"customer360 is running: GraphiQL at {url}"]
    try:
        key = settings.development_signing_key()
    except NoSigningKey as reason:
        lines.append(f"No development tokens: {reason}.")
        lines.append("Development mode: the embedded database is not for production.")
        return "\n".join(lines)
    lines.append('Paste one of these into GraphiQL\'s Headers tab as {"Authorization": "Bearer <token>"}:')
    tokens = settings.token_settings()
    for role, (subject, regions) in (await _demo_subjects(settings)).items():
        token = issue_token(tokens, key, tokens.algorithms[0], role=role, subject=subject, regions=regions)
        lines.append(f"  {role.value:<12} {token}")
    lines.append("Development mode: the embedded database and these tokens are not for production.")
    return "\n".join(lines)


async def _demo_subjects(settings: Settings) -> dict[Role, tuple[str, list[str]]]:
    """A subject (and regions) per role, taken from the demo data where it has one."""
    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        frontline = await db["employees"].find_one({"role": EmployeeRole.FRONTLINE.value})
        manager = await db["employees"].find_one({"role": EmployeeRole.MANAGER.value})
        customer = await db["customers"].find_one({}, {"_id": 1})
    finally:
        await client.close()
    return {
        Role.FRONTLINE: (frontline["_id"], frontline["regions"])
        if frontline
        else ("frontline-dev", ["north"]),
        Role.MANAGER: (manager["_id"], manager["regions"]) if manager else ("manager-dev", ["north"]),
        Role.BOARD: ("board-dev", []),
        Role.CUSTOMER: (customer["_id"] if customer else "customer-dev", []),
        Role.INTEGRATION: ("integration-dev", []),
        Role.BI: ("bi-dev", []),
    }
