"""Fixtures for the command-line tests: a SQLite file path, and a store in its own schema on the
throwaway PostgreSQL server, reachable through a plain postgresql:// URL (as NEGOTIATION_DB)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.postgres import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.store.conftest import drop_schema


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "negotiation.db"


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[tuple[str, str]]:  # noqa: F811
    """(URL, schema): a URL whose connections use `schema` only, so the CLI, which takes just
    a URL, sees this test's store and no other."""
    schema = f"cli_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}", schema
    drop_schema(postgres_url, schema)
