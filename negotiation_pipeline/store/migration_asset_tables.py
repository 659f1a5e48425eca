"""Migration step 8 (migrations.py): the asset tables, as the step shipped, per engine.

The statements are written out here for themselves and never import the living schema
(asset_schema.py): a store upgraded later must get exactly what this step created then. Never
edit them; a later change of these tables is a later step.
"""

from __future__ import annotations

ASSET_TABLES_SQLITE: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS asset_partitions (
        table_name TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        row_count INTEGER NOT NULL,
        columns_json TEXT NOT NULL,
        run_id TEXT,
        materialized_at TEXT NOT NULL,
        PRIMARY KEY (table_name, campaign_id)
    )""",
    """CREATE TABLE IF NOT EXISTS asset_campaign_task (
        campaign_id TEXT NOT NULL,
        task_name TEXT NOT NULL,
        status TEXT,
        date_updated INTEGER,
        task_json TEXT NOT NULL,
        PRIMARY KEY (campaign_id)
    )""",
    """CREATE TABLE IF NOT EXISTS asset_campaign (
        campaign_id TEXT NOT NULL,
        client_name TEXT NOT NULL,
        platform TEXT NOT NULL,
        budget TEXT NOT NULL,
        min_cpm TEXT NOT NULL,
        max_cpm TEXT NOT NULL,
        min_cost TEXT,
        max_cost_without_approval TEXT,
        publish_date TEXT,
        optimize_for TEXT NOT NULL,
        listed_influencers INTEGER NOT NULL,
        campaign_json TEXT NOT NULL,
        PRIMARY KEY (campaign_id)
    )""",
    """CREATE TABLE IF NOT EXISTS asset_campaign_influencers (
        campaign_id TEXT NOT NULL,
        "position" INTEGER NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        platform TEXT NOT NULL,
        handle TEXT NOT NULL,
        average_views INTEGER NOT NULL,
        engagement_rate TEXT,
        manager_emails TEXT NOT NULL,
        view_overrides TEXT NOT NULL,
        PRIMARY KEY (campaign_id, "position")
    )""",
    """CREATE TABLE IF NOT EXISTS asset_cpm_flexibility (
        campaign_id TEXT NOT NULL,
        "position" INTEGER NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        platform TEXT NOT NULL,
        average_views INTEGER NOT NULL,
        engagement_rate TEXT,
        floor_cpm TEXT NOT NULL,
        max_allowed_cpm TEXT NOT NULL,
        opening_rate TEXT NOT NULL,
        ceiling_rate TEXT NOT NULL,
        reason TEXT NOT NULL,
        manager_emails TEXT NOT NULL,
        scenario_1_expected_views INTEGER,
        scenario_1_opening_rate TEXT,
        scenario_1_ceiling_rate TEXT,
        scenario_2_expected_views INTEGER,
        scenario_2_opening_rate TEXT,
        scenario_2_ceiling_rate TEXT,
        scenario_3_expected_views INTEGER,
        scenario_3_opening_rate TEXT,
        scenario_3_ceiling_rate TEXT,
        PRIMARY KEY (campaign_id, "position")
    )""",
    """CREATE TABLE IF NOT EXISTS asset_negotiation_snapshots (
        campaign_id TEXT NOT NULL,
        "position" INTEGER NOT NULL,
        thread_id TEXT NOT NULL,
        influencer TEXT NOT NULL,
        state TEXT NOT NULL,
        "round" INTEGER NOT NULL,
        our_last_offer TEXT,
        their_ask TEXT,
        counterparty TEXT NOT NULL,
        controlled_by TEXT NOT NULL,
        PRIMARY KEY (campaign_id, "position")
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_asset_snapshots_thread "
    "ON asset_negotiation_snapshots (campaign_id, thread_id)",
    """CREATE TABLE IF NOT EXISTS asset_campaign_report (
        campaign_id TEXT NOT NULL,
        client_name TEXT NOT NULL,
        negotiations INTEGER NOT NULL,
        agreed INTEGER NOT NULL,
        close_rate TEXT,
        average_cpm_achieved TEXT,
        target_cpm_min TEXT NOT NULL,
        target_cpm_max TEXT NOT NULL,
        agreements_within_target INTEGER NOT NULL,
        budget TEXT NOT NULL,
        budget_committed TEXT NOT NULL,
        budget_remaining TEXT NOT NULL,
        by_state TEXT NOT NULL,
        deals_json TEXT NOT NULL,
        PRIMARY KEY (campaign_id)
    )""",
)

ASSET_TABLES_POSTGRES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS asset_partitions (
        table_name TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        row_count BIGINT NOT NULL,
        columns_json JSONB NOT NULL,
        run_id TEXT,
        materialized_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (table_name, campaign_id)
    )""",
    """CREATE TABLE IF NOT EXISTS asset_campaign_task (
        campaign_id TEXT NOT NULL,
        task_name TEXT NOT NULL,
        status TEXT,
        date_updated BIGINT,
        task_json JSONB NOT NULL,
        PRIMARY KEY (campaign_id)
    )""",
    """CREATE TABLE IF NOT EXISTS asset_campaign (
        campaign_id TEXT NOT NULL,
        client_name TEXT NOT NULL,
        platform TEXT NOT NULL,
        budget NUMERIC NOT NULL,
        min_cpm NUMERIC NOT NULL,
        max_cpm NUMERIC NOT NULL,
        min_cost NUMERIC,
        max_cost_without_approval NUMERIC,
        publish_date DATE,
        optimize_for TEXT NOT NULL,
        listed_influencers BIGINT NOT NULL,
        campaign_json JSONB NOT NULL,
        PRIMARY KEY (campaign_id)
    )""",
    """CREATE TABLE IF NOT EXISTS asset_campaign_influencers (
        campaign_id TEXT NOT NULL,
        "position" BIGINT NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        platform TEXT NOT NULL,
        handle TEXT NOT NULL,
        average_views BIGINT NOT NULL,
        engagement_rate NUMERIC,
        manager_emails JSONB NOT NULL,
        view_overrides JSONB NOT NULL,
        PRIMARY KEY (campaign_id, "position")
    )""",
    """CREATE TABLE IF NOT EXISTS asset_cpm_flexibility (
        campaign_id TEXT NOT NULL,
        "position" BIGINT NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        platform TEXT NOT NULL,
        average_views BIGINT NOT NULL,
        engagement_rate NUMERIC,
        floor_cpm NUMERIC NOT NULL,
        max_allowed_cpm NUMERIC NOT NULL,
        opening_rate NUMERIC NOT NULL,
        ceiling_rate NUMERIC NOT NULL,
        reason TEXT NOT NULL,
        manager_emails TEXT NOT NULL,
        scenario_1_expected_views BIGINT,
        scenario_1_opening_rate NUMERIC,
        scenario_1_ceiling_rate NUMERIC,
        scenario_2_expected_views BIGINT,
        scenario_2_opening_rate NUMERIC,
        scenario_2_ceiling_rate NUMERIC,
        scenario_3_expected_views BIGINT,
        scenario_3_opening_rate NUMERIC,
        scenario_3_ceiling_rate NUMERIC,
        PRIMARY KEY (campaign_id, "position")
    )""",
    """CREATE TABLE IF NOT EXISTS asset_negotiation_snapshots (
        campaign_id TEXT NOT NULL,
        "position" BIGINT NOT NULL,
        thread_id TEXT NOT NULL,
        influencer TEXT NOT NULL,
        state TEXT NOT NULL,
        "round" BIGINT NOT NULL,
        our_last_offer NUMERIC,
        their_ask NUMERIC,
        counterparty TEXT NOT NULL,
        controlled_by TEXT NOT NULL,
        PRIMARY KEY (campaign_id, "position")
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_asset_snapshots_thread "
    "ON asset_negotiation_snapshots (campaign_id, thread_id)",
    """CREATE TABLE IF NOT EXISTS asset_campaign_report (
        campaign_id TEXT NOT NULL,
        client_name TEXT NOT NULL,
        negotiations BIGINT NOT NULL,
        agreed BIGINT NOT NULL,
        close_rate NUMERIC,
        average_cpm_achieved NUMERIC,
        target_cpm_min NUMERIC NOT NULL,
        target_cpm_max NUMERIC NOT NULL,
        agreements_within_target BIGINT NOT NULL,
        budget NUMERIC NOT NULL,
        budget_committed NUMERIC NOT NULL,
        budget_remaining NUMERIC NOT NULL,
        by_state JSONB NOT NULL,
        deals_json JSONB NOT NULL,
        PRIMARY KEY (campaign_id)
    )""",
)
