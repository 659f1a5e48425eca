"""SQLite schema: created idempotently on open, versioned in `schema_version`.

Money columns are TEXT holding a Decimal's exact digits. Timestamps are fixed-width UTC text
(see codec.py), so text order is time order and the composite indexes below serve both the
filter and the newest-first ORDER BY without a sort step.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 2

# Columns added after version 1 (table, column, definition): a file from an older version gets
# them on open, so nothing it holds is lost. The CREATE statements below already include them.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("outbox", "to_name", "TEXT NOT NULL DEFAULT ''"),
    ("agreements", "package_json", "TEXT"),
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
    """CREATE TABLE IF NOT EXISTS outbox (
        message_id TEXT PRIMARY KEY,
        thread_id TEXT,
        campaign_id TEXT,
        to_addr TEXT NOT NULL,
        to_name TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        in_reply_to TEXT,
        "references" TEXT,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
        created_at TEXT NOT NULL,
        sent_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS idx_outbox_status ON outbox (status, created_at)",
    "CREATE INDEX IF NOT EXISTS idx_outbox_thread ON outbox (thread_id, created_at)",
    """CREATE TABLE IF NOT EXISTS agreements (
        thread_id TEXT PRIMARY KEY,
        campaign_id TEXT NOT NULL,
        influencer_name TEXT NOT NULL,
        rate TEXT NOT NULL,
        cpm TEXT NOT NULL,
        engagement_rate TEXT,
        agreed_at TEXT NOT NULL,
        package_json TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS idx_agreements_campaign ON agreements (campaign_id, agreed_at)",
    """CREATE TABLE IF NOT EXISTS mail_cursor (
        mailbox TEXT PRIMARY KEY,
        uidvalidity INTEGER NOT NULL,
        last_uid INTEGER NOT NULL
    )""",
)


class SchemaVersionError(RuntimeError):
    """The file was written by a newer version of this code."""


def apply_schema(conn: sqlite3.Connection, now_text: str) -> int:
    """Create every table and index if missing and record the version; call inside a write txn.

    Returns the version found in the file afterwards.
    """
    for statement in SCHEMA_STATEMENTS:
        conn.execute(statement)
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    found = row[0]
    if found is not None and found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"database schema version {found} is newer than this code ({SCHEMA_VERSION})"
        )
    for table, column, definition in ADDED_COLUMNS:
        present = {r[1] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    if found is None or found < SCHEMA_VERSION:
        conn.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
            (SCHEMA_VERSION, now_text),
        )
    return SCHEMA_VERSION
