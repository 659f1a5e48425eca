"""What differs between the SQL backends, and nothing else: the repositories (repositories.py) are
written once against a `Dialect`, so a query or a rule lives in one place for both stores.

The differences are small and all here: the driver's parameter markers (`?` / `:name` for
sqlite3, `%s` / `%(name)s` for psycopg), the casts PostgreSQL needs for jsonb parameters, how a
timestamp or an amount of money is stored (fixed-width text and Decimal text in SQLite,
timestamptz and numeric in PostgreSQL), case-insensitive equality, which column breaks ties in
insertion order, how an insert hands back its id, and the fastest bulk insert.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from negotiation_pipeline.store import codec
from negotiation_pipeline.store import rows as row_codec
from negotiation_pipeline.store.base import iter_chunks

# Rows per executemany call on SQLite's bulk path.
SQLITE_BATCH_ROWS = 5_000


class Cursor(Protocol):
    """The part of a DB-API cursor the repositories use (sqlite3 and psycopg both have it)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, params: Any = ..., /) -> Cursor: ...


# write=True → the store's write lock (BEGIN IMMEDIATE / advisory lock); write=False → a
# consistent read snapshot. A unit of work's scope hands out its already open transaction.
ConnectionScope = Callable[[bool], AbstractContextManager[Connection]]


def quoted(columns: Iterable[str]) -> str:
    # Quoted because "timestamp" is a keyword in PostgreSQL; SQLite accepts the same quotes and
    # names result columns without them, so rows are read by the same keys on both.
    return ", ".join(f'"{name}"' for name in columns)


class Dialect(ABC):
    mark: str  # positional parameter marker
    json_cast: str  # appended to a JSON parameter or literal ("" where JSON is plain text)
    # The same for JSON kept exactly as written, key order included (what people read: the
    # audit metadata), where json_cast may normalise it.
    written_json_cast: str
    no_limit: int | None  # the LIMIT parameter meaning "every row"
    returning_id: str  # appended to an INSERT so that `inserted_id` can read the new id

    @abstractmethod
    def param(self, name: str) -> str:
        """The marker of the named parameter `name`."""

    def json_param(self, name: str) -> str:
        return self.param(name) + self.json_cast

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    @abstractmethod
    def ci_equals(self, column: str) -> str:
        """`column` equals the next positional parameter, ignoring case (served by an index)."""

    @abstractmethod
    def tiebreak(self, table: str) -> str:
        """The column that orders `table`'s rows sharing a created_at."""

    @abstractmethod
    def now(self) -> Any:
        """The current instant as the timestamp columns store it."""

    @abstractmethod
    def timestamp(self, moment: datetime) -> Any:
        """A caller's instant as the timestamp columns store it; a naive datetime is refused."""

    @abstractmethod
    def trusted_timestamp(self, moment: datetime) -> Any:
        """Like `timestamp`, for an instant already validated as aware (AuditEntry's)."""

    @abstractmethod
    def money(self, amount: Any) -> Any:
        """An amount as the money columns store it (the Decimal's exact digits)."""

    @abstractmethod
    def inserted_id(self, cursor: Cursor) -> int:
        """The id of the row an INSERT ... `returning_id` just wrote."""

    @abstractmethod
    def bulk_insert(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> int:
        """Append many rows in the open transaction, the fastest way; returns how many."""


class SQLiteDialect(Dialect):
    mark = "?"
    json_cast = ""
    written_json_cast = ""
    no_limit = -1
    returning_id = ""  # sqlite3 reports cursor.lastrowid

    def param(self, name: str) -> str:
        return f":{name}"

    def ci_equals(self, column: str) -> str:
        # The columns are declared COLLATE NOCASE, so the index serves this comparison.
        return f"{column} = ? COLLATE NOCASE"

    def tiebreak(self, table: str) -> str:
        return "rowid"  # insertion order

    def now(self) -> str:
        return codec.format_timestamp(codec.utc_now())

    def timestamp(self, moment: datetime) -> str:
        return codec.format_timestamp(moment)

    trusted_timestamp = timestamp  # the text is needed either way

    def money(self, amount: Any) -> str:
        return str(amount)

    def inserted_id(self, cursor: Cursor) -> int:
        assert isinstance(cursor, sqlite3.Cursor)
        return int(cursor.lastrowid or 0)

    def bulk_insert(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> int:
        assert isinstance(conn, sqlite3.Connection)
        # Composed only from the caller's constant names; values always go through placeholders.
        sql = f"INSERT INTO {table} ({quoted(columns)}) VALUES ({self.marks(len(columns))})"  # noqa: S608
        written = 0
        for chunk in iter_chunks(rows, SQLITE_BATCH_ROWS):
            conn.executemany(sql, chunk)
            written += len(chunk)
        return written


class PostgresDialect(Dialect):
    mark = "%s"
    json_cast = "::jsonb"
    written_json_cast = "::json"  # jsonb reorders keys (shortest first); json keeps the text
    no_limit = None  # LIMIT NULL is "no limit" in PostgreSQL
    returning_id = " RETURNING id"

    def param(self, name: str) -> str:
        return f"%({name})s"

    def ci_equals(self, column: str) -> str:
        # Served by the lower(column) expression index (COLLATE NOCASE has no equivalent).
        return f"lower({column}) = lower(%s)"

    def tiebreak(self, table: str) -> str:
        # No rowid: the outbox keeps an identity `seq` for insertion order; campaigns have none.
        return {"outbox": "seq", "notification_outbox": "seq", "campaigns": "campaign_id"}[table]

    def now(self) -> datetime:
        return codec.utc_now()

    def timestamp(self, moment: datetime) -> datetime:
        return row_codec.require_aware(moment)

    def trusted_timestamp(self, moment: datetime) -> datetime:
        return moment  # timestamptz takes the datetime itself; no need to check it again

    def money(self, amount: Any) -> Decimal:
        # Parsed from the same text the SQLite store keeps, so both hold the same digits.
        return Decimal(str(amount))

    def inserted_id(self, cursor: Cursor) -> int:
        row = cursor.fetchone()
        assert row is not None
        return int(row["id"])

    def bulk_insert(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> int:
        written = 0
        # COPY streams the rows: several times faster than any INSERT form.
        with conn.cursor().copy(f"COPY {table} ({quoted(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
                written += 1
        return written


SQLITE = SQLiteDialect()
POSTGRES = PostgresDialect()
