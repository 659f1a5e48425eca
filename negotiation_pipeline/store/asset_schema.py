"""The asset tables of a new store, for both engines (schema.py and postgres_schema.py include
them; migrations.py brings an older store up to them).

One table per Dagster asset, one row per item, the campaign partition `campaign_id` first and in
every primary key; `asset_partitions` records each written partition (asset_tables.py explains
why). The columns are those documented in asset_rows.py (the fixed tables) and declared by the
`cpm_flexibility` asset (defs/campaigns/cpm_assets.py); tests/store/test_asset_tables.py compares
them.
Money is TEXT holding the Decimal's digits on SQLite and NUMERIC on PostgreSQL, never REAL.
A change here is also a new step in migrations.py.
"""

from __future__ import annotations

from collections.abc import Mapping

_SQLITE = {"int": "INTEGER", "money": "TEXT", "json": "TEXT", "time": "TEXT", "date": "TEXT"}
_POSTGRES = {
    "int": "BIGINT",
    "money": "NUMERIC",
    "json": "JSONB",
    "time": "TIMESTAMPTZ",
    "date": "DATE",
}


def _scenario_columns(t: Mapping[str, str]) -> str:
    return ",\n".join(
        f"        scenario_{n}_expected_views {t['int']},\n"
        f"        scenario_{n}_opening_rate {t['money']},\n"
        f"        scenario_{n}_ceiling_rate {t['money']}"
        for n in (1, 2, 3)
    )


def _asset_tables(t: Mapping[str, str]) -> tuple[str, ...]:
    return (
        f"""CREATE TABLE IF NOT EXISTS asset_partitions (
        table_name TEXT NOT NULL,
        campaign_id TEXT NOT NULL,
        row_count {t["int"]} NOT NULL,
        columns_json {t["json"]} NOT NULL,
        run_id TEXT,
        materialized_at {t["time"]} NOT NULL,
        PRIMARY KEY (table_name, campaign_id)
    )""",
        f"""CREATE TABLE IF NOT EXISTS asset_campaign_task (
        campaign_id TEXT NOT NULL,
        task_name TEXT NOT NULL,
        status TEXT,
        date_updated {t["int"]},
        task_json {t["json"]} NOT NULL,
        PRIMARY KEY (campaign_id)
    )""",
        f"""CREATE TABLE IF NOT EXISTS asset_campaign (
        campaign_id TEXT NOT NULL,
        client_name TEXT NOT NULL,
        platform TEXT NOT NULL,
        budget {t["money"]} NOT NULL,
        min_cpm {t["money"]} NOT NULL,
        max_cpm {t["money"]} NOT NULL,
        min_cost {t["money"]},
        max_cost_without_approval {t["money"]},
        publish_date {t["date"]},
        optimize_for TEXT NOT NULL,
        listed_influencers {t["int"]} NOT NULL,
        campaign_json {t["json"]} NOT NULL,
        PRIMARY KEY (campaign_id)
    )""",
        f"""CREATE TABLE IF NOT EXISTS asset_campaign_influencers (
        campaign_id TEXT NOT NULL,
        "position" {t["int"]} NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        platform TEXT NOT NULL,
        handle TEXT NOT NULL,
        average_views {t["int"]} NOT NULL,
        engagement_rate {t["money"]},
        manager_emails {t["json"]} NOT NULL,
        view_overrides {t["json"]} NOT NULL,
        PRIMARY KEY (campaign_id, "position")
    )""",
        f"""CREATE TABLE IF NOT EXISTS asset_cpm_flexibility (
        campaign_id TEXT NOT NULL,
        "position" {t["int"]} NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        platform TEXT NOT NULL,
        average_views {t["int"]} NOT NULL,
        engagement_rate {t["money"]},
        floor_cpm {t["money"]} NOT NULL,
        max_allowed_cpm {t["money"]} NOT NULL,
        opening_rate {t["money"]} NOT NULL,
        ceiling_rate {t["money"]} NOT NULL,
        reason TEXT NOT NULL,
        manager_emails TEXT NOT NULL,
{_scenario_columns(t)},
        PRIMARY KEY (campaign_id, "position")
    )""",
        f"""CREATE TABLE IF NOT EXISTS asset_negotiation_snapshots (
        campaign_id TEXT NOT NULL,
        "position" {t["int"]} NOT NULL,
        thread_id TEXT NOT NULL,
        influencer TEXT NOT NULL,
        state TEXT NOT NULL,
        "round" {t["int"]} NOT NULL,
        our_last_offer {t["money"]},
        their_ask {t["money"]},
        counterparty TEXT NOT NULL,
        controlled_by TEXT NOT NULL,
        client_name TEXT,
        next_step TEXT,
        escalation_reason TEXT,
        their_ask_currency TEXT,
        deliverables {t["json"]},
        usage_rights TEXT,
        last_email_in TEXT,
        last_email_out TEXT,
        PRIMARY KEY (campaign_id, "position")
    )""",
        # A negotiation appears once in its campaign's snapshot.
        "CREATE UNIQUE INDEX IF NOT EXISTS idx_asset_snapshots_thread "
        "ON asset_negotiation_snapshots (campaign_id, thread_id)",
        f"""CREATE TABLE IF NOT EXISTS asset_campaign_report (
        campaign_id TEXT NOT NULL,
        client_name TEXT NOT NULL,
        negotiations {t["int"]} NOT NULL,
        agreed {t["int"]} NOT NULL,
        close_rate {t["money"]},
        average_cpm_achieved {t["money"]},
        target_cpm_min {t["money"]} NOT NULL,
        target_cpm_max {t["money"]} NOT NULL,
        agreements_within_target {t["int"]} NOT NULL,
        budget {t["money"]} NOT NULL,
        budget_committed {t["money"]} NOT NULL,
        budget_remaining {t["money"]} NOT NULL,
        by_state {t["json"]} NOT NULL,
        deals_json {t["json"]} NOT NULL,
        PRIMARY KEY (campaign_id)
    )""",
    )


SQLITE_ASSET_TABLES = _asset_tables(_SQLITE)
POSTGRES_ASSET_TABLES = _asset_tables(_POSTGRES)
