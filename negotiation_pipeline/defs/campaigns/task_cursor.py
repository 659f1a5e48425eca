"""The ClickUp sensor's cursor: a `date_updated` watermark plus the tasks already seen at it.

ClickUp's `date_updated_gt` filter behaves as ">=", so every poll returns again the tasks whose
`date_updated` equals the watermark. The cursor remembers those (task id, date_updated) pairs and
`plan_tick` drops them, so a re-delivered task is never requested twice, while a task whose
`date_updated` moved on (it was edited) is requested again.

Pure functions, no Dagster and no I/O: the sensor reads the listing and turns a plan into a
`SensorResult`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class TaskCursorError(ValueError):
    """The stored cursor text cannot be read (it was edited by hand or written by another tool)."""


@dataclass(frozen=True)
class TaskCursor:
    """`watermark_ms`: the highest `date_updated` seen; `seen_at_watermark`: the task ids whose
    `date_updated` equals it (those are returned again by the next ">=" poll)."""

    watermark_ms: int = 0
    seen_at_watermark: frozenset[str] = frozenset()

    def to_json(self) -> str:
        return json.dumps(
            {
                "watermark_ms": self.watermark_ms,
                "seen_at_watermark": [
                    [task_id, self.watermark_ms] for task_id in sorted(self.seen_at_watermark)
                ],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> TaskCursor:
        """An empty cursor (first tick, or reset from the UI) starts from the beginning."""
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            watermark = int(raw["watermark_ms"])
            pairs = raw.get("seen_at_watermark", [])
            seen = frozenset(
                str(task_id) for task_id, updated in pairs if int(updated) == watermark
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise TaskCursorError(
                f"sensor cursor {text[:200]!r} is not a ClickUp task cursor "
                '({"watermark_ms": int, "seen_at_watermark": [[task_id, ms], ...]}); '
                "reset it to start over"
            ) from exc
        return cls(watermark_ms=watermark, seen_at_watermark=seen)


@dataclass(frozen=True)
class TaskChange:
    """A task that is new or changed since the cursor: one run of the campaign assets."""

    task_id: str
    date_updated_ms: int

    @property
    def run_key(self) -> str:
        # Identifies the content, so a rewound cursor re-emits the same key and Dagster skips it.
        return f"{self.task_id}:{self.date_updated_ms}"


@dataclass(frozen=True)
class TickPlan:
    changes: list[TaskChange] = field(default_factory=list)
    next_cursor: TaskCursor = field(default_factory=TaskCursor)
    ignored_tasks: list[str] = field(default_factory=list)


def task_date_updated_ms(task: Mapping[str, Any]) -> int:
    """ClickUp sends `date_updated` as a string of ms; a missing or odd value raises ValueError."""
    value = task.get("date_updated")
    if isinstance(value, bool) or value is None:
        raise ValueError(f"task {task.get('id')!r} has no date_updated")
    return int(str(value))


def plan_tick(cursor: TaskCursor, tasks: Iterable[Mapping[str, Any]]) -> TickPlan:
    """Decide which listed tasks to run and where the cursor moves.

    A task appearing twice in one listing (edited while we paged) counts once, at its latest
    `date_updated`. Tasks without a usable id or `date_updated` are ignored and reported.
    """
    latest: dict[str, int] = {}
    ignored: list[str] = []
    for task in tasks:
        task_id = str(task.get("id") or "")
        try:
            updated = task_date_updated_ms(task)
        except ValueError:
            ignored.append(task_id or repr(task)[:80])
            continue
        if not task_id:
            ignored.append(repr(task)[:80])
            continue
        latest[task_id] = max(updated, latest.get(task_id, updated))

    changes = [
        TaskChange(task_id, updated)
        for task_id, updated in latest.items()
        if _is_new(cursor, task_id, updated)
    ]
    changes.sort(key=lambda change: (change.date_updated_ms, change.task_id))
    return TickPlan(changes=changes, next_cursor=_advance(cursor, latest), ignored_tasks=ignored)


def _is_new(cursor: TaskCursor, task_id: str, updated: int) -> bool:
    if updated > cursor.watermark_ms:
        return True
    # Equal: the ">=" filter returned it again; only new if we never saw it at this watermark.
    # Older than the watermark: ClickUp should not return it; it was handled when it was current.
    return updated == cursor.watermark_ms and task_id not in cursor.seen_at_watermark


def _advance(cursor: TaskCursor, latest: Mapping[str, int]) -> TaskCursor:
    newest = max([cursor.watermark_ms, *latest.values()])
    at_newest = {task_id for task_id, updated in latest.items() if updated == newest}
    if newest == cursor.watermark_ms:
        at_newest |= cursor.seen_at_watermark
    return TaskCursor(watermark_ms=newest, seen_at_watermark=frozenset(at_newest))
