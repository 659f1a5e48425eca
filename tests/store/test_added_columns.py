"""Columns added after schema version 1: the agreed package with each agreement and the display
name of each outbox email. Both backends store them; a store written by version 1 gains them on
open with its rows intact."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest

from negotiation_pipeline.store import SCHEMA_VERSION, NegotiationStore, SQLiteStore
from negotiation_pipeline.store.records import Agreement, OutboxEmail
from tests.store.conftest import StoreLocation
from tests.store.test_migrations import FIXTURE

PACKAGE = {
    "scenario": 2,
    "deliverables": ["1 Instagram Reel", "1 Instagram Story"],
    "usage_rights": "30 days",
    "product": False,
    "expected_views": 50_000,
}


def test_agreement_keeps_its_package(store: NegotiationStore) -> None:
    assert store.agreements.record(
        Agreement("t1", "camp-1", "Jane", Decimal("1040.00"), Decimal("20.80"), package=PACKAGE)
    )
    assert store.agreements.record(Agreement("t2", "camp-1", "Old", Decimal(900), Decimal(18)))
    first, older = store.agreements.for_campaign("camp-1")
    assert first.package == PACKAGE
    assert older.package is None  # recorded without one: still readable


def test_outbox_keeps_the_display_name(store: NegotiationStore) -> None:
    store.outbox.add(OutboxEmail("<a@x>", "jane@x.test", "Hi", "Body", to_name="Jane Doe"))
    store.outbox.add(OutboxEmail("<b@x>", "sam@x.test", "Hi", "Body"))
    named, plain = store.outbox.pending()
    assert (named.to_name, plain.to_name) == ("Jane Doe", "")


def _version_1_file(path: Path) -> None:
    """A real version-1 store (the committed fixture) with one queued email and one agreement
    of the layout version 1 wrote."""
    shutil.copyfile(FIXTURE, path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM agreements WHERE campaign_id = 'camp-1'")
        conn.execute(
            "INSERT INTO outbox (message_id, to_addr, subject, body, status, created_at) VALUES "
            "('<old@x>', 'jane@x.test', 'Hi', 'Body', 'pending', '2099-01-01T00:00:00.000000Z')"
        )
        conn.execute(
            "INSERT INTO agreements VALUES ('t0', 'camp-1', 'Jane', '1000.00', '20.00', NULL, "
            "'2026-01-01T00:00:00.000000Z')"
        )


def test_a_version_1_sqlite_file_gains_the_columns_and_keeps_its_rows(db_path: Path) -> None:
    _version_1_file(db_path)
    store = SQLiteStore(db_path)
    assert store.schema_version == SCHEMA_VERSION
    [old] = store.outbox.pending()
    assert old.message_id == "<old@x>" and old.to_name == ""
    [agreement] = store.agreements.for_campaign("camp-1")
    assert agreement.rate == Decimal("1000.00") and agreement.package is None
    store.agreements.record(
        Agreement("t1", "camp-1", "Jane", Decimal(1), Decimal(1), package=PACKAGE)
    )
    assert store.agreements.for_campaign("camp-1")[1].package == PACKAGE
    store.close()
    SQLiteStore(db_path).close()  # a second open adds nothing and records no new version
    with sqlite3.connect(db_path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.postgres
def test_a_version_1_postgres_store_gains_the_columns(pg_location: StoreLocation) -> None:
    import psycopg

    pg_location.open().close()
    with psycopg.connect(pg_location.target, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{pg_location.schema}"')
        conn.execute("ALTER TABLE outbox DROP COLUMN to_name")
        conn.execute("ALTER TABLE agreements DROP COLUMN package_json")
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version VALUES (1, now())")
        conn.execute(
            "INSERT INTO agreements VALUES ('t0', 'camp-1', 'Jane', 1000.00, 20.00, NULL, now())"
        )
    store = pg_location.open()
    assert store.schema_version == SCHEMA_VERSION
    [old] = store.agreements.for_campaign("camp-1")
    assert old.package is None and old.rate == Decimal("1000.00")
    store.agreements.record(
        Agreement("t1", "camp-1", "Jane", Decimal(1), Decimal(1), package=PACKAGE)
    )
    assert store.agreements.for_campaign("camp-1")[1].package == PACKAGE
    store.outbox.add(OutboxEmail("<a@x>", "jane@x.test", "Hi", "Body", to_name="Jane Doe"))
    assert store.outbox.pending()[0].to_name == "Jane Doe"
    store.close()
