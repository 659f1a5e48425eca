"""SQLite schema of a new store, at SCHEMA_VERSION; an older store is migrated (migrations.py).

A schema change goes here, in postgres_schema.py, and as a step in migrations.py.
Money columns are TEXT holding a Decimal's exact digits. Timestamps are fixed-width UTC text
(see codec.py), so text order is time order and the composite indexes below serve both the
filter and the newest-first ORDER BY without a sort step.
"""

from __future__ import annotations

import sqlite3

from negotiation_pipeline.domain.enums import TERMINAL_STATES
from negotiation_pipeline.store.asset_schema import SQLITE_ASSET_TABLES
from negotiation_pipeline.store.migrations import (
    SCHEMA_VERSION,
    Engine,
    SchemaVersionError,
    prepare_schema,
)
from negotiation_pipeline.store.trust_schema import SQLITE_INBOUND_TABLE, SQLITE_TRUST_TABLES
from negotiation_pipeline.store.view_refresh import SQLITE_VIEW_REFRESH_TABLE

# The rows `load_active` lists. The query and the partial indexes spell it identically (constant
# values, no parameters) because both engines use a partial index only for a query whose WHERE
# provably implies the index's.
LIVE_NEGOTIATION = "state NOT IN ({})".format(
    ", ".join(f"'{state.value}'" for state in sorted(TERMINAL_STATES))
)
# What the list queries return of a negotiation (NegotiationSummary), in the order
# rows.summary_from_row unpacks them; the live index covers them.
SUMMARY_COLUMNS = (
    "thread_id",
    "state",
    "pre_pause_state",
    "controlled_by",
    "campaign_id",
    "round_count",
)

# The outbox: an email is `pending` until SMTP accepted it (`sent`, with `sent_copy_pending` set
# while the copy for the Sent folder is still to be filed), or `failed` for good (5xx, an
# unsendable address, too many temporary failures). `attempts` / `next_attempt_at` pace the
# retries of temporary failures across runs; `last_error` says what went wrong last.
# `claimed_by` / `claimed_until`: the deliverer sending a pending email right now and the end
# of its lease, so two deliverers never send it both (a dead one's lease runs out).
OUTBOX_TABLE = """CREATE TABLE IF NOT EXISTS outbox (
        message_id TEXT PRIMARY KEY,
        thread_id TEXT,
        campaign_id TEXT,
        to_addr TEXT NOT NULL,
        to_name TEXT NOT NULL DEFAULT '',
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
        sent_copy_pending INTEGER NOT NULL DEFAULT 0 CHECK (sent_copy_pending IN (0, 1)),
        claimed_by TEXT,
        claimed_until TEXT
    )"""
OUTBOX_INDEXES = (
    "CREATE INDEX IF NOT EXISTS idx_outbox_status ON outbox (status, created_at)",
    "CREATE INDEX IF NOT EXISTS idx_outbox_thread ON outbox (thread_id, created_at)",
    "CREATE INDEX IF NOT EXISTS idx_outbox_copy ON outbox (created_at) WHERE sent_copy_pending",
)
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
        followup_not_before TEXT,
        CHECK (state <> 'paused' OR pre_pause_state IS NOT NULL)
    )""",
    "CREATE INDEX IF NOT EXISTS idx_neg_state_campaign ON negotiation_state (campaign_id)",
    "CREATE INDEX IF NOT EXISTS idx_neg_state_email ON negotiation_state (influencer_email)",
    "CREATE INDEX IF NOT EXISTS idx_neg_state_agency ON negotiation_state (agency_name)",
    # Live rows only, ordered as load_active returns them and covering SUMMARY_COLUMNS: listing
    # them reads this small index, whatever the number of finished negotiations.
    "CREATE INDEX IF NOT EXISTS idx_neg_state_live ON negotiation_state "
    "(created_at, thread_id, state, pre_pause_state, controlled_by, campaign_id, "
    f"round_count) WHERE {LIVE_NEGOTIATION}",
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
    SQLITE_INBOUND_TABLE,
    "CREATE INDEX IF NOT EXISTS idx_inbound_thread ON inbound_messages (thread_id)",
    *SQLITE_TRUST_TABLES,
    OUTBOX_TABLE,
    *OUTBOX_INDEXES,
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
    # Uids above the cursor that a run has fetched (with the sender's address, so replies of one
    # sender are handled in arrival order across runs) or handled (written with the message's
    # own transaction): runs working on one mailbox side by side skip what another handled, and
    # the cursor moves over a stretch several runs handled. Rows the cursor passes are deleted.
    """CREATE TABLE IF NOT EXISTS mail_uids (
        mailbox TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        sender_key TEXT NOT NULL DEFAULT '',
        handled INTEGER NOT NULL DEFAULT 0 CHECK (handled IN (0, 1)),
        PRIMARY KEY (mailbox, uidvalidity, uid)
    )""",
    # Chat messages (Slack) waiting for delivery; `claimed_until` is the lease of the run
    # posting one, so two deliverers never post the same message at the same time.
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
    # Values that belong to this installation, created on first use (the Message-ID key).
    """CREATE TABLE IF NOT EXISTS installation (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    # Every Dagster asset value, one table per asset (asset_schema.py).
    *SQLITE_ASSET_TABLES,
    SQLITE_VIEW_REFRESH_TABLE,
)


def apply_schema(conn: sqlite3.Connection, now_text: str, *, create: bool = True) -> int | None:
    """Create a new store or migrate an older one (see migrations.py); call in a write txn.

    Returns the version afterwards, or None when create=False and the file holds no store.
    """
    return prepare_schema(conn, Engine.SQLITE, SCHEMA_STATEMENTS, now_text, create=create)


__all__ = [
    "LIVE_NEGOTIATION",
    "SCHEMA_STATEMENTS",
    "SCHEMA_VERSION",
    "SUMMARY_COLUMNS",
    "SchemaVersionError",
    "apply_schema",
]
