"""SandboxTaskSource over the committed sandbox tasks and a temp folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from negotiation_pipeline.integrations.clickup import (
    CampaignTaskSource,
    FieldMapping,
    parse_campaign_task,
)
from negotiation_pipeline.sandbox.clickup_tasks import SandboxTaskError, SandboxTaskSource
from negotiation_pipeline.sandbox.paths import INVALID_EXAMPLE_TASK, SANDBOX_TASKS_DIR
from tests.fakes.clickup_server import make_task

SANDBOX_TASKS = SANDBOX_TASKS_DIR


def write_task(folder: Path, task_id: str, updated_ms: int) -> Path:
    path = folder / f"{task_id}.json"
    path.write_text(json.dumps(make_task(task_id, updated_ms)))
    os.utime(path, ns=(updated_ms * 1_000_000 - 10**9,) * 2)  # mtime older than date_updated
    return path


def test_committed_sandbox_tasks_list_and_parse(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    shutil.copytree(SANDBOX_TASKS, tasks)
    shutil.copy(INVALID_EXAMPLE_TASK, tasks / "86b1aa003.json")
    source = SandboxTaskSource(tasks, tmp_path)
    assert isinstance(source, CampaignTaskSource)
    listing = source.list_tasks_updated_since(0, 1)
    assert len(listing.tasks) >= 3 and listing.more_pages is False
    mapping = FieldMapping.load()
    parsed: dict[str, str | None] = {}
    for summary in listing.tasks:
        task = source.get_task(summary["id"])
        try:
            parsed[task["id"]] = parse_campaign_task(task, mapping).client_name
        except ValueError:
            parsed[task["id"]] = None
    assert parsed["86b1aa001"] == "Lumen Skincare"
    assert parsed["86b1aa002"] == "Trailpeak Outdoors"
    assert parsed["86b1aa003"] is None


def test_default_sandbox_folder_holds_only_tasks_that_validate(tmp_path: Path) -> None:
    """A fresh sandbox ingests this folder: a task in it that fails validation would show a
    failed partition to someone trying the product for the first time."""
    source = SandboxTaskSource(SANDBOX_TASKS, tmp_path)
    mapping = FieldMapping.load()
    listed = [t["id"] for t in source.list_tasks_updated_since(0, 1).tasks]
    assert sorted(listed) == ["86b1aa001", "86b1aa002"]
    for task_id in listed:
        assert parse_campaign_task(source.get_task(task_id), mapping).campaign_id == task_id
    with pytest.raises(ValueError, match="Client Name"):
        parse_campaign_task(json.loads(INVALID_EXAMPLE_TASK.read_text()), mapping)


def test_cursor_is_inclusive_and_sorted(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    for task_id, ms in (
        ("b", 2_000_000_000_000),
        ("a", 1_900_000_000_000),
        ("c", 2_100_000_000_000),
    ):
        write_task(tasks, task_id, ms)
    source = SandboxTaskSource(tasks, tmp_path / "out")
    ids = [t["id"] for t in source.list_tasks_updated_since(2_000_000_000_000, 1).tasks]
    assert ids == ["b", "c"]


def test_editing_a_file_moves_date_updated(tmp_path: Path) -> None:
    path = write_task(tmp_path, "x", 1_000_000_000_000)
    source = SandboxTaskSource(tmp_path, tmp_path)
    before = int(source.get_task("x")["date_updated"])
    assert before == 1_000_000_000_000
    os.utime(path, ns=(2_000_000_000_000 * 1_000_000,) * 2)
    assert int(source.get_task("x")["date_updated"]) == 2_000_000_000_000


def test_broken_file_is_skipped_in_listing_and_named_on_get(tmp_path: Path) -> None:
    write_task(tmp_path, "ok", 1_000_000_000_000)
    (tmp_path / "bad.json").write_text("{not json")
    source = SandboxTaskSource(tmp_path, tmp_path)
    assert [t["id"] for t in source.list_tasks_updated_since(0, 1).tasks] == ["ok"]
    with pytest.raises(SandboxTaskError, match=r"bad\.json is unreadable"):
        source.get_task("bad")


def test_comments_go_to_jsonl(tmp_path: Path) -> None:
    shutil.copy(INVALID_EXAMPLE_TASK, tmp_path / "86b1aa003.json")
    source = SandboxTaskSource(tmp_path, tmp_path / "state")
    source.post_comment("86b1aa003", "Client Name: required")
    source.post_comment("86b1aa003", "second")
    lines = (tmp_path / "state" / "clickup_comments.jsonl").read_text().splitlines()
    assert [json.loads(line)["comment_text"] for line in lines] == [
        "Client Name: required",
        "second",
    ]
    assert source.read_comments()[0]["notify_all"] is False
