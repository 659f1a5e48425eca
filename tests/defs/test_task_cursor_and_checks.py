"""Pure parts of the Dagster layer: the sensor cursor plan and the CPM bounds check."""

from __future__ import annotations

from decimal import Decimal

import pytest

from negotiation_pipeline.defs.campaigns.checks import (
    cpm_within_bounds_result,
    flexibility_violations,
)
from negotiation_pipeline.defs.campaigns.task_cursor import TaskCursor, TaskCursorError, plan_tick


def test_cursor_round_trips_as_json_pairs() -> None:
    cursor = TaskCursor(watermark_ms=1700, seen_at_watermark=frozenset({"b", "a"}))
    assert cursor.to_json() == '{"watermark_ms":1700,"seen_at_watermark":[["a",1700],["b",1700]]}'
    assert TaskCursor.from_json(cursor.to_json()) == cursor
    assert TaskCursor.from_json(None) == TaskCursor()
    with pytest.raises(TaskCursorError, match="reset it"):
        TaskCursor.from_json('{"seen": []}')


def test_plan_dedupes_keeps_latest_edit_and_ignores_unusable_tasks() -> None:
    cursor = TaskCursor(watermark_ms=100, seen_at_watermark=frozenset({"seen"}))
    plan = plan_tick(
        cursor,
        [
            {"id": "seen", "date_updated": "100"},  # returned again by ">=": not new
            {"id": "old", "date_updated": "90"},  # older than the watermark: handled before
            {"id": "same-ms", "date_updated": "100"},  # new at the watermark
            {"id": "edited", "date_updated": "150"},
            {"id": "edited", "date_updated": "170"},  # edited again while we paged
            {"id": "no-date"},
            {"date_updated": "180"},
        ],
    )
    assert [(c.task_id, c.run_key) for c in plan.changes] == [
        ("same-ms", "same-ms:100"),
        ("edited", "edited:170"),
    ]
    assert plan.next_cursor == TaskCursor(170, frozenset({"edited"}))
    assert len(plan.ignored_tasks) == 2


def test_bounds_check_names_each_broken_rule() -> None:
    good = {
        "name": "Ok",
        "floor_cpm": Decimal("18"),
        "max_allowed_cpm": Decimal("31.20"),
        "opening_rate": Decimal("500.00"),
        "ceiling_rate": Decimal("900.00"),
    }
    bad = {
        "name": "Bad",
        "floor_cpm": Decimal("20"),
        "max_allowed_cpm": Decimal("31.21"),  # above 120% of 26
        "opening_rate": Decimal("950.00"),  # above the ceiling
        "ceiling_rate": Decimal("900.00"),
    }
    floaty = {**good, "name": "Float", "ceiling_rate": 900.0}
    problems = flexibility_violations([good, bad, floaty], Decimal("26"))
    assert problems == [
        "Bad: max_allowed_cpm 31.21 > 120% cap 31.20",
        "Bad: opening_rate 950.00 > ceiling_rate 900.00",
        "Float: ceiling_rate not Decimal",
    ]
    assert cpm_within_bounds_result([good], Decimal("26")).passed
    assert not cpm_within_bounds_result([good, bad], Decimal("26")).passed
