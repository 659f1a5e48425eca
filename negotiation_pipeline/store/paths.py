"""Where the business database lives: a SQLite file path, or a PostgreSQL URL."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV_VAR = "NEGOTIATION_DB"
SANDBOX_DB_PATH = Path(".sandbox") / "negotiation.db"
POSTGRES_URL_SCHEMES = ("postgresql", "postgres")


def is_postgres_url(value: object) -> bool:
    """True for `postgresql://...` / `postgres://...`; a file path or anything else: False."""
    if not isinstance(value, str):
        return False
    scheme, separator, _ = value.strip().partition("://")
    return bool(separator) and scheme.lower() in POSTGRES_URL_SCHEMES


def default_db_path() -> Path:
    """$NEGOTIATION_DB if set (and not blank), else .sandbox/negotiation.db (relative to cwd).

    For a PostgreSQL URL in $NEGOTIATION_DB use default_db_location(): a Path would mangle it.
    """
    configured = os.environ.get(DB_ENV_VAR, "").strip()
    return Path(configured).expanduser() if configured else SANDBOX_DB_PATH


def default_db_location() -> str | Path:
    """$NEGOTIATION_DB as given when it is a PostgreSQL URL, else default_db_path()."""
    configured = os.environ.get(DB_ENV_VAR, "").strip()
    return configured if is_postgres_url(configured) else default_db_path()
