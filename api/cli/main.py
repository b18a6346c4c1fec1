"""The ``customer360`` command line: serve, seed, import, rollups, standings, lists, token, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import jwt
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from api.settings import Settings
from auth.keys import NoSigningKey, is_hmac
from auth.principal import Role
from auth.tokens import issue_token

if TYPE_CHECKING:
    from api.cli.importer import ImportReport


# The exit status of a command the database failed (unreachable, or an error it answered).
DATABASE_FAILED = 3


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``customer360`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except PyMongoError as error:
        # One line for the operator, not a driver traceback. Rebuilds replace what they write and imports
        # upsert by external id, so one that stopped part way is run again from the start.
        print(
            f"customer360 {args.command}: the database failed ({type(error).__name__}: {error}); "
            "a rebuild or an import that stopped part way can be run again",
            file=sys.stderr,
        )
        return DATABASE_FAILED
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="customer360", description="GraphQL customer-360 API server.")
    parser.add_argument("--version", action="version", version=f"customer360 {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND", dest="command")

    serve = commands.add_parser("serve", help="run the server (embedded database unless MONGODB_URI is set)")
    serve.add_argument("--host", help="interface to listen on (default from settings: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default from settings: 8000)")
    serve.add_argument("--no-demo", action="store_true", help="do not load demo data into an empty database")
    serve.set_defaults(run=_serve)

    seed = commands.add_parser("seed", help="load deterministic synthetic data")
    seed.add_argument("--customers", type=int, required=True, help="how many customers to create")
    seed.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same data")
    seed.add_argument("--as-of", type=_date, help="date the data ends at (YYYY-MM-DD, default today)")
    seed.add_argument("--replace", action="store_true", help="drop existing data first")
    seed.set_defaults(run=_seed)

    token = commands.add_parser(
        "token",
        help="print a signed token (in production only with --private-key or --secret-file)",
        description="Print a token. In development it is signed with the development key (the HMAC secret, "
        "CUSTOMER360_JWT_PRIVATE_KEY or the generated key pair); in production only with a key named here.",
    )
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--sub", default="dev-user", help="subject: employee or customer id")
    token.add_argument("--regions", default="", help="comma-separated regions (frontline, manager)")
    token.add_argument("--ttl", type=int, help="lifetime in seconds")
    signing = token.add_mutually_exclusive_group()
    signing.add_argument(
        "--private-key", type=Path, metavar="FILE", help="PEM private key (RS*/ES*) to sign with"
    )
    signing.add_argument(
        "--secret-file", type=Path, metavar="FILE", help="file holding the HMAC secret (HS*)"
    )
    token.add_argument(
        "--algorithm", help="signing algorithm (default: the first of CUSTOMER360_JWT_ALGORITHMS)"
    )
    token.set_defaults(run=_token)

    imports = commands.add_parser(
        "import", help="upsert customers, transactions or interactions from JSON lines or CSV, by external id"
    )
    imports.add_argument(
        "kind", choices=["customers", "transactions", "interactions"], help="what the file holds"
    )
    imports.add_argument("path", type=Path, help="the file (.jsonl or .csv)")
    imports.add_argument(
        "--source", default="import", help="system the external ids belong to (default: import)"
    )
    imports.add_argument(
        "--format", choices=["jsonl", "csv"], help="file format (default: from the extension)"
    )
    imports.set_defaults(run=_import)

    rollups = commands.add_parser(
        "rollups", help="rebuild or verify the rollups aggregates read (feedback, customer lifecycles)"
    )
    rollups.add_argument(
        "action",
        choices=["rebuild", "verify"],
        help="rebuild: recompute every cell from raw feedback (pause intake meanwhile); "
        "verify: compare every cell with a recomputation, exit 1 on any difference",
    )
    rollups.set_defaults(run=_rollups)

    lists = commands.add_parser("lists", help="check stored records against the managed lists")
    lists.add_argument(
        "action",
        choices=["audit"],
        help="audit: report values records carry that are no code of their list, exit 1 when there are any",
    )
    lists.add_argument(
        "--adopt",
        action="store_true",
        help="make each value found an entry of its list (code derived from it) and give its records the "
        "code; without it nothing is written",
    )
    lists.set_defaults(run=_lists)

    standings = commands.add_parser(
        "standings",
        help="rebuild or verify customers' standings and experience value (the worker keeps them)",
    )
    standings.add_argument(
        "action",
        choices=["rebuild", "verify"],
        help="rebuild: recompute every customer from raw data (it takes over from the servers' worker "
        "meanwhile); verify: compare with a recomputation, exit 1 on any difference",
    )
    standings.set_defaults(run=_standings)

    export = commands.add_parser("export-schema", help="write the GraphQL schema (SDL)")
    export.add_argument(
        "path", nargs="?", help="file to write, - for stdout (default: schema.graphql, or subgraph.graphql)"
    )
    export.add_argument("--check", action="store_true", help="exit 1 if the file differs instead of writing")
    export.add_argument(
        "--federation", action="store_true", help="the Apollo Federation subgraph's SDL (_service { sdl })"
    )
    export.set_defaults(run=_export_schema)
    return parser


def _version() -> str:
    try:
        return metadata.version("customer360")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _date(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)


def _token(args: argparse.Namespace) -> int:
    """Exit 0 with the token on stdout; 2 when nothing here may sign it, or the key cannot."""
    try:
        settings = Settings()
    except ValidationError as error:
        return _refuse(f"the settings are invalid: {error}")
    algorithm = args.algorithm or settings.jwt_algorithms[0]
    try:
        if args.private_key is not None:
            if is_hmac(algorithm):
                return _refuse(f"a private key signs RS*/ES* tokens, not {algorithm}: pass --algorithm")
            key = args.private_key.read_text()
        elif args.secret_file is not None:
            if not is_hmac(algorithm):
                return _refuse(f"a secret signs HS* tokens, not {algorithm}: pass --algorithm")
            key = args.secret_file.read_text().strip()
        else:
            key = settings.development_signing_key()
        regions = [r.strip() for r in args.regions.split(",") if r.strip()]
        token = issue_token(
            settings.token_settings(),
            key,
            algorithm,
            role=Role(args.role),
            subject=args.sub,
            regions=regions,
            ttl=args.ttl,
        )
    except NoSigningKey as refusal:
        return _refuse(str(refusal))
    except OSError as error:
        return _refuse(f"cannot read the key: {error}")
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        return _refuse(f"cannot sign {algorithm} tokens with that key: {error}")
    print(token)
    return 0


def _refuse(reason: str) -> int:
    print(f"customer360 token: {reason}", file=sys.stderr)
    return 2


def _export_schema(args: argparse.Namespace) -> int:
    from resolvers.schema import schema_sdl, subgraph_sdl

    sdl = subgraph_sdl() if args.federation else schema_sdl()
    if args.path == "-":
        sys.stdout.write(sdl)
        return 0
    path = Path(args.path or ("subgraph.graphql" if args.federation else "schema.graphql"))
    if args.check:
        if not path.exists() or path.read_text() != sdl:
            command = "export-schema --federation" if args.federation else "export-schema"
            print(f"{path} is stale: run `customer360 {command}`", file=sys.stderr)
            return 1
        return 0
    path.write_text(sdl)
    print(f"wrote {path}")
    return 0


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[Settings]:
    """Settings pointing at a database: MONGODB_URI, or the embedded development database for the duration."""
    if settings.mongodb_uri:
        yield settings
        return
    from api.storage.embedded import EmbeddedDatabase

    storage = settings.data_dir / "db"
    server = EmbeddedDatabase(storage, log_path=settings.data_dir / "secantusdb.log")
    print(f"Starting the embedded SecantusDB (DEVELOPMENT ONLY) with data in {storage} ...", flush=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.start()
        yield settings.model_copy(update={"mongodb_uri": server.uri})
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _already_handled(signum: int, frame: FrameType | None) -> None:
    return None


def _import(args: argparse.Namespace) -> int:
    """Exit 0 when every row was imported, 1 when some were rejected (the others are in), 2 on a bad file."""
    from domain.imports.formats import FileError

    if not args.path.is_file():
        print(f"{args.path}: no such file", file=sys.stderr)
        return 2
    with _database(Settings()) as settings:
        try:
            report = asyncio.run(_run_import(settings, args))
        except FileError as error:
            print(f"{args.path}: {error}", file=sys.stderr)
            return 2
    for line, reason in report.rejected:
        print(f"line {line}: {reason}")
    print(report.summary(), flush=True)
    return 1 if report.rejected else 0


async def _run_import(settings: Settings, args: argparse.Namespace) -> ImportReport:
    from tqdm import tqdm

    from api.cli.importer import Importer, format_of
    from api.cli.progress import advance_to
    from api.storage.client import create_client, prepare_database
    from domain.imports.rows import ImportKind

    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        await prepare_database(db)
        importer = Importer(
            db, kind=ImportKind(args.kind), source=args.source, rollup_zones=settings.rollup_time_zones
        )
        with tqdm(unit="row", desc=f"importing {args.kind}", disable=None) as bar:
            path_format = format_of(args.path, args.format)
            return await importer.run(args.path, path_format, progress=advance_to(bar))
    finally:
        await client.close()


def _rollups(args: argparse.Namespace) -> int:
    from api.cli.rollup_commands import rebuild, verify

    with _database(Settings()) as settings:
        if args.action == "rebuild":
            asyncio.run(rebuild(settings))
            return 0
        return 0 if asyncio.run(verify(settings)) else 1


def _lists(args: argparse.Namespace) -> int:
    """Exit 0 when every value is listed, 1 when some were found (adopted or not)."""
    from api.cli.list_commands import audit

    with _database(Settings()) as settings:
        return 0 if asyncio.run(audit(settings, adopt_found=args.adopt)) else 1


def _standings(args: argparse.Namespace) -> int:
    from api.cli.standing_commands import rebuild, verify

    with _database(Settings()) as settings:
        if args.action == "rebuild":
            asyncio.run(rebuild(settings))
            return 0
        return 0 if asyncio.run(verify(settings)) else 1


def _seed(args: argparse.Namespace) -> int:
    from api.cli.seeding import seed_database

    with _database(Settings()) as settings:
        loaded = asyncio.run(
            seed_database(
                settings, customers=args.customers, seed=args.seed, as_of=args.as_of, replace=args.replace
            )
        )
    if not loaded:
        raise SystemExit(f"database {settings.database_name!r} already has customers; use --replace")
    return 0


def _serve(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    with _database(Settings().model_copy(update=overrides)) as settings:
        asyncio.run(_run_server(settings, demo=not args.no_demo))
    return 0


async def _run_server(settings: Settings, *, demo: bool) -> None:
    from api.cli.seeding import demo_callers, first_start, welcome
    from api.http.app import create_app
    from api.http.observability import configure
    from api.http.serving import server_for

    # A person at a terminal in development reads lines; everywhere else log collectors read JSON.
    readable = sys.stderr.isatty() and not settings.is_production
    configure(readable=readable)
    if demo:
        await first_start(settings)
    callers = await demo_callers(settings)
    # Ctrl-C (SIGINT) is handled like SIGTERM (see api/http/serving.py); the embedded database runs in its own
    # session, so it keeps serving until this is done.
    server = server_for(create_app(settings, graphiql_callers=callers), settings)
    # uvicorn handles SIGTERM and SIGINT gracefully and then re-raises them to the previous handlers: by then
    # the work is done, so those must let the embedded database stop and the process exit 0.
    for handled in (signal.SIGTERM, signal.SIGINT):
        signal.signal(handled, _already_handled)
    serving = asyncio.create_task(server.serve())
    # The banner promises a running server, so wait until uvicorn listens (or gave up); uvicorn
    # exposes that only as a flag.
    while not server.started and not serving.done():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if server.started:
        print(welcome(settings, callers), flush=True)
    await serving
    if readable and server.started:
        print("Stopped serving.", flush=True)
