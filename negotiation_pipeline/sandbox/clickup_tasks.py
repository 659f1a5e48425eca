"""Sandbox campaign tasks: a folder of ClickUp-shaped task JSON files (one task per file, as
GET /task returns it). Comments are appended to `<comments_dir>/clickup_comments.jsonl`.

Listing uses the same semantics as ClickUp: date_updated >= cursor, oldest first, 100 per page.
A task's date_updated is the later of its JSON value and the file's modification time, so an
operator editing a file makes the sensor see a changed task, as a ClickUp edit would.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from negotiation_pipeline.integrations.clickup.client import (
    PAGE_SIZE,
    TaskListing,
    task_date_updated,
)
from negotiation_pipeline.integrations.clickup.fields import load_task_json

log = logging.getLogger(__name__)

COMMENTS_FILE = "clickup_comments.jsonl"


class SandboxTaskError(LookupError):
    """A sandbox task is missing or its file is unreadable; the message names the file."""


class SandboxTaskSource:
    """`CampaignTaskSource` over a folder of task JSON files."""

    def __init__(self, tasks_dir: Path | str, comments_dir: Path | str) -> None:
        self.tasks_dir = Path(tasks_dir)
        self.comments_dir = Path(comments_dir)

    @property
    def comments_path(self) -> Path:
        return self.comments_dir / COMMENTS_FILE

    def _load(self, path: Path) -> dict[str, Any]:
        try:
            task = load_task_json(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise SandboxTaskError(f"sandbox task file {path} is unreadable: {exc}") from exc
        if not task.get("id"):
            raise SandboxTaskError(f"sandbox task file {path} has no task id")
        mtime_ms = path.stat().st_mtime_ns // 1_000_000
        task["date_updated"] = str(max(task_date_updated(task), mtime_ms))
        return task

    def _all_tasks(self) -> list[dict[str, Any]]:
        tasks = []
        for path in sorted(self.tasks_dir.glob("*.json")):
            try:
                tasks.append(self._load(path))
            except SandboxTaskError as exc:
                log.warning("skipping %s", exc)  # one broken file must not stop the others
        return tasks

    def list_tasks_updated_since(self, updated_gt_ms: int, max_pages: int = 10) -> TaskListing:
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        matching = sorted(
            (t for t in self._all_tasks() if task_date_updated(t) >= updated_gt_ms),
            key=lambda t: (task_date_updated(t), str(t["id"])),
        )
        limit = max_pages * PAGE_SIZE
        return TaskListing(matching[:limit], more_pages=len(matching) > limit)

    def get_task(self, task_id: str) -> dict[str, Any]:
        preferred = self.tasks_dir / f"{task_id}.json"
        if preferred.is_file():
            task = self._load(preferred)
            if str(task["id"]) == task_id:
                return task
        for task in self._all_tasks():
            if str(task["id"]) == task_id:
                return task
        raise SandboxTaskError(f"no sandbox task {task_id!r} in {self.tasks_dir}")

    def post_comment(self, task_id: str, text: str) -> None:
        self.comments_dir.mkdir(parents=True, exist_ok=True)
        record = {
            "task_id": task_id,
            "comment_text": text,
            "notify_all": False,
            "date": int(time.time() * 1000),
        }
        with self.comments_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def read_comments(self) -> list[dict[str, Any]]:
        """Comments written so far (for tests and the sandbox UI)."""
        if not self.comments_path.exists():
            return []
        lines = self.comments_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
