"""`negotiation-pipeline campaign validate` exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from negotiation_pipeline.sandbox.paths import INVALID_EXAMPLE_TASK, SANDBOX_TASKS_DIR
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
