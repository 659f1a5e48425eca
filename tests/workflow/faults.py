"""Real database failures inside the store's own transactions, on either backend.

A trigger makes inserts into one table fail the way a full disk does: on SQLite
`RAISE(ABORT, ...)` (sqlite3.IntegrityError), on PostgreSQL an exception with SQLSTATE 53100
(psycopg.errors.DiskFull). The store sees a driver error from its own statement, exactly as in
production; nothing in the product is patched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.store.conftest import StoreLocation

MESSAGE = "disk full (simulated)"


@dataclass
class FailingInserts:
    """A trigger in place until `stop()`."""

    location: StoreLocation
    table: str
    name: str

    def stop(self) -> None:
        if self.location.backend == "sqlite":
            with _sqlite(self.location) as raw:
                raw.execute(f"DROP TRIGGER {self.name}")
            return
        schema = self.location.schema
        _postgres(
            self.location,
            f'DROP TRIGGER {self.name} ON "{schema}".{self.table}',
            f'DROP FUNCTION "{schema}".{self.name}()',
        )


def fail_inserts(
    location: StoreLocation, table: str, *, column: str | None = None, value: str | None = None
) -> FailingInserts:
    """Inserts into `table` fail (only rows whose `column` equals `value`, when given).
    Test-only SQL: the names and the value are the test's own constants."""
    name = f"fail_{table}"
    if location.backend == "sqlite":
        when = "" if column is None else f"WHEN NEW.{column} = '{value}' "
        with _sqlite(location) as raw:
            raw.execute(
                f"CREATE TRIGGER {name} AFTER INSERT ON {table} {when}"
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        return FailingInserts(location, table, name)
    schema = location.schema
    condition = "true" if column is None else f"NEW.{column} = '{value}'"
    _postgres(
        location,
        f'CREATE FUNCTION "{schema}".{name}() RETURNS trigger LANGUAGE plpgsql AS $$ '
        f"BEGIN IF {condition} THEN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'disk_full'; "
        "END IF; RETURN NEW; END $$",
        f'CREATE TRIGGER {name} AFTER INSERT ON "{schema}".{table} '
        f'FOR EACH ROW EXECUTE FUNCTION "{schema}".{name}()',
    )
    return FailingInserts(location, table, name)


@contextmanager
def _sqlite(location: StoreLocation) -> Iterator[sqlite3.Connection]:
    raw = sqlite3.connect(location.target)
    try:
        yield raw
        raw.commit()
    finally:
        raw.close()


def _postgres(location: StoreLocation, *statements: str) -> None:
    import psycopg

    with psycopg.connect(location.target, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.encode())
