"""SQLite implementation of the store interface (see base.py).

Concurrency rules (an sqlite3 connection must never be shared across threads):
- each thread (and each process, checked by pid so a forked child never reuses its parent's
  handle) gets its own connection, opened lazily and reused, because opening one costs about
  0.45 ms, half the query budget;
- WAL, foreign_keys ON, busy_timeout 30 s on every connection;
- every write runs in BEGIN IMMEDIATE: the write lock is taken up front, so two read-modify-write
  transactions queue on the busy timeout instead of failing with "database is locked"
  (deferred BEGIN failed 1534 of 1600 such transactions in our measurement);
- only parameterised SQL; no value is ever formatted into a statement.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from negotiation_pipeline.store.base import StoreError, StoreNotFoundError
from negotiation_pipeline.store.dialect import SQLITE
from negotiation_pipeline.store.errors import sqlite_error
from negotiation_pipeline.store.installation import MESSAGE_ID_SECRET_ENV, configured_secret_key
from negotiation_pipeline.store.repositories import SqlStates
from negotiation_pipeline.store.schema import apply_schema
from negotiation_pipeline.store.unit_of_work import BoundUnitOfWork, Repositories, open_unit_of_work

if TYPE_CHECKING:
    from negotiation_pipeline.store.postgres import PostgresStore

DEFAULT_BUSY_TIMEOUT_S = 30.0
# Pauses between tries of the switch to WAL while another process has the file (see _use_wal).
_WAL_RETRY_FIRST_PAUSE_S = 0.005
_WAL_RETRY_MAX_PAUSE_S = 0.2

# `NegotiationStateStore` is the public name of the negotiation-state repository.
NegotiationStateStore = SqlStates


class SQLiteUnitOfWork(BoundUnitOfWork):
    """Repositories that all run on one open BEGIN IMMEDIATE transaction."""

    def __init__(self, conn: sqlite3.Connection, message_id_key: bytes | None = None) -> None:
        super().__init__(SQLITE, conn, message_id_key)


class SQLiteStore(Repositories):
    """The business store on one SQLite file.

    `SQLiteStore(path)` creates the file and schema if needed; `create=False` refuses a missing
    file (the CLI must not invent an empty database). `message_id_secret`: the configured
    Message-ID key (see installation.py); None = the one stored in the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        message_id_secret: str | None = None,
    ) -> None:
        self.path = Path(path)
        self._message_id_key = configured_secret_key(message_id_secret)
        if not create and not self.path.is_file():
            raise StoreNotFoundError(f"database file not found: {self.path}")
        if create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise sqlite_error(self.path, exc) from exc
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        super().__init__(SQLITE, self._scope, self._message_id_key)
        with self._scope(True) as conn:
            # BEGIN IMMEDIATE: a second process opening an old file at the same time waits,
            # then finds it migrated. An up-to-date file runs no DDL at all.
            version = apply_schema(conn, SQLITE.now(), create=create)
            if version is None:
                raise StoreNotFoundError(f"no negotiation store in {self.path}")
            self.schema_version = version
            # Sampled planner statistics (~5 ms at 1M audit rows; empty tables get none), so a
            # query filtering on influencer AND campaign uses the more selective index: without
            # them SQLite picked the campaign index and took 10 ms at 1M rows. (PRAGMA optimize
            # cannot do this on SQLite 3.40: its "all tables" flag arrived in 3.46.)
            conn.execute("PRAGMA analysis_limit=400")
            conn.execute("ANALYZE")

    def transaction(self, *, exclusive: bool = True) -> AbstractContextManager[SQLiteUnitOfWork]:
        """BEGIN IMMEDIATE … COMMIT; ROLLBACK (and re-raise) if the block raises.

        SQLite has one writer at a time, so every write transaction is exclusive whatever
        `exclusive` says, and `uow.lock(...)` has nothing to add."""
        return open_unit_of_work(
            self._scope, lambda conn: SQLiteUnitOfWork(conn, self._message_id_key)
        )

    def claim_uids(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> frozenset[int]:
        """All of them: SQLite has no lock that outlives a transaction and dies with its
        process. Two processes reading one mailbox both fetch each message; the one that comes
        second finds it handled (Message-ID dedupe inside its BEGIN IMMEDIATE) and skips it."""
        return frozenset(uids)

    def release_uids(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> None:
        """Nothing was held (see claim_uids)."""

    def close(self) -> None:
        """Close the calling thread's connection (others close when their thread ends)."""
        conn = self._thread_connection(open_new=False)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def _scope(self, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction; a database failure (also one raised by SQL in the block) leaves as
        a StoreAccessError naming this file and what the failure means."""
        try:
            with self._transaction(write) as conn:
                yield conn
        except sqlite3.Error as exc:
            raise sqlite_error(self.path, exc, self._busy_timeout_s) from exc

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        conn = self._thread_connection(open_new=True)
        assert conn is not None
        if conn.in_transaction:
            raise StoreError(
                "a store transaction is already open in this thread: "
                "use the unit of work it yielded instead of the store"
            )
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            _rollback_quietly(conn)
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            _rollback_quietly(conn)
            raise

    def _thread_connection(self, *, open_new: bool) -> sqlite3.Connection | None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        # After fork the child must not touch the parent's handle; it opens its own.
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        if not open_new:
            return None
        conn = self._connect()
        self._local.conn = conn
        self._local.pid = os.getpid()
        return conn

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout_s, isolation_level=None)
        conn.row_factory = sqlite3.Row
        self._use_wal(conn)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_s * 1000)}")
        # NORMAL is durable across application crashes in WAL mode (only an OS crash can lose
        # the last commits) and much faster than FULL.
        conn.execute("PRAGMA synchronous=NORMAL")
        # 32 MB page cache (default 2 MB): the six audit indexes stay hot on bulk inserts.
        conn.execute("PRAGMA cache_size=-32000")
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (it stays so). Changing the journal mode needs the file to
        itself, and SQLite answers "locked" at once, without waiting the busy timeout, while
        another process is opening or switching the same file; so the switch is retried
        until the busy timeout has passed. A file already in WAL needs no switch."""
        deadline = time.monotonic() + self._busy_timeout_s
        pause = _WAL_RETRY_FIRST_PAUSE_S
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if not _is_lock_error(exc) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _WAL_RETRY_MAX_PAUSE_S)


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def _rollback_quietly(conn: sqlite3.Connection) -> None:
    """Roll back after a failure; a failing ROLLBACK (disk gone) must not hide that failure."""
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def open_store(
    location: str | os.PathLike[str] | None = None,
    *,
    create: bool = True,
    message_id_secret: str | None = None,
) -> SQLiteStore | PostgresStore:
    """The store at `location`, else at default_db_location() ($NEGOTIATION_DB).

    A `postgresql://` URL opens a PostgresStore (psycopg is imported only then, with a clear
    error naming the extra to install when it is missing); anything else is a SQLite file path.
    `message_id_secret` defaults to $NEGOTIATION_MESSAGE_ID_SECRET (unset: the stored key).
    """
    from negotiation_pipeline.store.paths import default_db_location, is_postgres_url

    target = default_db_location() if location is None else location
    secret = message_id_secret or os.environ.get(MESSAGE_ID_SECRET_ENV) or None
    if is_postgres_url(target):
        from negotiation_pipeline.store.postgres import PostgresStore

        return PostgresStore(str(target), create=create, message_id_secret=secret)
    return SQLiteStore(target, create=create, message_id_secret=secret)
