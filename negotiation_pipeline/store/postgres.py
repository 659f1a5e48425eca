"""PostgreSQL implementation of the store interface (see base.py), with psycopg 3.

Select it with a URL: `open_store("postgresql://user@host/db")` or NEGOTIATION_DB set to one.
Install the extra first: `uv sync --extra postgres` (psycopg is imported only when a URL is used).

Concurrency. The callers' exactly-once reasoning was written against SQLite's one writer at a
time; PostgreSQL keeps that by default and relaxes it only where a caller says what it locks:
- every write transaction first takes the store's advisory lock (`pg_advisory_xact_lock` on a
  key derived from the store's schema). `store.transaction()` takes it EXCLUSIVE: the
  equivalent of SQLite's BEGIN IMMEDIATE, nothing else writes meanwhile. Writers queue (they do
  not fail), the lock also covers rows that do not exist yet (a `SELECT ... FOR UPDATE` cannot
  lock a missing mail cursor or negotiation), and the read-then-write code inside a unit of
  work needs no retry loop, which a SERIALIZABLE transaction would demand (a `with` block
  cannot be replayed). Readers never wait: MVCC gives them the last committed state. The lock is
  released by COMMIT/ROLLBACK, also when the client dies (the server ends the session);
- `store.transaction(exclusive=False)` takes the store lock SHARED, so such transactions run
  side by side, and each names what its read-then-write depends on with `uow.lock(kind, name)`
  (one transaction-level advisory lock per negotiation, message, campaign or mailbox). That is
  safe because every row such a transaction rewrites after reading it belongs to something it
  locked, and everything else it writes is an insert that cannot conflict (audit entries) or a
  conditional upsert keyed by what it locked. An exclusive transaction still waits for all of
  them and they for it (shared and exclusive conflict), so code written for one writer at a
  time stays correct beside them. Locks are taken in one order (store, message, thread,
  campaign, mailbox), so two transactions never wait for each other in a circle;
- a single repository call on the store (`store.outbox.mark_sent(...)`) takes the store lock
  SHARED too: each is one atomic, conditional statement (or a statement and a read of the row
  it just locked), which needs nothing more, and this way several deliverers or readers do not
  queue behind each other for them;
- mail uids are claimed with session-level advisory locks (`claim_uids`), which outlive the
  short transactions and end with the session: a run that dies frees its uids at once;
- one connection per thread, per process (checked by pid: a forked child opens its own and
  never touches, or finalizes, its parent's socket);
- only parameterised SQL; no value is ever formatted into a statement;
- the session time zone is UTC, so timestamps come back as UTC datetimes.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from negotiation_pipeline.domain.redaction import redact_query, redact_text
from negotiation_pipeline.store.base import Lockable, StoreError, StoreNotFoundError
from negotiation_pipeline.store.dialect import POSTGRES
from negotiation_pipeline.store.errors import StoreAccessError, postgres_error
from negotiation_pipeline.store.installation import configured_secret_key
from negotiation_pipeline.store.paths import is_postgres_url
from negotiation_pipeline.store.postgres_schema import apply_postgres_schema
from negotiation_pipeline.store.unit_of_work import BoundUnitOfWork, Repositories, open_unit_of_work

if TYPE_CHECKING:
    import psycopg

INSTALL_HINT = (
    "install the PostgreSQL extra: `uv sync --extra postgres` "
    "(or `pip install 'negotiation-pipeline[postgres]'`)"
)
DEFAULT_CONNECT_TIMEOUT_S = 10
APPLICATION_NAME = "negotiation_pipeline"

# Connections a forked child inherited: kept referenced so they are never finalized in the child
# (finalizing sends libpq's Terminate on the socket the parent is still using).
_INHERITED_CONNECTIONS: list[Any] = []


def redact_url(url: str) -> str:
    """The URL with any password and every query value (`?password=`, `sslpassword=`) replaced
    by ***, for messages and logs. The user name stays: it helps find the right account."""
    parts = urlsplit(url)
    if parts.query:
        parts = parts._replace(query=redact_query(parts.query))
    if parts.password is None:
        return urlunsplit(parts)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            f"a PostgreSQL store needs psycopg 3, which is not installed: {INSTALL_HINT}"
        ) from exc
    return psycopg


def _lock_key(schema_name: str, *parts: str) -> int:
    """An advisory-lock id (a signed 64-bit number): the whole store's from its schema alone
    (the value every version of this code uses), or one thing in it from `parts`."""
    text = f"negotiation_pipeline:{schema_name}" + "".join(f"\x00{part}" for part in parts)
    digest = hashlib.blake2b(text.encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class _StoreLock(Enum):
    """How a transaction holds the store's advisory lock (see the module docstring)."""

    NONE = "none"  # a read: a snapshot, no lock
    SHARED = "shared"  # beside other shared holders
    EXCLUSIVE = "exclusive"  # alone


LockKeyOf = Callable[[Lockable, str], int]


class PostgresUnitOfWork(BoundUnitOfWork):
    """Repositories that all run in one open transaction holding the store's write lock:
    exclusive (`lock_key_of` None: `lock` has nothing to add), or shared, with `lock` taking
    the transaction-level locks the block asks for."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        message_id_key: bytes | None = None,
        lock_key_of: LockKeyOf | None = None,
    ) -> None:
        super().__init__(POSTGRES, conn, message_id_key)
        self._lock_key_of = lock_key_of
        self._held: set[tuple[Lockable, str]] = set()

    def lock(self, kind: Lockable, name: str) -> None:
        if self._lock_key_of is None or (kind, name) in self._held:
            return
        with self._bound_scope(True) as conn:  # raises once the transaction has ended
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key_of(kind, name),))
        self._held.add((kind, name))


class PostgresStore(Repositories):
    """The business store in a PostgreSQL database (same interface as SQLiteStore).

    `PostgresStore(url)` creates the tables if needed (in `schema` when given, created if
    missing; else in the connection's current schema). `create=False` refuses a database
    without the store's tables (the CLI must not invent an empty store). `message_id_secret`:
    the configured Message-ID key (see installation.py); None = the one stored in the database.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        create: bool = True,
        connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S,
        message_id_secret: str | None = None,
    ) -> None:
        if not is_postgres_url(url):
            raise StoreError(f"not a PostgreSQL URL (postgresql://...): {redact_url(str(url))!r}")
        self._psycopg = _import_psycopg()
        self.url = url.strip()
        self.schema = schema
        self._connect_timeout_s = connect_timeout_s
        self._local = threading.local()
        self._message_id_key = configured_secret_key(message_id_secret)
        super().__init__(POSTGRES, self._scope, self._message_id_key)
        self._schema_name = ""  # set below, once the schema is known
        self._lock_key = 0
        try:
            self._prepare_schema(create)
        except self._psycopg.Error as exc:
            raise postgres_error(self.location, exc) from exc
        with self._open(_StoreLock.EXCLUSIVE) as conn:
            self.schema_version = self._apply_schema(conn, create)

    @property
    def location(self) -> str:
        """Where the store lives, without the password (for messages)."""
        where = redact_url(self.url)
        return where if self.schema is None else f"{where} (schema {self.schema})"

    def transaction(self, *, exclusive: bool = True) -> AbstractContextManager[PostgresUnitOfWork]:
        """BEGIN + the store's write lock … COMMIT; ROLLBACK (and re-raise) if the block raises.
        `exclusive=False`: the lock shared, and `uow.lock(...)` for what the block rewrites."""
        mode = _StoreLock.EXCLUSIVE if exclusive else _StoreLock.SHARED
        key_of = None if exclusive else self._thing_lock_key
        return open_unit_of_work(
            lambda _write: self._open(mode),
            lambda conn: PostgresUnitOfWork(conn, self._message_id_key, key_of),
        )

    def claim_uids(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> frozenset[int]:
        """The uids no other session holds, now held by this thread's session until
        `release_uids` or the session's end (a crashed run frees them at once)."""
        by_key = {self._uid_lock_key(mailbox, uidvalidity, uid): uid for uid in uids}
        if not by_key:
            return frozenset()
        with self._open(_StoreLock.NONE) as conn:
            found = conn.execute(
                "SELECT key, pg_try_advisory_lock(key) AS got FROM unnest(%s::bigint[]) AS key",
                (list(by_key),),
            ).fetchall()
        return frozenset(by_key[row["key"]] for row in found if row["got"])

    def release_uids(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> None:
        """Free uids `claim_uids` gave this thread. A lost connection freed them already."""
        keys = [self._uid_lock_key(mailbox, uidvalidity, uid) for uid in uids]
        conn = self._thread_connection(open_new=False)
        if not keys or conn is None or conn.broken:
            return
        with self._open(_StoreLock.NONE) as open_conn:
            open_conn.execute(
                "SELECT pg_advisory_unlock(key) FROM unnest(%s::bigint[]) AS key", (keys,)
            )

    def close(self) -> None:
        """Close the calling thread's connection (others close when their thread ends)."""
        conn = self._thread_connection(open_new=False)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- setup ---------------------------------------------------------------------------------
    def _prepare_schema(self, create: bool) -> None:
        conn = self._thread_connection(open_new=True)
        assert conn is not None
        if self.schema is not None:
            exists = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
            ).fetchone()
            if exists is None and not create:
                raise StoreNotFoundError(f"no negotiation store at {self.location}")
            if exists is None:
                sql = self._psycopg.sql
                # Two processes opening a new store at once may both try CREATE SCHEMA; one loses.
                errors = self._psycopg.errors
                with suppress(errors.DuplicateSchema, errors.UniqueViolation):
                    conn.execute(
                        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                            sql.Identifier(self.schema)
                        )
                    )
        row = conn.execute("SELECT current_schema() AS name").fetchone()
        if row is None or row["name"] is None:
            raise StoreError(
                f"no schema to create the store's tables in at {self.location}: "
                "check the search_path or pass schema="
            )
        self._schema_name = str(row["name"])
        self._lock_key = _lock_key(self._schema_name)

    def _apply_schema(self, conn: psycopg.Connection[Any], create: bool) -> int:
        # Inside the store's write lock: a second process opening an old store at the same time
        # waits here, then finds it migrated. An up-to-date store runs no DDL at all.
        version = apply_postgres_schema(conn, POSTGRES.now(), create=create)
        if version is None:
            raise StoreNotFoundError(f"no negotiation store at {self.location}")
        return version

    def _thing_lock_key(self, kind: Lockable, name: str) -> int:
        return _lock_key(self._schema_name, kind.value, name)

    def _uid_lock_key(self, mailbox: str, uidvalidity: int, uid: int) -> int:
        return _lock_key(self._schema_name, "uid", mailbox, str(uidvalidity), str(uid))

    # -- connections and transactions ----------------------------------------------------------
    def _scope(self, write: bool) -> AbstractContextManager[psycopg.Connection[Any]]:
        """A single repository call's transaction (see the module docstring)."""
        return self._open(_StoreLock.SHARED if write else _StoreLock.NONE)

    @contextmanager
    def _open(self, store_lock: _StoreLock) -> Iterator[psycopg.Connection[Any]]:
        conn = self._thread_connection(open_new=True)
        assert conn is not None
        idle = self._psycopg.pq.TransactionStatus.IDLE
        if conn.info.transaction_status != idle:
            raise StoreError(
                "a store transaction is already open in this thread: "
                "use the unit of work it yielded instead of the store"
            )
        try:
            conn.execute("BEGIN")
            if store_lock is _StoreLock.EXCLUSIVE:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            elif store_lock is _StoreLock.SHARED:
                conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (self._lock_key,))
            yield conn
        except BaseException as exc:
            self._rollback(conn)
            if isinstance(exc, self._psycopg.Error):  # also SQL run in the block
                raise postgres_error(self.location, exc) from exc
            raise
        failed = self._psycopg.pq.TransactionStatus.INERROR
        if conn.info.transaction_status == failed:
            # A statement failed and the caller caught the error inside the block. PostgreSQL
            # would turn COMMIT into a silent ROLLBACK; say so instead.
            self._rollback(conn)
            raise StoreError(
                "a statement in this store transaction failed (its error was caught inside "
                "the block), so PostgreSQL rolled the whole transaction back; nothing was saved"
            )
        try:
            conn.execute("COMMIT")
        except self._psycopg.Error as exc:
            self._rollback(conn)
            raise postgres_error(self.location, exc) from exc
        except BaseException:
            self._rollback(conn)
            raise

    def _rollback(self, conn: psycopg.Connection[Any]) -> None:
        if conn.closed or conn.broken:
            self._local.conn = None  # reconnect on the next call
            return
        try:
            conn.execute("ROLLBACK")
        except self._psycopg.Error:
            self._local.conn = None
            conn.close()

    def _thread_connection(self, *, open_new: bool) -> psycopg.Connection[Any] | None:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) != os.getpid():
            # Inherited through fork: never use it, never let it be finalized here.
            _INHERITED_CONNECTIONS.append(conn)
            self._local.conn = conn = None
        if conn is not None and not conn.closed:
            return conn
        if not open_new:
            return None
        conn = self._connect()
        self._local.conn = conn
        self._local.pid = os.getpid()
        return conn

    def _connect(self) -> psycopg.Connection[Any]:
        psycopg = self._psycopg
        try:
            conn = psycopg.connect(
                self.url,
                autocommit=True,  # we issue BEGIN / COMMIT ourselves, like the SQLite store
                row_factory=psycopg.rows.dict_row,
                connect_timeout=self._connect_timeout_s,
                application_name=APPLICATION_NAME,
            )
        except psycopg.OperationalError as exc:
            # libpq's message names host and port, never the password.
            raise StoreAccessError(
                f"cannot connect to PostgreSQL at {self.location}: {redact_text(str(exc))}",
                database=self.location,
            ) from exc
        # jsonb and json come back as their text, so the shared codec restores tagged Decimals
        # exactly (and json, the audit metadata, its key order).
        conn.adapters.register_loader("jsonb", psycopg.types.string.TextLoader)
        conn.adapters.register_loader("json", psycopg.types.string.TextLoader)
        conn.execute("SET TIME ZONE 'UTC'")
        if self.schema is not None:
            conn.execute(
                psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(self.schema))
            )
        return conn
