"""`negotiation-pipeline campaign validate` exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from negotiation_pipeline.sandbox.paths import (
    INVALID_EXAMPLE_TASK,
    SANDBOX_ROSTER,
    SANDBOX_TASKS_DIR,
)
from tests.cli.support import run_cli

TASKS = SANDBOX_TASKS_DIR


def test_valid_task_prints_campaign_json() -> None:
    result = run_cli("campaign", "validate", str(TASKS / "86b1aa001.json"))
    assert result.exit_code == 0
    campaign = json.loads(result.stdout)
    assert campaign["campaign_id"] == "86b1aa001"
    assert campaign["budget"] == "25000.00"  # Decimal as a string, never a float
    assert campaign["cpm_range"] == {"min_cpm": "18", "max_cpm": "26"}


def test_invalid_task_exit_2_one_line_per_label() -> None:
    captured = run_cli("campaign", "validate", str(INVALID_EXAMPLE_TASK))
    assert captured.exit_code == 2
    assert captured.stdout == ""
    lines = captured.stderr.strip().splitlines()
    assert len(lines) == 9
    assert lines[0] == "Client Name: required, but empty"
    assert all(": " in line for line in lines)


def test_bad_json_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "task.json"
    bad.write_text("{oops")
    result = run_cli("campaign", "validate", str(bad))
    assert result.exit_code == 2
    assert "is not a ClickUp task JSON object" in result.stderr
    bad.write_text("[1, 2]")
    assert run_cli("campaign", "validate", str(bad)).exit_code == 2
    missing = run_cli("campaign", "validate", str(tmp_path / "none.json"))
    assert missing.exit_code == 2
    assert "cannot read" in missing.stderr


def test_a_folder_is_not_a_task_file(tmp_path: Path) -> None:
    result = run_cli("campaign", "validate", str(tmp_path))
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


def test_console_entry_point_subprocess() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "negotiation_pipeline.cli",
            "campaign",
            "validate",
            str(INVALID_EXAMPLE_TASK),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Platform: option 7 is not among the field's ClickUp options" in done.stderr


def _task_copy(tmp_path: Path, *, publish_ms: str, roster_url: str | None = None) -> Path:
    task = json.loads((TASKS / "86b1aa001.json").read_text())
    for field in task["custom_fields"]:
        if field["name"] == "Content Publish Date":
            field["value"] = publish_ms
        if field["name"] == "Influencer Roster URL":
            field["value"] = roster_url
    path = tmp_path / "task.json"
    path.write_text(json.dumps(task))
    return path


PAST = "1577880000000"  # 2020-01-01
FUTURE = "4102488000000"  # 2100-01-01


def test_a_past_publish_date_and_unknown_influencers_are_warnings(tmp_path: Path) -> None:
    result = run_cli("campaign", "validate", str(_task_copy(tmp_path, publish_ms=PAST)))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["publish_date"] == "2020-01-01"
    warnings = result.stderr.strip().splitlines()
    assert warnings[0].startswith("warning: Content Publish Date: 2020-01-01 is already past")
    assert warnings[1:] == ["warning: Influencer List: @nobody.here: not found in the roster"]


def test_a_future_date_and_a_roster_that_has_everyone_give_no_warning(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    sandbox_roster = SANDBOX_ROSTER.read_text()
    roster.write_text(
        sandbox_roster.rstrip("\n")
        + "\nNo Body,nobody@example.test,instagram,nobody.here,40000,3.1,\n"
    )
    task = _task_copy(tmp_path, publish_ms=FUTURE)
    result = run_cli("campaign", "validate", str(task), env={"ROSTER_URL": str(roster)})
    assert result.exit_code == 0 and result.stderr == ""


def test_a_roster_that_cannot_be_read_is_said_and_the_task_still_valid(tmp_path: Path) -> None:
    task = _task_copy(tmp_path, publish_ms=FUTURE)
    missing = tmp_path / "no-such-roster.csv"
    result = run_cli("campaign", "validate", str(task), "--roster", str(missing))
    assert result.exit_code == 0
    [warning] = result.stderr.strip().splitlines()
    assert warning.startswith("warning: Influencer List not checked:")
    assert "no-such-roster.csv" in warning
    offline = run_cli("campaign", "validate", str(task), "--roster", str(missing), "--no-roster")
    assert offline.exit_code == 0 and offline.stderr == ""
