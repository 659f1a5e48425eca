"""Migration steps 9 and 10 (migrations.py), as they shipped, per engine.

Written out for themselves, never importing the living schema: a store upgraded later must get
exactly what these steps created then. Never edit them; a later change is a later step.
"""

from __future__ import annotations

# Step 9: campaigns whose views (snapshots, report) wait for the next run to refresh them.
VIEW_REFRESH_SQLITE: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS view_refresh (
        campaign_id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        requested_at TEXT NOT NULL
    )""",
)
VIEW_REFRESH_POSTGRES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS view_refresh (
        campaign_id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        requested_at TIMESTAMPTZ NOT NULL
    )""",
)

# Step 10: what each snapshot row tells an operator beside the numbers. Nullable, so rows
# written before the step stay valid until their campaign's snapshot is rewritten. PostgreSQL
# says IF NOT EXISTS so a store whose version record was lost can run the step again safely.
SNAPSHOT_COLUMNS_SQLITE: tuple[str, ...] = (
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN client_name TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN next_step TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN escalation_reason TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN their_ask_currency TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN deliverables TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN usage_rights TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN last_email_in TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN last_email_out TEXT",
)
SNAPSHOT_COLUMNS_POSTGRES: tuple[str, ...] = (
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN IF NOT EXISTS client_name TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN IF NOT EXISTS next_step TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN IF NOT EXISTS escalation_reason TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN IF NOT EXISTS their_ask_currency TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN IF NOT EXISTS deliverables JSONB",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN IF NOT EXISTS usage_rights TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN IF NOT EXISTS last_email_in TEXT",
    "ALTER TABLE asset_negotiation_snapshots ADD COLUMN IF NOT EXISTS last_email_out TEXT",
)
