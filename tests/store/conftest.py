from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from negotiation_pipeline.domain.campaigns.campaign import Campaign, CPMRange
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.store import SQLiteStore
from negotiation_pipeline.store.postgres import PostgresStore
from tests.servers.postgres import postgres_server, postgres_url  # noqa: F401 (fixtures)

# Every test that asks for `store` (or `store_location`) runs once per backend; the PostgreSQL
# runs are marked `postgres` and use a throwaway server (tests/servers/postgres.py), one schema
# per test.
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def make_campaign(campaign_id: str = "camp-1", budget: str = "1234.5600") -> Campaign:
    return Campaign(
        campaign_id=campaign_id,
        client_name="Acme Sports",
        budget=Decimal(budget),
        platform=Platform.INSTAGRAM,
        cpm_range=CPMRange(min_cpm=Decimal("20"), max_cpm=Decimal("30")),
    )


@dataclass(frozen=True)
class StoreLocation:
    """Where a test's store lives; picklable, so spawned worker processes can open it too."""

    backend: str
    target: str  # SQLite file path or PostgreSQL URL
    schema: str | None = None

    def open(self, *, create: bool = True) -> SQLiteStore | PostgresStore:
        if self.backend == "sqlite":
            return SQLiteStore(self.target, create=create)
        return PostgresStore(self.target, schema=self.schema, create=create)


def drop_schema(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "negotiation.db"


@pytest.fixture
def pg_location(postgres_url: str) -> Iterator[StoreLocation]:  # noqa: F811
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield StoreLocation("postgres", postgres_url, schema)
    drop_schema(postgres_url, schema)


@pytest.fixture(params=BACKENDS)
def store_location(request: pytest.FixtureRequest, db_path: Path) -> StoreLocation:
    if request.param == "sqlite":
        return StoreLocation("sqlite", str(db_path))
    location: StoreLocation = request.getfixturevalue("pg_location")
    return location


@pytest.fixture
def store(store_location: StoreLocation) -> Iterator[SQLiteStore | PostgresStore]:
    opened = store_location.open()
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(db_path: Path) -> SQLiteStore:
    return SQLiteStore(db_path)


@pytest.fixture
def pg_store(pg_location: StoreLocation) -> Iterator[PostgresStore]:
    opened = pg_location.open()
    assert isinstance(opened, PostgresStore)
    yield opened
    opened.close()
