"""SQLite implementation of the store interface (see base.py).

Concurrency rules (the earlier product broke on one connection shared across threads):
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.campaign import Campaign
from negotiation_pipeline.domain.state_machine import NegotiationStateMachine
from negotiation_pipeline.domain.types import TERMINAL_STATES, EventType
from negotiation_pipeline.store import codec
from negotiation_pipeline.store import rows as row_codec
from negotiation_pipeline.store.audit_filters import audit_where, build_audit_query
from negotiation_pipeline.store.base import (
    Agreement,
    CampaignRecord,
    Controller,
    InboundMessage,
    InboundStatus,
    MailCursor,
    OutboxEmail,
    StoredNegotiation,
    StoreError,
    StoreNotFoundError,
    iter_chunks,
)
from negotiation_pipeline.store.schema import apply_schema

if TYPE_CHECKING:
    from negotiation_pipeline.store.postgres import PostgresStore

DEFAULT_BUSY_TIMEOUT_S = 30.0
AUDIT_BATCH_ROWS = 5_000

# write=True → BEGIN IMMEDIATE; write=False → a consistent read snapshot.
ConnectionScope = Callable[[bool], AbstractContextManager[sqlite3.Connection]]

_TERMINAL_VALUES = tuple(sorted(s.value for s in TERMINAL_STATES))


class _Repository:
    def __init__(self, scope: ConnectionScope) -> None:
        self._scope = scope


# --- audit -------------------------------------------------------------------------------------
_AUDIT_COLUMNS = (
    "timestamp, event_type, campaign_id, influencer_name, influencer_key, thread_id, direction, "
    "email_body, negotiation_state, rates_used, intent_classification, metadata"
)
# Composed only from the constant column list above; values always go through placeholders.
_AUDIT_INSERT = f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"  # noqa: S608
_AUDIT_SELECT = f"SELECT id, {_AUDIT_COLUMNS} FROM audit_log"  # noqa: S608


class SQLiteAuditLog(_Repository):
    def insert(self, entry: AuditEntry) -> int:
        """Write one entry; returns its id. Timestamp = entry.timestamp or now (UTC, µs)."""
        with self._scope(True) as conn:
            cursor = conn.execute(_AUDIT_INSERT, _audit_row(entry, _now_text()))
            return int(cursor.lastrowid or 0)

    def insert_many(self, entries: Iterable[AuditEntry]) -> int:
        """Batch path: one transaction, executemany in chunks; returns the number written."""
        written = 0
        with self._scope(True) as conn:
            now_text = _now_text()
            for chunk in iter_chunks(entries, AUDIT_BATCH_ROWS):
                conn.executemany(_AUDIT_INSERT, [_audit_row(e, now_text) for e in chunk])
                written += len(chunk)
        return written

    def query(
        self,
        influencer: str | None = None,
        campaign: str | None = None,
        from_date: date | str | None = None,
        to_date: date | str | None = None,
        event_type: EventType | str | None = None,
        since: timedelta | None = None,
        limit: int = 50,
        *,
        thread_id: str | None = None,
        now: datetime | None = None,
    ) -> list[AuditEntry]:
        """Newest first. All filters AND together; raises AuditFilterError for bad values."""
        query = build_audit_query(
            influencer, campaign, from_date, to_date, event_type, since, limit,
            thread_id=thread_id, now=now,
        )  # fmt: skip
        where, params = audit_where(query, "?", codec.format_timestamp)
        # id breaks ties between equal timestamps; it is the rowid, so the indexes still
        # deliver rows in this order without a sort.
        sql = f"{_AUDIT_SELECT}{where} ORDER BY timestamp DESC, id DESC LIMIT ?"
        with self._scope(False) as conn:
            rows = conn.execute(sql, [*params, query.limit]).fetchall()
        return [row_codec.audit_entry_from_row(row) for row in rows]


def _audit_row(entry: AuditEntry, default_time: str) -> tuple[Any, ...]:
    stamp = default_time if entry.timestamp is None else codec.format_timestamp(entry.timestamp)
    return row_codec.audit_values(entry, stamp)


# --- negotiation state -------------------------------------------------------------------------
_STATE_UPSERT = """
INSERT INTO negotiation_state (
    thread_id, state, round_count, context_json, campaign_json, cpm_tracker_json, history_json,
    created_at, updated_at, campaign_id, influencer_name, influencer_email, pre_pause_state,
    lever_state_json, controlled_by, agency_name
) VALUES (
    :thread_id, :state, :round_count, :context_json, :campaign_json, :cpm_tracker_json,
    :history_json, :now, :now, :campaign_id, :influencer_name, :influencer_email,
    :pre_pause_state, COALESCE(:lever_state_json, '{}'), COALESCE(:controlled_by, 'agent'),
    :agency_name
)
ON CONFLICT (thread_id) DO UPDATE SET
    state = excluded.state,
    round_count = excluded.round_count,
    context_json = excluded.context_json,
    campaign_json = excluded.campaign_json,
    cpm_tracker_json = excluded.cpm_tracker_json,
    history_json = excluded.history_json,
    updated_at = excluded.updated_at,
    campaign_id = excluded.campaign_id,
    pre_pause_state = excluded.pre_pause_state,
    influencer_name = COALESCE(:influencer_name, negotiation_state.influencer_name),
    influencer_email = COALESCE(:influencer_email, negotiation_state.influencer_email),
    lever_state_json = COALESCE(:lever_state_json, negotiation_state.lever_state_json),
    controlled_by = COALESCE(:controlled_by, negotiation_state.controlled_by),
    agency_name = COALESCE(:agency_name, negotiation_state.agency_name)
"""


class NegotiationStateStore(_Repository):
    """Seed 09-01 names: save / load / load_active / delete, plus lookups the CLI needs."""

    def save(
        self,
        thread_id: str,
        state_machine: NegotiationStateMachine,
        context: Mapping[str, Any],
        campaign: Campaign,
        cpm_tracker_data: Mapping[str, Any],
        round_count: int,
        *,
        influencer_name: str | None = None,
        influencer_email: str | None = None,
        lever_state: Mapping[str, Any] | None = None,
        controlled_by: Controller | str | None = None,
        agency_name: str | None = None,
    ) -> None:
        """Insert or update; created_at is kept. Optional fields left None keep their value."""
        params = row_codec.state_save_params(
            thread_id, state_machine, context, campaign, cpm_tracker_data, round_count,
            now=_now_text(), influencer_name=influencer_name, influencer_email=influencer_email,
            lever_state=lever_state, controlled_by=controlled_by, agency_name=agency_name,
        )  # fmt: skip
        with self._scope(True) as conn:
            conn.execute(_STATE_UPSERT, params)

    def load(self, thread_id: str) -> StoredNegotiation | None:
        rows = self._select("WHERE thread_id = ?", (thread_id,))
        return rows[0] if rows else None

    def load_active(self, campaign_id: str | None = None) -> list[StoredNegotiation]:
        """Non-terminal negotiations (not agreed/rejected/stopped), optionally of one campaign."""
        marks = ",".join("?" * len(_TERMINAL_VALUES))
        if campaign_id is None:
            return self._select(f"WHERE state NOT IN ({marks})", _TERMINAL_VALUES)
        return self._select(
            f"WHERE campaign_id = ? AND state NOT IN ({marks})", (campaign_id, *_TERMINAL_VALUES)
        )

    def load_by_email(self, email: str) -> list[StoredNegotiation]:
        """Every negotiation with this influencer email (case-insensitive), newest first."""
        return self._select(
            "WHERE influencer_email = ? COLLATE NOCASE", (email.strip(),), "updated_at DESC"
        )

    def load_by_agency(self, agency_name: str) -> list[StoredNegotiation]:
        return self._select(
            "WHERE agency_name = ? COLLATE NOCASE", (agency_name.strip(),), "updated_at DESC"
        )

    def list_for_campaign(self, campaign_id: str) -> list[StoredNegotiation]:
        return self._select("WHERE campaign_id = ?", (campaign_id,))

    def set_controlled_by(self, thread_id: str, controlled_by: Controller | str) -> bool:
        with self._scope(True) as conn:
            cursor = conn.execute(
                "UPDATE negotiation_state SET controlled_by = ?, updated_at = ? "
                "WHERE thread_id = ?",
                (Controller(controlled_by).value, _now_text(), thread_id),
            )
            return cursor.rowcount > 0

    def delete(self, thread_id: str) -> bool:
        with self._scope(True) as conn:
            cursor = conn.execute("DELETE FROM negotiation_state WHERE thread_id = ?", (thread_id,))
            return cursor.rowcount > 0

    def _select(
        self, where: str, params: Iterable[Any], order: str = "created_at, thread_id"
    ) -> list[StoredNegotiation]:
        # `where` and `order` are fixed strings from this class; values go through params only.
        sql = f"SELECT * FROM negotiation_state {where} ORDER BY {order}"  # noqa: S608
        with self._scope(False) as conn:
            found = conn.execute(sql, tuple(params)).fetchall()
        return [row_codec.negotiation_from_row(row) for row in found]


# --- campaigns ---------------------------------------------------------------------------------
class SQLiteCampaigns(_Repository):
    def upsert(
        self,
        campaign_id: str,
        *,
        client_name: str,
        status: str,
        task_date_updated: int | None = None,
        campaign: Campaign | None = None,
        cpm_tracker_data: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert or update (created_at kept); campaign/tracker left None keep stored values."""
        params = row_codec.campaign_upsert_params(
            campaign_id, client_name=client_name, status=status,
            task_date_updated=task_date_updated, campaign=campaign,
            cpm_tracker_data=cpm_tracker_data, now=_now_text(),
        )  # fmt: skip
        with self._scope(True) as conn:
            conn.execute(
                """INSERT INTO campaigns (campaign_id, client_name, task_date_updated,
                       campaign_json, cpm_tracker_json, status, created_at, updated_at)
                   VALUES (:campaign_id, :client_name, :task_date_updated, :campaign_json,
                       :cpm_tracker_json, :status, :now, :now)
                   ON CONFLICT (campaign_id) DO UPDATE SET
                       client_name = excluded.client_name,
                       status = excluded.status,
                       task_date_updated = COALESCE(excluded.task_date_updated,
                                                    campaigns.task_date_updated),
                       campaign_json = COALESCE(excluded.campaign_json, campaigns.campaign_json),
                       cpm_tracker_json = COALESCE(excluded.cpm_tracker_json,
                                                   campaigns.cpm_tracker_json),
                       updated_at = excluded.updated_at""",
                params,
            )

    def get(self, campaign_id: str) -> CampaignRecord | None:
        with self._scope(False) as conn:
            row = conn.execute(
                "SELECT * FROM campaigns WHERE campaign_id = ?", (campaign_id,)
            ).fetchone()
        return None if row is None else row_codec.campaign_from_row(row)

    def list_campaigns(self, status: str | None = None) -> list[CampaignRecord]:
        with self._scope(False) as conn:
            if status is None:
                rows = conn.execute("SELECT * FROM campaigns ORDER BY created_at").fetchall()
            else:
                rows = conn.execute(
                    "SELECT * FROM campaigns WHERE status = ? ORDER BY created_at", (status,)
                ).fetchall()
        return [row_codec.campaign_from_row(row) for row in rows]

    def set_status(self, campaign_id: str, status: str) -> bool:
        with self._scope(True) as conn:
            cursor = conn.execute(
                "UPDATE campaigns SET status = ?, updated_at = ? WHERE campaign_id = ?",
                (status, _now_text(), campaign_id),
            )
            return cursor.rowcount > 0

    def set_cpm_tracker(self, campaign_id: str, cpm_tracker_data: Mapping[str, Any]) -> bool:
        with self._scope(True) as conn:
            cursor = conn.execute(
                "UPDATE campaigns SET cpm_tracker_json = ?, updated_at = ? WHERE campaign_id = ?",
                (codec.dumps_plain(dict(cpm_tracker_data)), _now_text(), campaign_id),
            )
            return cursor.rowcount > 0


# --- inbound messages --------------------------------------------------------------------------
class SQLiteInbound(_Repository):
    def record(
        self,
        message_id: str,
        *,
        status: InboundStatus | str,
        thread_id: str | None = None,
        campaign_id: str | None = None,
        from_addr: str | None = None,
        subject: str | None = None,
        detail: str | None = None,
        received_at: datetime | None = None,
    ) -> bool:
        """Remember a Message-ID. False = already recorded (a duplicate: do not process again)."""
        if not message_id or not message_id.strip():
            raise StoreError("an inbound message needs a Message-ID to be deduplicated")
        stamp = codec.format_timestamp(received_at) if received_at else _now_text()
        with self._scope(True) as conn:
            cursor = conn.execute(
                """INSERT INTO inbound_messages (message_id, thread_id, campaign_id, from_addr,
                       subject, received_at, status, detail)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (message_id) DO NOTHING""",
                (
                    message_id.strip(),
                    thread_id,
                    campaign_id,
                    from_addr,
                    subject,
                    stamp,
                    InboundStatus(status).value,
                    detail,
                ),
            )
            return cursor.rowcount == 1

    def seen(self, message_id: str) -> bool:
        return self.get(message_id) is not None

    def get(self, message_id: str) -> InboundMessage | None:
        with self._scope(False) as conn:
            row = conn.execute(
                "SELECT * FROM inbound_messages WHERE message_id = ?", (message_id.strip(),)
            ).fetchone()
        return None if row is None else row_codec.inbound_from_row(row)


# --- outbox ------------------------------------------------------------------------------------
class SQLiteOutbox(_Repository):
    def add(self, email: OutboxEmail) -> bool:
        """Queue an email as pending. False = that Message-ID is already in the outbox."""
        with self._scope(True) as conn:
            cursor = conn.execute(
                """INSERT INTO outbox (message_id, thread_id, campaign_id, to_addr, subject, body,
                       in_reply_to, "references", status, created_at, sent_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, NULL)
                   ON CONFLICT (message_id) DO NOTHING""",
                (
                    email.message_id,
                    email.thread_id,
                    email.campaign_id,
                    email.to_addr,
                    email.subject,
                    email.body,
                    email.in_reply_to,
                    email.references,
                    _now_text(),
                ),
            )
            return cursor.rowcount == 1

    def pending(self, limit: int | None = None) -> list[OutboxEmail]:
        """Unsent emails, oldest first."""
        with self._scope(False) as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE status = 'pending' ORDER BY created_at, rowid LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [row_codec.outbox_from_row(row) for row in rows]

    def mark_sent(self, message_id: str, sent_at: datetime | None = None) -> bool:
        """True if the email was pending and is now sent; False if unknown or already sent."""
        stamp = codec.format_timestamp(sent_at) if sent_at else _now_text()
        with self._scope(True) as conn:
            cursor = conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ? "
                "WHERE message_id = ? AND status = 'pending'",
                (stamp, message_id),
            )
            return cursor.rowcount > 0

    def get(self, message_id: str) -> OutboxEmail | None:
        with self._scope(False) as conn:
            row = conn.execute(
                "SELECT * FROM outbox WHERE message_id = ?", (message_id,)
            ).fetchone()
        return None if row is None else row_codec.outbox_from_row(row)

    def for_thread(self, thread_id: str) -> list[OutboxEmail]:
        with self._scope(False) as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE thread_id = ? ORDER BY created_at, rowid", (thread_id,)
            ).fetchall()
        return [row_codec.outbox_from_row(row) for row in rows]


# --- agreements --------------------------------------------------------------------------------
class SQLiteAgreements(_Repository):
    def record(self, agreement: Agreement) -> bool:
        """Store the agreed deal for a thread. False = that thread already has one (kept)."""
        stamp = codec.format_timestamp(agreement.agreed_at) if agreement.agreed_at else _now_text()
        engagement = agreement.engagement_rate
        with self._scope(True) as conn:
            cursor = conn.execute(
                """INSERT INTO agreements (thread_id, campaign_id, influencer_name, rate, cpm,
                       engagement_rate, agreed_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (thread_id) DO NOTHING""",
                (
                    agreement.thread_id,
                    agreement.campaign_id,
                    agreement.influencer_name,
                    codec.decimal_text(agreement.rate),
                    codec.decimal_text(agreement.cpm),
                    None if engagement is None else str(engagement),
                    stamp,
                ),
            )
            return cursor.rowcount == 1

    def for_campaign(self, campaign_id: str) -> list[Agreement]:
        """A campaign's agreements in the order they were made (to rebuild the CPM tracker)."""
        with self._scope(False) as conn:
            rows = conn.execute(
                "SELECT * FROM agreements WHERE campaign_id = ? ORDER BY agreed_at, thread_id",
                (campaign_id,),
            ).fetchall()
        return [row_codec.agreement_from_row(row) for row in rows]


# --- mail cursor -------------------------------------------------------------------------------
class SQLiteMailCursors(_Repository):
    def get(self, mailbox: str) -> MailCursor | None:
        with self._scope(False) as conn:
            row = conn.execute("SELECT * FROM mail_cursor WHERE mailbox = ?", (mailbox,)).fetchone()
        return None if row is None else row_codec.mail_cursor_from_row(row)

    def set(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        with self._scope(True) as conn:
            conn.execute(
                """INSERT INTO mail_cursor (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)
                   ON CONFLICT (mailbox) DO UPDATE SET
                       uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid""",
                (mailbox, uidvalidity, last_uid),
            )


# --- unit of work and store --------------------------------------------------------------------
class _Repositories:
    """The seven repositories bound to one connection scope."""

    def __init__(self, scope: ConnectionScope) -> None:
        self._audit = SQLiteAuditLog(scope)
        self._states = NegotiationStateStore(scope)
        self._campaigns = SQLiteCampaigns(scope)
        self._inbound = SQLiteInbound(scope)
        self._outbox = SQLiteOutbox(scope)
        self._agreements = SQLiteAgreements(scope)
        self._mail_cursors = SQLiteMailCursors(scope)

    @property
    def audit(self) -> SQLiteAuditLog:
        return self._audit

    @property
    def states(self) -> NegotiationStateStore:
        return self._states

    @property
    def campaigns(self) -> SQLiteCampaigns:
        return self._campaigns

    @property
    def inbound(self) -> SQLiteInbound:
        return self._inbound

    @property
    def outbox(self) -> SQLiteOutbox:
        return self._outbox

    @property
    def agreements(self) -> SQLiteAgreements:
        return self._agreements

    @property
    def mail_cursors(self) -> SQLiteMailCursors:
        return self._mail_cursors


class SQLiteUnitOfWork(_Repositories):
    """Repositories that all run on one open BEGIN IMMEDIATE transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn: sqlite3.Connection | None = conn
        super().__init__(self._bound_scope)

    def _bound_scope(self, write: bool) -> AbstractContextManager[sqlite3.Connection]:
        if self._conn is None:
            raise StoreError("this unit of work's transaction has ended; open a new one")
        return nullcontext(self._conn)

    def _end(self) -> None:
        self._conn = None


class SQLiteStore(_Repositories):
    """The business store on one SQLite file.

    `SQLiteStore(path)` creates the file and schema if needed; `create=False` refuses a missing
    file (the CLI must not invent an empty database).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    ) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StoreNotFoundError(f"database file not found: {self.path}")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        super().__init__(self._scope)
        with self._scope(True) as conn:
            self.schema_version = apply_schema(conn, _now_text())
            # Sampled planner statistics (~5 ms at 1M audit rows; empty tables get none), so a
            # query filtering on influencer AND campaign uses the more selective index: without
            # them SQLite picked the campaign index and took 10 ms at 1M rows. (PRAGMA optimize
            # cannot do this on SQLite 3.40: its "all tables" flag arrived in 3.46.)
            conn.execute("PRAGMA analysis_limit=400")
            conn.execute("ANALYZE")

    @contextmanager
    def transaction(self) -> Iterator[SQLiteUnitOfWork]:
        """BEGIN IMMEDIATE … COMMIT; ROLLBACK (and re-raise) if the block raises."""
        with self._scope(True) as conn:
            unit = SQLiteUnitOfWork(conn)
            try:
                yield unit
            finally:
                unit._end()

    def close(self) -> None:
        """Close the calling thread's connection (others close when their thread ends)."""
        conn = self._thread_connection(open_new=False)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def _scope(self, write: bool) -> Iterator[sqlite3.Connection]:
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
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
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
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_s * 1000)}")
        # NORMAL is durable across application crashes in WAL mode (only an OS crash can lose
        # the last commits) and much faster than FULL.
        conn.execute("PRAGMA synchronous=NORMAL")
        # 32 MB page cache (default 2 MB): the six audit indexes stay hot on bulk inserts.
        conn.execute("PRAGMA cache_size=-32000")
        return conn


def _now_text() -> str:
    return codec.format_timestamp(codec.utc_now())


def open_store(
    location: str | os.PathLike[str] | None = None, *, create: bool = True
) -> SQLiteStore | PostgresStore:
    """The store at `location`, else at default_db_location() ($NEGOTIATION_DB).

    A `postgresql://` URL opens a PostgresStore (psycopg is imported only then, with a clear
    error naming the extra to install when it is missing); anything else is a SQLite file path.
    """
    from negotiation_pipeline.store.paths import default_db_location, is_postgres_url

    target = default_db_location() if location is None else location
    if is_postgres_url(target):
        from negotiation_pipeline.store.postgres import PostgresStore

        return PostgresStore(str(target), create=create)
    return SQLiteStore(target, create=create)
