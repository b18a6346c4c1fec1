"""``customer360 import``: valid rows in, bad rows reported by line and reason, re-import changes nothing."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.cli.importer import Importer
from api.settings import Settings
from api.storage.client import MongoDatabase
from domain.imports.formats import FileFormat
from domain.imports.rows import ImportKind
from domain.repositories import Repositories

ROWS = 10_000
# Line number -> (what is wrong with the row, the reason the report must give).
BROKEN: dict[int, tuple[dict[str, Any] | str, str]] = {
    10: ({"emails": ["not-an-address"]}, "emails: 'not-an-address' is not an e-mail address"),
    500: ({"region": ""}, "region: required"),
    2001: (
        {"segment": "ROYALTY"},
        "segment: 'ROYALTY' is not one of MASS, AFFLUENT, SMALL_BUSINESS, CORPORATE",
    ),
    4321: ({"birthDate": "31/12/1980"}, "birthDate: '31/12/1980' is not a date (YYYY-MM-DD)"),
    5000: ({"externalId": "C4999"}, "externalId: 'C4999' is already on line 4999"),
    7777: ({"$where": "sleep(100)"}, "$where: keys beginning with '$' are not accepted"),
    8080: ({"nickname": "Bob"}, "nickname: unknown field"),
    9999: ('{"externalId": "C9999", ', "not valid JSON (Expecting property name enclosed in double quotes)"),
}


def customer_row(n: int) -> dict[str, Any]:
    return {
        "externalId": f"C{n}",
        "givenName": f"Given{n}",
        "familyName": f"Family{n % 97}",
        "emails": [f"person{n}@example.com"],
        "region": ("north", "south", "east", "west")[n % 4],
        "segment": "AFFLUENT" if n % 5 == 0 else "MASS",
        "lifetimeValue": f"{n % 1000}.50",
        "currency": "EUR",
        "tags": "vip;newsletter" if n % 7 == 0 else "",
    }


def write_customers(path: Path) -> None:
    with path.open("w") as out:
        for line in range(1, ROWS + 1):
            broken = BROKEN.get(line)
            if isinstance(broken, tuple) and isinstance(broken[0], str):
                out.write(broken[0] + "\n")
                continue
            row = customer_row(line)
            if broken is not None:
                assert isinstance(broken[0], dict)
                row |= broken[0]
            out.write(json.dumps(row) + "\n")


def run_import(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER360_")}
    env |= {"MONGODB_URI": str(settings.mongodb_uri), "CUSTOMER360_DATABASE_NAME": settings.database_name}
    return subprocess.run(
        [str(Path(sys.executable).with_name("customer360")), "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def snapshot(db: MongoDatabase, collection: str) -> dict[str, dict[str, Any]]:
    return {d["_id"]: d async for d in db[collection].find({})}


async def test_importing_10000_customers_reports_each_bad_row_keeps_the_rest_and_is_idempotent(
    settings: Settings, db: MongoDatabase, tmp_path: Path
) -> None:
    path = tmp_path / "customers.jsonl"
    write_customers(path)

    first = run_import(settings, "customers", str(path), "--source", "crm")

    assert first.returncode == 1, first.stderr
    expected = [f"line {line}: {reason}" for line, (_, reason) in sorted(BROKEN.items())]
    valid = ROWS - len(BROKEN)
    summary = (
        f"customers: {ROWS} rows, {valid} imported ({valid} created, 0 updated, 0 unchanged), 8 rejected"
    )
    assert first.stdout.splitlines() == [*expected, summary]
    stored = await snapshot(db, "customers")
    assert len(stored) == valid
    by_key = {d["externalKeys"][0]: d for d in stored.values()}
    assert by_key["crm|C4999"]["givenName"] == "Given4999"
    assert by_key["crm|C35"]["tags"] == ["vip", "newsletter"]
    assert by_key["crm|C35"]["lifetimeValue"] == {"amountMinor": 3550, "currency": "EUR"}
    assert "crm|C10" not in by_key
    assert "crm|C7777" not in by_key

    again = run_import(settings, "customers", str(path), "--source", "crm")

    assert again.returncode == 1
    assert again.stdout.splitlines()[-1] == (
        f"customers: {ROWS} rows, {valid} imported (0 created, 0 updated, {valid} unchanged), 8 rejected"
    )
    assert await snapshot(db, "customers") == stored


async def test_a_changed_row_updates_the_customer_in_place(db: MongoDatabase, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    columns = ["externalId", "givenName", "familyName", "region", "emails"]
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerow(["A1", "Ana", "Silva", "north", "ana@example.com"])
    importer = Importer(db, kind=ImportKind.CUSTOMERS, source="shop", now=datetime(2026, 1, 1, tzinfo=UTC))
    await importer.run(path, FileFormat.CSV)
    [before] = (await snapshot(db, "customers")).values()

    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerow(["A1", "Ana", "Silva", "south", "ana@example.com"])
    later = Importer(db, kind=ImportKind.CUSTOMERS, source="shop", now=datetime(2026, 2, 1, tzinfo=UTC))
    report = await later.run(path, FileFormat.CSV)

    [after] = (await snapshot(db, "customers")).values()
    assert (report.upserted.created, report.upserted.updated) == (0, 1)
    assert (after["_id"], after["region"], after["version"]) == (before["_id"], "south", 2)
    assert after["createdAt"] == before["createdAt"]


async def test_transactions_and_interactions_attach_to_customers_by_external_id(
    db: MongoDatabase, tmp_path: Path
) -> None:
    customers = tmp_path / "customers.jsonl"
    customers.write_text(
        json.dumps({"externalId": "K1", "givenName": "Kim", "familyName": "Lee", "region": "east"})
    )
    await Importer(db, kind=ImportKind.CUSTOMERS, source="erp").run(customers, FileFormat.JSONL)

    transactions = tmp_path / "transactions.csv"
    transactions.write_text(
        "externalId,customerExternalId,amount,currency,channel,touchpoint,occurredAt\n"
        "T1,K1,19.99,EUR,STORE,store visit,2026-03-01T10:00:00Z\n"
        "T2,K404,5.00,EUR,ONLINE,web,2026-03-01T11:00:00Z\n"
        "T3,K1,5.001,EUR,ONLINE,web,2026-03-01T11:00:00Z\n"
        "T4,K1,5.00,EUR,ONLINE,web,2026-03-01 11:00:00\n"
    )
    report = await Importer(db, kind=ImportKind.TRANSACTIONS, source="erp").run(transactions, FileFormat.CSV)
    assert report.rejected == [
        (3, "customerExternalId: no customer 'K404'"),
        (4, "amount: '5.001' has more than two decimals"),
        (5, "occurredAt: '2026-03-01 11:00:00' needs a time zone (e.g. Z or +01:00)"),
    ]
    [customer] = (await snapshot(db, "customers")).values()
    [transaction] = (await Repositories.on(db).transactions.pages([customer["_id"]], limit=5))[
        customer["_id"]
    ].items
    assert (transaction.amount.amount_minor, transaction.region, transaction.external_id) is not None
    assert transaction.amount.amount_minor == 1999
    assert transaction.region == "east"

    interactions = tmp_path / "interactions.jsonl"
    interactions.write_text(
        json.dumps(
            {
                "externalId": "I1",
                "customerExternalId": "K1",
                "kind": "call",
                "direction": "inbound",
                "channel": "phone",
                "summary": "asked about delivery",
                "occurredAt": "2026-03-02T09:30:00+01:00",
            }
        )
        + "\n"
    )
    first = await Importer(db, kind=ImportKind.INTERACTIONS, source="erp").run(interactions, FileFormat.JSONL)
    again = await Importer(db, kind=ImportKind.INTERACTIONS, source="erp").run(interactions, FileFormat.JSONL)
    assert (first.upserted.created, again.upserted.created, again.upserted.unchanged) == (1, 0, 1)
