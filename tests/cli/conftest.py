"""Fixtures for the command-line tests: the business store on each engine, named the way the CLI
takes it (a SQLite file path, or a plain postgresql:// URL whose search_path is the test's own
schema on the throwaway PostgreSQL server), plus a way for the test to open that same store.

A test that asks for `cli_store` runs once per engine; the PostgreSQL run is marked `postgres`
and skips with the reason when no server can start (fails under CI=true instead). `SQLITE_ONLY`
pins a test that is about SQLite files, or never reaches the store, to the SQLite run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from negotiation_pipeline.store import PostgresStore, SQLiteStore
from tests.servers.postgres import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.store.conftest import BACKENDS, StoreLocation, drop_schema

SQLITE_ONLY = pytest.mark.parametrize(
    "cli_store", [pytest.param("sqlite", id="sqlite")], indirect=True
)


@dataclass(frozen=True)
class CliStore:
    """One test's business store as the command line sees it.

    `db` is the exact string given as --db or NEGOTIATION_DB. `data_dir` is where the sandbox
    files (Maildir, slack.jsonl) of the commands that deliver land: next to a SQLite file, and
    NEGOTIATION_DATA_DIR (in `env`) with a PostgreSQL store, which has no folder of its own.
    """

    location: StoreLocation
    db: str
    data_dir: Path

    @property
    def backend(self) -> str:
        return self.location.backend

    @property
    def env(self) -> dict[str, str]:
        """The environment that points a command (in-process or spawned) at this store."""
        env = {"NEGOTIATION_DB": self.db}
        if self.backend == "postgres":
            env["NEGOTIATION_DATA_DIR"] = str(self.data_dir)
        return env

    def open(self, *, create: bool = True) -> SQLiteStore | PostgresStore:
        """The same store, opened by the test to set it up or check what a command did."""
        return self.location.open(create=create)

    @contextmanager
    def opened(self) -> Iterator[SQLiteStore | PostgresStore]:
        """The existing store, closed after the check (a server connection is not left to the
        garbage collector)."""
        store = self.location.open(create=False)
        try:
            yield store
        finally:
            store.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "negotiation.db"


def schema_url(server_url: str, schema: str) -> str:
    """A URL whose connections use `schema` only: the CLI, which takes just a URL, sees this
    test's store and no other."""
    separator = "&" if "?" in server_url else "?"
    return f"{server_url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[tuple[str, str]]:  # noqa: F811
    """(URL, schema) of a schema that does not exist yet, dropped after the test."""
    schema = f"cli_{uuid.uuid4().hex[:12]}"
    yield schema_url(postgres_url, schema), schema
    drop_schema(postgres_url, schema)


@pytest.fixture(params=BACKENDS)
def cli_store(request: pytest.FixtureRequest, tmp_path: Path) -> CliStore:
    data_dir = tmp_path / "store"
    data_dir.mkdir()
    if request.param == "sqlite":
        path = str(data_dir / "negotiation.db")
        return CliStore(StoreLocation("sqlite", path), path, data_dir)
    url, schema = request.getfixturevalue("pg_schema_url")
    server_url: str = request.getfixturevalue("postgres_url")
    return CliStore(StoreLocation("postgres", server_url, schema), url, data_dir)


@pytest.fixture
def cli_store_env(cli_store: CliStore, monkeypatch: pytest.MonkeyPatch) -> CliStore:
    """`cli_store`, also in this process's environment (commands invoked without --db)."""
    monkeypatch.delenv("NEGOTIATION_DATA_DIR", raising=False)
    for name, value in cli_store.env.items():
        monkeypatch.setenv(name, value)
    return cli_store
