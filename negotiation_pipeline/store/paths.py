"""Where the business database lives."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV_VAR = "NEGOTIATION_DB"
SANDBOX_DB_PATH = Path(".sandbox") / "negotiation.db"


def default_db_path() -> Path:
    """$NEGOTIATION_DB if set (and not blank), else .sandbox/negotiation.db (relative to cwd)."""
    configured = os.environ.get(DB_ENV_VAR, "").strip()
    return Path(configured).expanduser() if configured else SANDBOX_DB_PATH
