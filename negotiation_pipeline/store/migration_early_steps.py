"""Migration steps 2 to 7 (migrations.py), as they shipped, per engine.

Written out for themselves, never importing the living schema: a store upgraded later must get
exactly what these steps created then. Never edit them; a later change is a later step.
"""

from __future__ import annotations

# Step 2: the live (non-terminal) negotiations get an index of their own; the plain state
# index goes.
LIVE_STATE_INDEX_SQLITE: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS idx_neg_state_live ON negotiation_state "
    "(created_at, thread_id, state, pre_pause_state, controlled_by, campaign_id, "
    "round_count) WHERE state NOT IN ('agreed', 'rejected', 'stopped')",
    "DROP INDEX IF EXISTS idx_neg_state_state",
)
LIVE_STATE_INDEX_POSTGRES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS idx_neg_state_live ON negotiation_state "
    "(created_at, thread_id) INCLUDE (state, pre_pause_state, controlled_by, "
    "campaign_id, round_count) WHERE state NOT IN ('agreed', 'rejected', 'stopped')",
    "DROP INDEX IF EXISTS idx_neg_state_state",
)

# Step 3: a follow-up may wait until an instant (an out-of-office return date).
FOLLOWUP_NOT_BEFORE_SQLITE: tuple[str, ...] = (
    "ALTER TABLE negotiation_state ADD COLUMN followup_not_before TEXT",
)
FOLLOWUP_NOT_BEFORE_POSTGRES: tuple[str, ...] = (
    "ALTER TABLE negotiation_state ADD COLUMN IF NOT EXISTS followup_not_before TIMESTAMPTZ",
)

# Step 4: the durable notification outbox for chat alerts.
NOTIFICATION_OUTBOX_SQLITE: tuple[str, ...] = (
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
)
NOTIFICATION_OUTBOX_POSTGRES: tuple[str, ...] = (
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
)

# Step 5: replies keyed by Message-ID and sender; held replies; senders allowed per negotiation.
INBOUND_BY_SENDER_SQLITE: tuple[str, ...] = (
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
)
INBOUND_BY_SENDER_POSTGRES: tuple[str, ...] = (
    "ALTER TABLE inbound_messages ADD COLUMN IF NOT EXISTS sender_key TEXT NOT NULL DEFAULT ''",
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
)

# Step 6: outbox delivery bookkeeping and the installation table.
OUTBOX_DELIVERY_SQLITE: tuple[str, ...] = (
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
    "CREATE INDEX IF NOT EXISTS idx_outbox_copy ON outbox (created_at) WHERE sent_copy_pending",
    """CREATE TABLE IF NOT EXISTS installation (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
)
OUTBOX_DELIVERY_POSTGRES: tuple[str, ...] = (
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS attempts INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS next_attempt_at TIMESTAMPTZ",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS last_error TEXT",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS sent_copy_pending BOOLEAN NOT NULL DEFAULT false",
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
)

# Step 7: each queued email's recipient name; the package an agreement bought.
RECIPIENT_AND_PACKAGE_SQLITE: tuple[str, ...] = (
    "ALTER TABLE outbox ADD COLUMN to_name TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE agreements ADD COLUMN package_json TEXT",
)
RECIPIENT_AND_PACKAGE_POSTGRES: tuple[str, ...] = (
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS to_name TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE agreements ADD COLUMN IF NOT EXISTS package_json JSONB",
)
