"""Where the sandbox's shipped example data lives: ClickUp-shaped task files and a roster.

The data is package data (found through `importlib.resources`), so a sandbox runs the same from
a clone and from an installed wheel. It is only read; everything a sandbox run writes goes to its
own folder next to the sandbox database.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SANDBOX_DATA_DIR = Path(str(files("negotiation_pipeline.sandbox") / "data"))
SANDBOX_TASKS_DIR = SANDBOX_DATA_DIR / "clickup" / "tasks"
SANDBOX_ROSTER = SANDBOX_DATA_DIR / "roster.csv"
