"""Fixtures for the Dagster layer: a real test instance, a real SQLite store file, the loopback
ClickUp fake loaded with the sandbox campaign tasks, and environments that select resources the
way `negotiation_pipeline.definitions` does in production."""

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

SANDBOX_TASKS = SANDBOX_TASKS_DIR
VALID_LUMEN = "86b1aa001"  # Lumen Skincare, instagram, six listed influencers (two unknown)
VALID_TRAILPEAK = "86b1aa002"  # Trailpeak Outdoors, tiktok, every roster row on tiktok
INVALID_NIMBUS = "86b1aa003"  # many bad fields


def sandbox_task(task_id: str) -> dict[str, Any]:
    """A shipped task by id: the sandbox's own, or the invalid example kept beside them."""
    path = INVALID_EXAMPLE_TASK if task_id == INVALID_NIMBUS else SANDBOX_TASKS / f"{task_id}.json"
    task: dict[str, Any] = json.loads(path.read_text())
    return task


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
    tmp_path: Path, fake_clickup: FakeClickUp, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """ClickUp mode: the token and list id are read through dg.EnvVar, so they are real env."""
    env = {
        "CLICKUP_API_TOKEN": fake_clickup.token,
        "CLICKUP_LIST_ID": fake_clickup.list_id,
        "CLICKUP_API_URL": fake_clickup.base_url,
        "NEGOTIATION_DB": str(tmp_path / "store" / "negotiation.db"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def sandbox_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Sandbox mode (no token): a private copy of the sandbox task folder, plus the invalid
    example task so a test can watch one campaign fail validation beside the valid ones."""
    monkeypatch.delenv("CLICKUP_API_TOKEN", raising=False)
    tasks_dir = tmp_path / "tasks"
    shutil.copytree(SANDBOX_TASKS, tasks_dir)
    shutil.copy(INVALID_EXAMPLE_TASK, tasks_dir / f"{INVALID_NIMBUS}.json")
    return {
        "NEGOTIATION_SANDBOX_DIR": str(tasks_dir),
        "NEGOTIATION_DB": str(tmp_path / "store" / "negotiation.db"),
    }


@pytest.fixture
def clickup_defs(clickup_env: dict[str, str]) -> dg.Definitions:
    return build_definitions(clickup_env)
