"""Schema versions of the business store, and the steps that bring an older store forward.

A new store gets the latest schema at once (schema.py for SQLite, postgres_schema.py for
PostgreSQL) and records SCHEMA_VERSION. A store written by older code records an older version;
on open it gets every step newer than that, in order, each recorded in `schema_version`, all in
the store's opening write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: the store's advisory
lock). So a failing step leaves the store as it was, and two processes opening the same old store
migrate it once: the second finds the new version and does nothing. A store newer than this code
is refused (SchemaVersionError), never written to.

How to change the schema (a column, a table, an index):
1. change the CREATE statements in schema.py AND postgres_schema.py, so a new store is right;
2. append ONE `Step` to STEPS with the next version number and, per engine, the statements that
   turn the previous version into this one: `ALTER TABLE t ADD COLUMN ...` (in SQLite a NOT NULL
   column needs a constant DEFAULT), `CREATE TABLE ...`, `CREATE INDEX ...`, `UPDATE ...` to
   fill a new column from old ones. Write the statements out in full: a step must keep doing
   what it did when it shipped, so it never reuses the living schema's constants.
SCHEMA_VERSION follows from STEPS. tests/store/test_migrations.py upgrades a store written at
version 1 on both engines and compares every table, column, index and constraint with a new
store's, so a forgotten or mismatched step fails there. Never edit, renumber or reorder a step
that has shipped (stores in use already ran it); fix a mistake with a new step.
SQLite cannot change an existing column with ALTER TABLE: such a step rebuilds the table
(CREATE TABLE new_t ...; INSERT INTO new_t SELECT ... FROM t; DROP TABLE t; ALTER TABLE new_t
RENAME TO t; then its indexes), which is safe inside the transaction because the store declares
no foreign keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from negotiation_pipeline.store.base import StoreError
from negotiation_pipeline.store.dialect import Connection


class SchemaVersionError(RuntimeError):
    """The store's schema cannot be used by this code (written by a newer version, or unknown)."""


class MigrationError(StoreError):
    """A step failed; the transaction is rolled back, so the store keeps its old version."""


class Engine(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


@dataclass(frozen=True)
class Step:
    """What turns schema `version - 1` into `version`, per engine."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, engine: Engine) -> tuple[str, ...]:
        return self.sqlite if engine is Engine.SQLITE else self.postgres


# The first recorded schema: what every store written before the first step holds.
FIRST_VERSION = 1

STEPS: tuple[Step, ...] = (
    Step(
        2,
        "index the live (non-terminal) negotiations, so listing them reads only them; drop the "
        "plain state index, which no query can use (NOT IN) and every save maintains",
        sqlite=(
            "CREATE INDEX IF NOT EXISTS idx_neg_state_live ON negotiation_state "
            "(created_at, thread_id, state, pre_pause_state, controlled_by, campaign_id, "
            "round_count) WHERE state NOT IN ('agreed', 'rejected', 'stopped')",
            "DROP INDEX IF EXISTS idx_neg_state_state",
        ),
        postgres=(
            "CREATE INDEX IF NOT EXISTS idx_neg_state_live ON negotiation_state "
            "(created_at, thread_id) INCLUDE (state, pre_pause_state, controlled_by, "
            "campaign_id, round_count) WHERE state NOT IN ('agreed', 'rejected', 'stopped')",
            "DROP INDEX IF EXISTS idx_neg_state_state",
        ),
    ),
    Step(
        3,
        "the follow-up of a negotiation may wait until an instant (an out-of-office return date)",
        sqlite=("ALTER TABLE negotiation_state ADD COLUMN followup_not_before TEXT",),
        postgres=(
            "ALTER TABLE negotiation_state "
            "ADD COLUMN IF NOT EXISTS followup_not_before TIMESTAMPTZ",
        ),
    ),
    Step(
        4,
        "chat alerts wait in a durable notification outbox until Slack accepted them",
        sqlite=(
            """CREATE TABLE IF NOT EXISTS notification_outbox (
        notification_key TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        message_text TEXT NOT NULL,
        blocks_json TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sent', 'refused')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        claimed_until TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
            "CREATE INDEX IF NOT EXISTS idx_notification_status "
            "ON notification_outbox (status, created_at)",
        ),
        postgres=(
            """CREATE TABLE IF NOT EXISTS notification_outbox (
        notification_key TEXT PRIMARY KEY,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        channel TEXT NOT NULL,
        message_text TEXT NOT NULL,
        blocks_json JSONB NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sent', 'refused')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        claimed_until TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL,
        sent_at TIMESTAMPTZ
    )""",
            "CREATE INDEX IF NOT EXISTS idx_notification_status "
            "ON notification_outbox (status, created_at, seq)",
        ),
    ),
    Step(
        5,
        "replies keyed by Message-ID and sender; held (quarantined) replies and the senders an "
        "operator allowed per negotiation",
        sqlite=(
            """CREATE TABLE IF NOT EXISTS inbound_messages_v2 (
        message_id TEXT NOT NULL,
        sender_key TEXT NOT NULL DEFAULT '',
        thread_id TEXT,
        campaign_id TEXT,
        from_addr TEXT,
        subject TEXT,
        received_at TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT,
        PRIMARY KEY (message_id, sender_key),
        CONSTRAINT inbound_messages_status_check
            CHECK (status IN ('processed', 'unmatched', 'skipped', 'own', 'quarantined'))
    )""",
            "INSERT INTO inbound_messages_v2 (message_id, sender_key, thread_id, campaign_id, "
            "from_addr, subject, received_at, status, detail) SELECT message_id, "
            "lower(trim(COALESCE(from_addr, ''))), thread_id, campaign_id, from_addr, subject, "
            "received_at, status, detail FROM inbound_messages",
            "DROP TABLE inbound_messages",
            "ALTER TABLE inbound_messages_v2 RENAME TO inbound_messages",
            "CREATE INDEX IF NOT EXISTS idx_inbound_thread ON inbound_messages (thread_id)",
            """CREATE TABLE IF NOT EXISTS held_messages (
            message_id TEXT NOT NULL,
            sender_key TEXT NOT NULL,
            thread_id TEXT,
            raw BLOB NOT NULL,
            raw_size BIGINT NOT NULL,
            truncated BOOLEAN NOT NULL,
            held_at TEXT NOT NULL,
            PRIMARY KEY (message_id, sender_key)
        )""",
            """CREATE TABLE IF NOT EXISTS allowed_senders (
            thread_id TEXT NOT NULL,
            address_key TEXT NOT NULL,
            address TEXT NOT NULL,
            allowed_by TEXT NOT NULL,
            allowed_at TEXT NOT NULL,
            PRIMARY KEY (thread_id, address_key)
        )""",
            "CREATE INDEX IF NOT EXISTS idx_inbound_quarantined ON inbound_messages (thread_id, "
            "received_at) WHERE status = 'quarantined'",
        ),
        postgres=(
            "ALTER TABLE inbound_messages ADD COLUMN IF NOT EXISTS sender_key TEXT NOT NULL "
            "DEFAULT ''",
            "UPDATE inbound_messages SET sender_key = lower(btrim(COALESCE(from_addr, '')))",
            "ALTER TABLE inbound_messages DROP CONSTRAINT IF EXISTS inbound_messages_pkey",
            "ALTER TABLE inbound_messages ADD PRIMARY KEY (message_id, sender_key)",
            "ALTER TABLE inbound_messages DROP CONSTRAINT IF EXISTS inbound_messages_status_check",
            "ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_status_check CHECK "
            "(status IN ('processed', 'unmatched', 'skipped', 'own', 'quarantined'))",
            """CREATE TABLE IF NOT EXISTS held_messages (
            message_id TEXT NOT NULL,
            sender_key TEXT NOT NULL,
            thread_id TEXT,
            raw BYTEA NOT NULL,
            raw_size BIGINT NOT NULL,
            truncated BOOLEAN NOT NULL,
            held_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (message_id, sender_key)
        )""",
            """CREATE TABLE IF NOT EXISTS allowed_senders (
            thread_id TEXT NOT NULL,
            address_key TEXT NOT NULL,
            address TEXT NOT NULL,
            allowed_by TEXT NOT NULL,
            allowed_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (thread_id, address_key)
        )""",
            "CREATE INDEX IF NOT EXISTS idx_inbound_quarantined ON inbound_messages (thread_id, "
            "received_at) WHERE status = 'quarantined'",
        ),
    ),
    Step(
        6,
        "outbox delivery: a `failed` status, attempts and the next attempt of temporary "
        "failures, the last error, the Sent-copy filing step; the installation's Message-ID key",
        sqlite=(
            # A CHECK cannot change in place: rebuild the outbox, in rowid (insertion) order. The
            # old table is dropped before the indexes are made, since a renamed table keeps its
            # index names.
            "ALTER TABLE outbox RENAME TO outbox_v1",
            """CREATE TABLE outbox (
        message_id TEXT PRIMARY KEY,
        thread_id TEXT,
        campaign_id TEXT,
        to_addr TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        in_reply_to TEXT,
        "references" TEXT,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        created_at TEXT NOT NULL,
        sent_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        last_error TEXT,
        sent_copy_pending INTEGER NOT NULL DEFAULT 0 CHECK (sent_copy_pending IN (0, 1))
    )""",
            "INSERT INTO outbox (message_id, thread_id, campaign_id, to_addr, subject, body, "
            'in_reply_to, "references", status, created_at, sent_at) '
            "SELECT message_id, thread_id, campaign_id, to_addr, subject, body, in_reply_to, "
            '"references", status, created_at, sent_at FROM outbox_v1 ORDER BY rowid',
            "DROP TABLE outbox_v1",
            "CREATE INDEX IF NOT EXISTS idx_outbox_status ON outbox (status, created_at)",
            "CREATE INDEX IF NOT EXISTS idx_outbox_thread ON outbox (thread_id, created_at)",
            "CREATE INDEX IF NOT EXISTS idx_outbox_copy ON outbox (created_at) "
            "WHERE sent_copy_pending",
            """CREATE TABLE IF NOT EXISTS installation (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
        ),
        postgres=(
            "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS attempts INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS next_attempt_at TIMESTAMPTZ",
            "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS last_error TEXT",
            "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS sent_copy_pending BOOLEAN NOT NULL "
            "DEFAULT false",
            "ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_status_check",
            "ALTER TABLE outbox ADD CONSTRAINT outbox_status_check "
            "CHECK (status IN ('pending', 'sent', 'failed'))",
            "CREATE INDEX IF NOT EXISTS idx_outbox_copy ON outbox (created_at, seq) "
            "WHERE sent_copy_pending",
            """CREATE TABLE IF NOT EXISTS installation (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )""",
        ),
    ),
    Step(
        7,
        "the display name of each queued email's recipient; the package an agreement bought",
        sqlite=(
            "ALTER TABLE outbox ADD COLUMN to_name TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE agreements ADD COLUMN package_json TEXT",
        ),
        postgres=(
            "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS to_name TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE agreements ADD COLUMN IF NOT EXISTS package_json JSONB",
        ),
    ),
    Step(
        8,
        "several deliverers and mail readers at once: a deliverer's claim (owner, lease end) "
        "on the email it is sending; the uids above the mail cursor fetched (with their "
        "sender) or handled",
        sqlite=(
            "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
            "ALTER TABLE outbox ADD COLUMN claimed_until TEXT",
            """CREATE TABLE IF NOT EXISTS mail_uids (
        mailbox TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        sender_key TEXT NOT NULL DEFAULT '',
        handled INTEGER NOT NULL DEFAULT 0 CHECK (handled IN (0, 1)),
        PRIMARY KEY (mailbox, uidvalidity, uid)
    )""",
        ),
        postgres=(
            "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_by TEXT",
            "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_until TIMESTAMPTZ",
            """CREATE TABLE IF NOT EXISTS mail_uids (
        mailbox TEXT NOT NULL,
        uidvalidity BIGINT NOT NULL,
        uid BIGINT NOT NULL,
        sender_key TEXT NOT NULL DEFAULT '',
        handled BOOLEAN NOT NULL DEFAULT false,
        PRIMARY KEY (mailbox, uidvalidity, uid)
    )""",
        ),
    ),
    # Next: Step(9, "...", sqlite=("ALTER TABLE ...",), postgres=("ALTER TABLE ...",)),
)

SCHEMA_VERSION = STEPS[-1].version if STEPS else FIRST_VERSION

# A table every store has; present without `schema_version`, the database is not one we know.
_CORE_TABLE = "negotiation_state"


def check_steps(steps: Sequence[Step]) -> None:
    """Steps are numbered FIRST_VERSION + 1, + 2, ... and each changes something on some engine."""
    for expected, step in enumerate(steps, start=FIRST_VERSION + 1):
        if step.version != expected:
            raise SchemaVersionError(
                f"migration step {step.version} ({step.description!r}) should be {expected}: "
                "steps are numbered consecutively, in order"
            )
        if not (step.sqlite or step.postgres):
            raise SchemaVersionError(f"migration step {step.version} has no statements")


check_steps(STEPS)


def prepare_schema(
    conn: Connection, engine: Engine, fresh_schema: Sequence[str], now: Any, *, create: bool = True
) -> int | None:
    """Create a new store or bring an older one up to SCHEMA_VERSION; returns the version.

    Call inside the store's write transaction. `fresh_schema` is the engine's latest CREATE
    statements; `now` the current instant as the engine stores timestamps. With create=False
    and no store found, nothing is written and None is returned (the caller reports it).
    """
    found = recorded_version(conn, engine)
    if found is None:
        if _table_exists(conn, engine, _CORE_TABLE):
            raise SchemaVersionError(
                f"the database has a {_CORE_TABLE} table but no schema_version: it was not "
                "written by this program, or was damaged; refusing to guess its layout"
            )
        if not create:
            return None
        for statement in fresh_schema:
            conn.execute(statement)
        _record(conn, engine, SCHEMA_VERSION, now)
        return SCHEMA_VERSION
    if found < FIRST_VERSION:
        raise SchemaVersionError(
            f"database schema version {found} is older than any this code knows ({FIRST_VERSION})"
        )
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"database schema version {found} is newer than this code ({SCHEMA_VERSION}): "
            "upgrade negotiation_pipeline before using this store"
        )
    for step in STEPS:
        if step.version > found:
            _run_step(conn, engine, step, found)
            _record(conn, engine, step.version, now)
    return SCHEMA_VERSION


def _run_step(conn: Connection, engine: Engine, step: Step, found: int) -> None:
    for statement in step.statements(engine):
        try:
            conn.execute(statement)
        except Exception as exc:
            raise MigrationError(
                f"upgrading the store from schema version {found} to {SCHEMA_VERSION} failed at "
                f"step {step.version} ({step.description}): {exc}; nothing was changed"
            ) from exc


def recorded_version(conn: Connection, engine: Engine) -> int | None:
    """The newest version in `schema_version`; None when the table is missing or empty."""
    if not _table_exists(conn, engine, "schema_version"):
        return None
    row = conn.execute("SELECT MAX(version) AS version FROM schema_version").fetchone()
    version = None if row is None else row["version"]
    return None if version is None else int(version)


def _table_exists(conn: Connection, engine: Engine, table: str) -> bool:
    if engine is Engine.SQLITE:
        sql = "SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = ?"
    else:
        # The connection's search_path decides the schema, as it does for every other query.
        sql = "SELECT 1 AS present WHERE to_regclass(%s::text) IS NOT NULL"
    return conn.execute(sql, (table,)).fetchone() is not None


def _record(conn: Connection, engine: Engine, version: int, now: Any) -> None:
    mark = "?" if engine is Engine.SQLITE else "%s"
    conn.execute(
        f"INSERT INTO schema_version (version, applied_at) VALUES ({mark}, {mark})",  # noqa: S608
        (version, now),
    )
