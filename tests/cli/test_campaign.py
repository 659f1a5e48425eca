"""`negotiation-pipeline campaign validate` exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from negotiation_pipeline.cli.main import main
from negotiation_pipeline.sandbox.paths import INVALID_EXAMPLE_TASK, SANDBOX_TASKS_DIR

TASKS = SANDBOX_TASKS_DIR


def test_valid_task_prints_campaign_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["campaign", "validate", str(TASKS / "86b1aa001.json")]) == 0
    campaign = json.loads(capsys.readouterr().out)
    assert campaign["campaign_id"] == "86b1aa001"
    assert campaign["budget"] == "25000.00"  # Decimal as a string, never a float
    assert campaign["cpm_range"] == {"min_cpm": "18", "max_cpm": "26"}


def test_invalid_task_exit_2_one_line_per_label(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["campaign", "validate", str(INVALID_EXAMPLE_TASK)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 9
    assert lines[0] == "Client Name: required, but empty"
    assert all(": " in line for line in lines)


def test_bad_json_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "task.json"
    bad.write_text("{oops")
    assert main(["campaign", "validate", str(bad)]) == 2
    assert "is not a ClickUp task JSON object" in capsys.readouterr().err
    bad.write_text("[1, 2]")
    assert main(["campaign", "validate", str(bad)]) == 2
    assert main(["campaign", "validate", str(tmp_path / "none.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_console_entry_point_subprocess() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "negotiation_pipeline.cli.main",
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
