"""Fixtures for the Dagster layer: a real test instance, a real business store, the loopback
ClickUp fake loaded with the sandbox campaign tasks, and environments that select resources the
way `negotiation_pipeline.definitions` does in production.

The store is a SQLite file by default. A test marked `@ON_BOTH_STORES` runs twice: on the
SQLite file and on the throwaway PostgreSQL server (its own schema, reached through
NEGOTIATION_DB exactly as a deployment does; marked `postgres`, skipped with the reason when
no server can start). Only the tests whose subject is what jobs and sensors do to the store are
marked, to keep the suite's wall time in bounds.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from negotiation_pipeline.definitions import build_definitions
from negotiation_pipeline.sandbox.paths import INVALID_EXAMPLE_TASK, SANDBOX_TASKS_DIR
from tests.fakes.clickup_server import FakeClickUp
from tests.store.conftest import (  # noqa: F401 (fixtures)
    BACKENDS,
    StoreLocation,
    pg_location,
    postgres_server,
    postgres_url,
)

SANDBOX_TASKS = SANDBOX_TASKS_DIR
VALID_LUMEN = "86b1aa001"  # Lumen Skincare, instagram, six listed influencers (two unknown)
VALID_TRAILPEAK = "86b1aa002"  # Trailpeak Outdoors, tiktok, every roster row on tiktok
INVALID_NIMBUS = "86b1aa003"  # many bad fields


def sandbox_task(task_id: str) -> dict[str, Any]:
    """A shipped task by id: the sandbox's own, or the invalid example kept beside them."""
    path = INVALID_EXAMPLE_TASK if task_id == INVALID_NIMBUS else SANDBOX_TASKS / f"{task_id}.json"
    task: dict[str, Any] = json.loads(path.read_text())
    return task


ON_BOTH_STORES = pytest.mark.parametrize("store_backend", BACKENDS, indirect=True)


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """ "sqlite", unless the test is parametrized with ON_BOTH_STORES."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def store_location(
    store_backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> StoreLocation:
    if store_backend == "sqlite":
        return StoreLocation("sqlite", str(tmp_path / "store" / "negotiation.db"))
    location: StoreLocation = request.getfixturevalue("pg_location")
    location.open().close()  # its schema and tables, as a deployment's first run makes them
    return location


def negotiation_db(location: StoreLocation) -> str:
    """The NEGOTIATION_DB value that opens `location`: the file, or the server URL with the
    schema as the session's search_path (how a deployment would point at its own schema)."""
    if location.backend == "sqlite":
        return location.target
    return f"{location.target}?options=-csearch_path%3D{location.schema}"


@pytest.fixture
def store_env(
    store_location: StoreLocation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """NEGOTIATION_DB and the folder of the sandbox files, in the process environment too: a
    PostgreSQL URL is bound as dg.EnvVar, resolved from there at run time."""
    env = {
        "NEGOTIATION_DB": negotiation_db(store_location),
        "NEGOTIATION_DATA_DIR": str(tmp_path / "store"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def fake_clickup() -> Iterator[FakeClickUp]:
    with FakeClickUp() as fake:
        fake.put_tasks(sandbox_task(t) for t in (VALID_LUMEN, VALID_TRAILPEAK, INVALID_NIMBUS))
        yield fake


@pytest.fixture
def clickup_env(
    fake_clickup: FakeClickUp, monkeypatch: pytest.MonkeyPatch, store_env: dict[str, str]
) -> dict[str, str]:
    """ClickUp mode: the token and list id are read through dg.EnvVar, so they are real env."""
    env = {
        "CLICKUP_API_TOKEN": fake_clickup.token,
        "CLICKUP_LIST_ID": fake_clickup.list_id,
        "CLICKUP_API_URL": fake_clickup.base_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env | store_env


@pytest.fixture
def sandbox_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_env: dict[str, str]
) -> dict[str, str]:
    """Sandbox mode (no token): a private copy of the sandbox task folder, plus the invalid
    example task so a test can watch one campaign fail validation beside the valid ones."""
    monkeypatch.delenv("CLICKUP_API_TOKEN", raising=False)
    tasks_dir = tmp_path / "tasks"
    shutil.copytree(SANDBOX_TASKS, tasks_dir)
    shutil.copy(INVALID_EXAMPLE_TASK, tasks_dir / f"{INVALID_NIMBUS}.json")
    return {"NEGOTIATION_SANDBOX_DIR": str(tasks_dir)} | store_env


@pytest.fixture
def clickup_defs(clickup_env: dict[str, str]) -> dg.Definitions:
    return build_definitions(clickup_env)
