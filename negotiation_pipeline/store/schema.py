"""SQLite schema: created idempotently on open, versioned in `schema_version`.

Money columns are TEXT holding a Decimal's exact digits. Timestamps are fixed-width UTC text
(see codec.py), so text order is time order and the composite indexes below serve both the
filter and the newest-first ORDER BY without a sort step.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 2

# The outbox: an email is `pending` until SMTP accepted it (`sent`, with `sent_copy_pending` set
# while the copy for the Sent folder is still to be filed), or `failed` for good (5xx, an
# unsendable address, too many temporary failures). `attempts` / `next_attempt_at` pace the
# retries of temporary failures across runs; `last_error` says what went wrong last.
OUTBOX_TABLE = """CREATE TABLE IF NOT EXISTS outbox (
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
    )"""
OUTBOX_INDEXES = (
    "CREATE INDEX IF NOT EXISTS idx_outbox_status ON outbox (status, created_at)",
    "CREATE INDEX IF NOT EXISTS idx_outbox_thread ON outbox (thread_id, created_at)",
    "CREATE INDEX IF NOT EXISTS idx_outbox_copy ON outbox (created_at) WHERE sent_copy_pending",
)
OUTBOX_COLUMNS_V1 = (
    'message_id, thread_id, campaign_id, to_addr, subject, body, in_reply_to, "references", '
    "status, created_at, sent_at"
)

# Each statement is idempotent (IF NOT EXISTS), so opening an existing file is harmless.
SCHEMA_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY,
        applied_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS campaigns (
        campaign_id TEXT PRIMARY KEY,
        client_name TEXT NOT NULL,
        task_date_updated INTEGER,
        campaign_json TEXT,
        cpm_tracker_json TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS idx_campaigns_status ON campaigns (status)",
    """CREATE TABLE IF NOT EXISTS negotiation_state (
        thread_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        round_count INTEGER NOT NULL DEFAULT 0,
        context_json TEXT NOT NULL,
        campaign_json TEXT NOT NULL,
        cpm_tracker_json TEXT NOT NULL,
        history_json TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        influencer_name TEXT,
        influencer_email TEXT COLLATE NOCASE,
        pre_pause_state TEXT,
        lever_state_json TEXT NOT NULL DEFAULT '{}',
        controlled_by TEXT NOT NULL DEFAULT 'agent' CHECK (controlled_by IN ('agent', 'human')),
        agency_name TEXT COLLATE NOCASE,
        CHECK (state <> 'paused' OR pre_pause_state IS NOT NULL)
    )""",
    "CREATE INDEX IF NOT EXISTS idx_neg_state_state ON negotiation_state (state)",
    "CREATE INDEX IF NOT EXISTS idx_neg_state_campaign ON negotiation_state (campaign_id)",
    "CREATE INDEX IF NOT EXISTS idx_neg_state_email ON negotiation_state (influencer_email)",
    "CREATE INDEX IF NOT EXISTS idx_neg_state_agency ON negotiation_state (agency_name)",
    # influencer_key = casefold(trim(influencer_name)): case-insensitive match for any alphabet
    # (COLLATE NOCASE only folds ASCII), served by an index.
    """CREATE TABLE IF NOT EXISTS audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        timestamp TEXT NOT NULL,
        event_type TEXT NOT NULL,
        campaign_id TEXT,
        influencer_name TEXT,
        influencer_key TEXT,
        thread_id TEXT,
        direction TEXT,
        email_body TEXT,
        negotiation_state TEXT,
        rates_used TEXT,
        intent_classification TEXT,
        metadata TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS idx_audit_influencer ON audit_log (influencer_key, timestamp)",
    "CREATE INDEX IF NOT EXISTS idx_audit_campaign ON audit_log (campaign_id, timestamp)",
    "CREATE INDEX IF NOT EXISTS idx_audit_event ON audit_log (event_type, timestamp)",
    "CREATE INDEX IF NOT EXISTS idx_audit_thread ON audit_log (thread_id, timestamp)",
    "CREATE INDEX IF NOT EXISTS idx_audit_timestamp ON audit_log (timestamp)",
    """CREATE TABLE IF NOT EXISTS inbound_messages (
        message_id TEXT PRIMARY KEY,
        thread_id TEXT,
        campaign_id TEXT,
        from_addr TEXT,
        subject TEXT,
        received_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('processed', 'unmatched', 'skipped', 'own')),
        detail TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS idx_inbound_thread ON inbound_messages (thread_id)",
    OUTBOX_TABLE,
    *OUTBOX_INDEXES,
    """CREATE TABLE IF NOT EXISTS agreements (
        thread_id TEXT PRIMARY KEY,
        campaign_id TEXT NOT NULL,
        influencer_name TEXT NOT NULL,
        rate TEXT NOT NULL,
        cpm TEXT NOT NULL,
        engagement_rate TEXT,
        agreed_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS idx_agreements_campaign ON agreements (campaign_id, agreed_at)",
    """CREATE TABLE IF NOT EXISTS mail_cursor (
        mailbox TEXT PRIMARY KEY,
        uidvalidity INTEGER NOT NULL,
        last_uid INTEGER NOT NULL
    )""",
    # Values that belong to this installation, created on first use (the Message-ID key).
    """CREATE TABLE IF NOT EXISTS installation (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
)

# Statements that bring a file of version N-1 to version N (run before SCHEMA_STATEMENTS).
# SQLite cannot change a CHECK constraint in place, so the outbox is rebuilt, in rowid order
# (rowid is the outbox's insertion order).
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE outbox RENAME TO outbox_v1",
        OUTBOX_TABLE,
        f"INSERT INTO outbox ({OUTBOX_COLUMNS_V1}) "  # noqa: S608
        f"SELECT {OUTBOX_COLUMNS_V1} FROM outbox_v1 ORDER BY rowid",
        "DROP TABLE outbox_v1",
    ),
}


class SchemaVersionError(RuntimeError):
    """The file was written by a newer version of this code."""


def apply_schema(conn: sqlite3.Connection, now_text: str) -> int:
    """Create every table and index if missing, migrate an older file, record the version;
    call inside a write txn.

    Returns the version found in the file afterwards.
    """
    conn.execute(SCHEMA_STATEMENTS[0])  # schema_version
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    found = row[0]
    if found is not None and found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"database schema version {found} is newer than this code ({SCHEMA_VERSION})"
        )
    if found is not None:
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS.get(version, ()):
                conn.execute(statement)
    for statement in SCHEMA_STATEMENTS:
        conn.execute(statement)
    if found is None or found < SCHEMA_VERSION:
        conn.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
            (SCHEMA_VERSION, now_text),
        )
    return SCHEMA_VERSION
