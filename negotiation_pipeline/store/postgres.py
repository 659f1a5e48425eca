"""PostgreSQL implementation of the store interface (see base.py), with psycopg 3.

Select it with a URL: `open_store("postgresql://user@host/db")` or NEGOTIATION_DB set to one.
Install the extra first: `uv sync --extra postgres` (psycopg is imported only when a URL is used).

Concurrency, kept equivalent to the SQLite store (the callers' exactly-once reasoning depends on
it, see deploy/README.md):
- every write transaction (a single repository write or a whole `store.transaction()`) first
  takes one transaction-level advisory lock per store schema, `pg_advisory_xact_lock`: the
  equivalent of SQLite's BEGIN IMMEDIATE. Writers queue (they do not fail), the lock also covers
  rows that do not exist yet (a `SELECT ... FOR UPDATE` cannot lock a missing mail cursor or
  negotiation), and the read-then-write code inside a unit of work needs no retry loop, which a
  SERIALIZABLE transaction would demand (a `with` block cannot be replayed). Readers never wait:
  MVCC gives them the last committed state. The lock is released by COMMIT/ROLLBACK, also when
  the client dies (the server ends the session);
- one connection per thread, per process (checked by pid: a forked child opens its own and
  never touches, or finalizes, its parent's socket);
- only parameterised SQL; no value is ever formatted into a statement;
- the session time zone is UTC, so timestamps come back as UTC datetimes.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

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
)
from negotiation_pipeline.store.paths import is_postgres_url
from negotiation_pipeline.store.postgres_schema import apply_postgres_schema
from negotiation_pipeline.store.schema import SCHEMA_VERSION, SchemaVersionError

if TYPE_CHECKING:
    from collections.abc import Callable

    import psycopg

    ConnectionScope = Callable[[bool], AbstractContextManager[psycopg.Connection[Any]]]

INSTALL_HINT = (
    "install the PostgreSQL extra: `uv sync --extra postgres` "
    "(or `pip install 'negotiation-pipeline[postgres]'`)"
)
DEFAULT_CONNECT_TIMEOUT_S = 10
APPLICATION_NAME = "negotiation_pipeline"

_TERMINAL_VALUES = sorted(s.value for s in TERMINAL_STATES)
# Connections a forked child inherited: kept referenced so they are never finalized in the child
# (finalizing sends libpq's Terminate on the socket the parent is still using).
_INHERITED_CONNECTIONS: list[Any] = []


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
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


def _lock_key(schema_name: str) -> int:
    """The advisory-lock id of one store (a signed 64-bit number derived from its schema)."""
    digest = hashlib.blake2b(f"negotiation_pipeline:{schema_name}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def _now() -> datetime:
    return codec.utc_now()


class _Repository:
    def __init__(self, scope: ConnectionScope) -> None:
        self._scope = scope


# --- audit -------------------------------------------------------------------------------------
_AUDIT_COLUMNS = ", ".join(f'"{name}"' for name in row_codec.AUDIT_COLUMN_NAMES)
_AUDIT_MARKS = ", ".join(
    "%s::jsonb" if name == "metadata" else "%s" for name in row_codec.AUDIT_COLUMN_NAMES
)
# Composed only from the constant column list above; values always go through placeholders.
_AUDIT_INSERT = f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES ({_AUDIT_MARKS}) RETURNING id"  # noqa: S608
_AUDIT_COPY = f"COPY audit_log ({_AUDIT_COLUMNS}) FROM STDIN"
_AUDIT_SELECT = f"SELECT id, {_AUDIT_COLUMNS} FROM audit_log"  # noqa: S608


def _audit_values(entry: AuditEntry, default_time: datetime) -> tuple[Any, ...]:
    return row_codec.audit_values(entry, entry.timestamp or default_time)


class PostgresAuditLog(_Repository):
    def insert(self, entry: AuditEntry) -> int:
        """Write one entry; returns its id. Timestamp = entry.timestamp or now (UTC, µs)."""
        with self._scope(True) as conn:
            row = conn.execute(_AUDIT_INSERT, _audit_values(entry, _now())).fetchone()
        assert row is not None
        return int(row["id"])

    def insert_many(self, entries: Iterable[AuditEntry]) -> int:
        """Batch path: one transaction, streamed with COPY; returns the number written."""
        written = 0
        with self._scope(True) as conn:
            now = _now()
            with conn.cursor().copy(_AUDIT_COPY) as copy:
                for entry in entries:
                    copy.write_row(_audit_values(entry, now))
                    written += 1
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
        where, params = audit_where(query, "%s", row_codec.require_aware)
        # Every audit index ends in (timestamp, id): one backward index scan, no sort.
        sql = f'{_AUDIT_SELECT}{where} ORDER BY "timestamp" DESC, id DESC LIMIT %s'
        with self._scope(False) as conn:
            found = conn.execute(sql, [*params, query.limit]).fetchall()
        return [row_codec.audit_entry_from_row(row) for row in found]


# --- negotiation state -------------------------------------------------------------------------
_STATE_UPSERT = """
INSERT INTO negotiation_state (
    thread_id, state, round_count, context_json, campaign_json, cpm_tracker_json, history_json,
    created_at, updated_at, campaign_id, influencer_name, influencer_email, pre_pause_state,
    lever_state_json, controlled_by, agency_name
) VALUES (
    %(thread_id)s, %(state)s, %(round_count)s, %(context_json)s::jsonb, %(campaign_json)s::jsonb,
    %(cpm_tracker_json)s::jsonb, %(history_json)s::jsonb, %(now)s, %(now)s, %(campaign_id)s,
    %(influencer_name)s, %(influencer_email)s, %(pre_pause_state)s,
    COALESCE(%(lever_state_json)s::jsonb, '{}'::jsonb), COALESCE(%(controlled_by)s, 'agent'),
    %(agency_name)s
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
    influencer_name = COALESCE(%(influencer_name)s, negotiation_state.influencer_name),
    influencer_email = COALESCE(%(influencer_email)s, negotiation_state.influencer_email),
    lever_state_json = COALESCE(%(lever_state_json)s::jsonb, negotiation_state.lever_state_json),
    controlled_by = COALESCE(%(controlled_by)s, negotiation_state.controlled_by),
    agency_name = COALESCE(%(agency_name)s, negotiation_state.agency_name)
"""


class PostgresStates(_Repository):
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
            now=_now(), influencer_name=influencer_name, influencer_email=influencer_email,
            lever_state=lever_state, controlled_by=controlled_by, agency_name=agency_name,
        )  # fmt: skip
        with self._scope(True) as conn:
            conn.execute(_STATE_UPSERT, params)

    def load(self, thread_id: str) -> StoredNegotiation | None:
        found = self._select("WHERE thread_id = %s", (thread_id,))
        return found[0] if found else None

    def load_active(self, campaign_id: str | None = None) -> list[StoredNegotiation]:
        """Non-terminal negotiations (not agreed/rejected/stopped), optionally of one campaign."""
        if campaign_id is None:
            return self._select("WHERE NOT (state = ANY(%s))", (_TERMINAL_VALUES,))
        return self._select(
            "WHERE campaign_id = %s AND NOT (state = ANY(%s))", (campaign_id, _TERMINAL_VALUES)
        )

    def load_by_email(self, email: str) -> list[StoredNegotiation]:
        """Every negotiation with this influencer email (case-insensitive), newest first."""
        return self._select(
            "WHERE lower(influencer_email) = lower(%s)", (email.strip(),), "updated_at DESC"
        )

    def load_by_agency(self, agency_name: str) -> list[StoredNegotiation]:
        return self._select(
            "WHERE lower(agency_name) = lower(%s)", (agency_name.strip(),), "updated_at DESC"
        )

    def list_for_campaign(self, campaign_id: str) -> list[StoredNegotiation]:
        return self._select("WHERE campaign_id = %s", (campaign_id,))

    def set_controlled_by(self, thread_id: str, controlled_by: Controller | str) -> bool:
        with self._scope(True) as conn:
            cursor = conn.execute(
                "UPDATE negotiation_state SET controlled_by = %s, updated_at = %s "
                "WHERE thread_id = %s",
                (Controller(controlled_by).value, _now(), thread_id),
            )
            return cursor.rowcount > 0

    def delete(self, thread_id: str) -> bool:
        with self._scope(True) as conn:
            cursor = conn.execute(
                "DELETE FROM negotiation_state WHERE thread_id = %s", (thread_id,)
            )
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
_CAMPAIGN_UPSERT = """
INSERT INTO campaigns (campaign_id, client_name, task_date_updated, campaign_json,
    cpm_tracker_json, status, created_at, updated_at)
VALUES (%(campaign_id)s, %(client_name)s, %(task_date_updated)s, %(campaign_json)s::jsonb,
    %(cpm_tracker_json)s::jsonb, %(status)s, %(now)s, %(now)s)
ON CONFLICT (campaign_id) DO UPDATE SET
    client_name = excluded.client_name,
    status = excluded.status,
    task_date_updated = COALESCE(excluded.task_date_updated, campaigns.task_date_updated),
    campaign_json = COALESCE(excluded.campaign_json, campaigns.campaign_json),
    cpm_tracker_json = COALESCE(excluded.cpm_tracker_json, campaigns.cpm_tracker_json),
    updated_at = excluded.updated_at
"""


class PostgresCampaigns(_Repository):
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
            cpm_tracker_data=cpm_tracker_data, now=_now(),
        )  # fmt: skip
        with self._scope(True) as conn:
            conn.execute(_CAMPAIGN_UPSERT, params)

    def get(self, campaign_id: str) -> CampaignRecord | None:
        with self._scope(False) as conn:
            row = conn.execute(
                "SELECT * FROM campaigns WHERE campaign_id = %s", (campaign_id,)
            ).fetchone()
        return None if row is None else row_codec.campaign_from_row(row)

    def list_campaigns(self, status: str | None = None) -> list[CampaignRecord]:
        with self._scope(False) as conn:
            if status is None:
                found = conn.execute(
                    "SELECT * FROM campaigns ORDER BY created_at, campaign_id"
                ).fetchall()
            else:
                found = conn.execute(
                    "SELECT * FROM campaigns WHERE status = %s ORDER BY created_at, campaign_id",
                    (status,),
                ).fetchall()
        return [row_codec.campaign_from_row(row) for row in found]

    def set_status(self, campaign_id: str, status: str) -> bool:
        with self._scope(True) as conn:
            cursor = conn.execute(
                "UPDATE campaigns SET status = %s, updated_at = %s WHERE campaign_id = %s",
                (status, _now(), campaign_id),
            )
            return cursor.rowcount > 0

    def set_cpm_tracker(self, campaign_id: str, cpm_tracker_data: Mapping[str, Any]) -> bool:
        with self._scope(True) as conn:
            cursor = conn.execute(
                "UPDATE campaigns SET cpm_tracker_json = %s::jsonb, updated_at = %s "
                "WHERE campaign_id = %s",
                (codec.dumps_plain(dict(cpm_tracker_data)), _now(), campaign_id),
            )
            return cursor.rowcount > 0


# --- inbound messages --------------------------------------------------------------------------
class PostgresInbound(_Repository):
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
        stamp = row_codec.require_aware(received_at) if received_at else _now()
        with self._scope(True) as conn:
            cursor = conn.execute(
                """INSERT INTO inbound_messages (message_id, thread_id, campaign_id, from_addr,
                       subject, received_at, status, detail)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
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
                "SELECT * FROM inbound_messages WHERE message_id = %s", (message_id.strip(),)
            ).fetchone()
        return None if row is None else row_codec.inbound_from_row(row)


# --- outbox ------------------------------------------------------------------------------------
class PostgresOutbox(_Repository):
    def add(self, email: OutboxEmail) -> bool:
        """Queue an email as pending. False = that Message-ID is already in the outbox."""
        with self._scope(True) as conn:
            cursor = conn.execute(
                """INSERT INTO outbox (message_id, thread_id, campaign_id, to_addr, subject, body,
                       in_reply_to, "references", status, created_at, sent_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'pending', %s, NULL)
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
                    _now(),
                ),
            )
            return cursor.rowcount == 1

    def pending(self, limit: int | None = None) -> list[OutboxEmail]:
        """Unsent emails, oldest first."""
        with self._scope(False) as conn:
            # LIMIT NULL is "no limit" in PostgreSQL.
            found = conn.execute(
                "SELECT * FROM outbox WHERE status = 'pending' ORDER BY created_at, seq LIMIT %s",
                (limit,),
            ).fetchall()
        return [row_codec.outbox_from_row(row) for row in found]

    def mark_sent(self, message_id: str, sent_at: datetime | None = None) -> bool:
        """True if the email was pending and is now sent; False if unknown or already sent."""
        stamp = row_codec.require_aware(sent_at) if sent_at else _now()
        with self._scope(True) as conn:
            cursor = conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = %s "
                "WHERE message_id = %s AND status = 'pending'",
                (stamp, message_id),
            )
            return cursor.rowcount > 0

    def get(self, message_id: str) -> OutboxEmail | None:
        with self._scope(False) as conn:
            row = conn.execute(
                "SELECT * FROM outbox WHERE message_id = %s", (message_id,)
            ).fetchone()
        return None if row is None else row_codec.outbox_from_row(row)

    def for_thread(self, thread_id: str) -> list[OutboxEmail]:
        with self._scope(False) as conn:
            found = conn.execute(
                "SELECT * FROM outbox WHERE thread_id = %s ORDER BY created_at, seq", (thread_id,)
            ).fetchall()
        return [row_codec.outbox_from_row(row) for row in found]


# --- agreements --------------------------------------------------------------------------------
class PostgresAgreements(_Repository):
    def record(self, agreement: Agreement) -> bool:
        """Store the agreed deal for a thread. False = that thread already has one (kept)."""
        stamp = row_codec.require_aware(agreement.agreed_at) if agreement.agreed_at else _now()
        engagement = agreement.engagement_rate
        with self._scope(True) as conn:
            cursor = conn.execute(
                """INSERT INTO agreements (thread_id, campaign_id, influencer_name, rate, cpm,
                       engagement_rate, agreed_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (thread_id) DO NOTHING""",
                (
                    agreement.thread_id,
                    agreement.campaign_id,
                    agreement.influencer_name,
                    row_codec.require_money(agreement.rate),
                    row_codec.require_money(agreement.cpm),
                    # Same text as the SQLite store keeps (str), parsed exactly.
                    None if engagement is None else Decimal(str(engagement)),
                    stamp,
                ),
            )
            return cursor.rowcount == 1

    def for_campaign(self, campaign_id: str) -> list[Agreement]:
        """A campaign's agreements in the order they were made (to rebuild the CPM tracker)."""
        with self._scope(False) as conn:
            found = conn.execute(
                "SELECT * FROM agreements WHERE campaign_id = %s ORDER BY agreed_at, thread_id",
                (campaign_id,),
            ).fetchall()
        return [row_codec.agreement_from_row(row) for row in found]


# --- mail cursor -------------------------------------------------------------------------------
class PostgresMailCursors(_Repository):
    def get(self, mailbox: str) -> MailCursor | None:
        with self._scope(False) as conn:
            row = conn.execute(
                "SELECT * FROM mail_cursor WHERE mailbox = %s", (mailbox,)
            ).fetchone()
        return None if row is None else row_codec.mail_cursor_from_row(row)

    def set(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        with self._scope(True) as conn:
            conn.execute(
                """INSERT INTO mail_cursor (mailbox, uidvalidity, last_uid) VALUES (%s, %s, %s)
                   ON CONFLICT (mailbox) DO UPDATE SET
                       uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid""",
                (mailbox, uidvalidity, last_uid),
            )


# --- unit of work and store --------------------------------------------------------------------
class _Repositories:
    """The seven repositories bound to one connection scope."""

    def __init__(self, scope: ConnectionScope) -> None:
        self._audit = PostgresAuditLog(scope)
        self._states = PostgresStates(scope)
        self._campaigns = PostgresCampaigns(scope)
        self._inbound = PostgresInbound(scope)
        self._outbox = PostgresOutbox(scope)
        self._agreements = PostgresAgreements(scope)
        self._mail_cursors = PostgresMailCursors(scope)

    @property
    def audit(self) -> PostgresAuditLog:
        return self._audit

    @property
    def states(self) -> PostgresStates:
        return self._states

    @property
    def campaigns(self) -> PostgresCampaigns:
        return self._campaigns

    @property
    def inbound(self) -> PostgresInbound:
        return self._inbound

    @property
    def outbox(self) -> PostgresOutbox:
        return self._outbox

    @property
    def agreements(self) -> PostgresAgreements:
        return self._agreements

    @property
    def mail_cursors(self) -> PostgresMailCursors:
        return self._mail_cursors


class PostgresUnitOfWork(_Repositories):
    """Repositories that all run in one open transaction holding the store's write lock."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn: psycopg.Connection[Any] | None = conn
        super().__init__(self._bound_scope)

    def _bound_scope(self, write: bool) -> AbstractContextManager[psycopg.Connection[Any]]:
        if self._conn is None:
            raise StoreError("this unit of work's transaction has ended; open a new one")
        return nullcontext(self._conn)

    def _end(self) -> None:
        self._conn = None


class PostgresStore(_Repositories):
    """The business store in a PostgreSQL database (same interface as SQLiteStore).

    `PostgresStore(url)` creates the tables if needed (in `schema` when given, created if
    missing; else in the connection's current schema). `create=False` refuses a database
    without the store's tables (the CLI must not invent an empty store).
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        create: bool = True,
        connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        if not is_postgres_url(url):
            raise StoreError(f"not a PostgreSQL URL (postgresql://...): {redact_url(str(url))!r}")
        self._psycopg = _import_psycopg()
        self.url = url.strip()
        self.schema = schema
        self._connect_timeout_s = connect_timeout_s
        self._local = threading.local()
        super().__init__(self._scope)
        self._lock_key = 0  # set below, once the schema is known
        self._prepare_schema(create)
        with self._scope(True) as conn:
            self.schema_version = self._apply_schema(conn, create)

    @property
    def location(self) -> str:
        """Where the store lives, without the password (for messages)."""
        where = redact_url(self.url)
        return where if self.schema is None else f"{where} (schema {self.schema})"

    @contextmanager
    def transaction(self) -> Iterator[PostgresUnitOfWork]:
        """BEGIN + the store's write lock … COMMIT; ROLLBACK (and re-raise) if the block raises."""
        with self._scope(True) as conn:
            unit = PostgresUnitOfWork(conn)
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
        self._lock_key = _lock_key(row["name"])

    def _apply_schema(self, conn: psycopg.Connection[Any], create: bool) -> int:
        found = conn.execute(
            "SELECT to_regclass('schema_version') IS NOT NULL AS present"
        ).fetchone()
        present = bool(found and found["present"])
        if not present and not create:
            raise StoreNotFoundError(f"no negotiation store at {self.location}")
        if present:
            row = conn.execute("SELECT MAX(version) AS version FROM schema_version").fetchone()
            version = None if row is None else row["version"]
            if version is not None and version > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"database schema version {version} is newer than this code ({SCHEMA_VERSION})"
                )
            if version == SCHEMA_VERSION:
                # Up to date: skip the DDL, whose IF NOT EXISTS still locks every table.
                return int(version)
        return apply_postgres_schema(conn, _now(), SCHEMA_VERSION)

    # -- connections and transactions ----------------------------------------------------------
    @contextmanager
    def _scope(self, write: bool) -> Iterator[psycopg.Connection[Any]]:
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
            if write:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            yield conn
        except BaseException:
            self._rollback(conn)
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
            raise StoreError(f"cannot connect to PostgreSQL at {self.location}: {exc}") from exc
        # jsonb comes back as its text, so the shared codec restores tagged Decimals exactly.
        conn.adapters.register_loader("jsonb", psycopg.types.string.TextLoader)
        conn.execute("SET TIME ZONE 'UTC'")
        if self.schema is not None:
            conn.execute(
                psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(self.schema))
            )
        return conn
