"""Database failures in words an operator can act on, naming the database.

The stores raise `StoreAccessError` (a StoreError) instead of the driver's exception: "SQLite
database /var/lib/negotiation.db is locked: another process ..." rather than a bare
`sqlite3.OperationalError: database is locked` that names neither the file nor what to do. The
driver's exception stays chained (its text holds no secret); the PostgreSQL location never
contains the password.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from negotiation_pipeline.domain.redaction import redact_text
from negotiation_pipeline.store.base import StoreError


class StoreAccessError(StoreError):
    """The database failed (locked, disk I/O, unreadable or damaged file, server gone).
    `database` names it: the SQLite path, or the PostgreSQL location without the password."""

    def __init__(self, message: str, *, database: str) -> None:
        super().__init__(message)
        self.database = database


# sqlite3 message fragment → what it means for the operator ({db} is the path).
_SQLITE_CAUSES: tuple[tuple[str, str], ...] = (
    (
        "is locked",
        "SQLite database {db} is locked: another process held it for longer than the "
        "{busy} (a long transaction, or a stuck process using the same file?)",
    ),
    (
        "disk i/o error",
        "disk I/O error on SQLite database {db} (failing or full disk, the file on a network "
        "share, or the file or its -wal/-shm companions removed while in use?)",
    ),
    (
        "unable to open database file",
        "cannot open SQLite database {db}: the file or its folder is missing, or this user may "
        "not read and write it",
    ),
    ("database or disk is full", "SQLite database {db}: the disk is full"),
    (
        "readonly database",
        "SQLite database {db} is read-only for this process (file or folder permissions)",
    ),
    (
        "file is not a database",
        "{db} is not a SQLite database (another kind of file, or damaged)",
    ),
    (
        "malformed",
        "SQLite database {db} is damaged (malformed); restore it from a backup",
    ),
)


def sqlite_error(
    path: Path, exc: sqlite3.Error | OSError, busy_timeout_s: float | None = None
) -> StoreAccessError:
    """The StoreAccessError for a failure of the SQLite database at `path`."""
    database = str(path)
    if isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        return StoreAccessError(
            f"cannot prepare SQLite database {database}: {reason}", database=database
        )
    cause = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    lowered = str(exc).lower()
    for fragment, wording in _SQLITE_CAUSES:
        if fragment in lowered:
            busy = (
                "busy timeout" if busy_timeout_s is None else f"{busy_timeout_s:g} s busy timeout"
            )
            message = f"{wording.format(db=database, busy=busy)} ({cause})"
            return StoreAccessError(message, database=database)
    return StoreAccessError(f"SQLite database {database}: {cause}", database=database)


def postgres_error(location: str, exc: Exception) -> StoreAccessError:
    """The StoreAccessError for a psycopg failure of the store at `location` (no password)."""
    first_line = (str(exc).strip().splitlines() or [""])[0]
    kind = type(exc).__name__
    if kind in ("OperationalError", "InterfaceError") and "closed" in first_line.lower():
        reason = "the connection to the server was lost"
    else:
        reason = first_line or "no message"
    message = f"PostgreSQL store at {location}: {kind}: {redact_text(reason)}"
    return StoreAccessError(message, database=location)
