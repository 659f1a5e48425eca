"""Where the sandbox's shipped example data lives: ClickUp-shaped task files and a roster.

`SANDBOX_TASKS_DIR` is what a sandbox ingests by default, so every task in it validates and a
fresh sandbox shows only healthy campaigns. `EXAMPLE_TASKS_DIR` holds tasks kept to show what
`campaign validate` reports for a broken form; nothing ingests them unless pointed at them.

The data is package data (found through `importlib.resources`), so a sandbox runs the same from
a clone and from an installed wheel. It is only read; everything a sandbox run writes goes to its
own folder next to the sandbox database.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SANDBOX_DATA_DIR = Path(str(files("negotiation_pipeline.sandbox") / "data"))
SANDBOX_TASKS_DIR = SANDBOX_DATA_DIR / "clickup" / "tasks"
EXAMPLE_TASKS_DIR = SANDBOX_DATA_DIR / "clickup" / "examples"
INVALID_EXAMPLE_TASK = EXAMPLE_TASKS_DIR / "invalid_task.json"  # id 86b1aa003, many bad fields
SANDBOX_ROSTER = SANDBOX_DATA_DIR / "roster.csv"
