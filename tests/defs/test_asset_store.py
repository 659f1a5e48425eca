"""Every asset value in the business store, through the real definitions: a real Dagster test
instance, the real resources over a tmp SQLite store (and once over the throwaway PostgreSQL
server), the rows read back with plain SQL, the values loaded back through the IO manager."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import pandas as pd
import pytest

from negotiation_pipeline.definitions import build_definitions
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.defs.negotiations.assets import campaign_report, negotiation_snapshots
from negotiation_pipeline.defs.shared.asset_store import BusinessStoreIOManager
from negotiation_pipeline.defs.shared.resources import NegotiationStoreResource
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm import FLEXIBILITY_COLUMNS
from negotiation_pipeline.domain.campaigns.report import CampaignReport
from tests.defs.conftest import VALID_LUMEN
from tests.servers.postgres import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.store.conftest import StoreLocation

ASSET_TABLES = {
    "campaign_task": "asset_campaign_task",
    "campaign": "asset_campaign",
    "campaign_influencers": "asset_campaign_influencers",
    "cpm_flexibility": "asset_cpm_flexibility",
    "negotiation_snapshots": "asset_negotiation_snapshots",
    "campaign_report": "asset_campaign_report",
}
LUMEN_INFLUENCERS = 5


def ingest(
    defs: dg.Definitions, instance: dg.DagsterInstance, partition: str
) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("campaign_ingestion_job")
    return job.execute_in_process(instance=instance, partition_key=partition)


def metadata_of(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    events = result.get_asset_materialization_events()
    [event] = [e for e in events if e.materialization.asset_key.path == [asset]]
    return {name: value.value for name, value in event.materialization.metadata.items()}


def sqlite_rows(db: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return [tuple(row) for row in conn.execute(sql, params)]


# --- the binding -------------------------------------------------------------------------------
def test_every_asset_is_stored_by_the_business_store_io_manager(
    sandbox_env: dict[str, str],
) -> None:
    defs = build_definitions(sandbox_env)
    resources = defs.resources or {}
    repository = defs.get_repository_def()
    keys = {
        key: assets_def.get_io_manager_key_for_asset_key(key)
        for key, assets_def in repository.assets_defs_by_key.items()
        if assets_def.is_executable
    }
    assert {key.path[0] for key in keys} >= set(ASSET_TABLES) | {"negotiations"}
    for key, io_manager_key in keys.items():
        assert isinstance(resources[io_manager_key], BusinessStoreIOManager), key


# --- SQLite, the whole ingestion chain ---------------------------------------------------------
def test_ingestion_writes_every_asset_table_and_downstream_loads_equal_values(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str]
) -> None:
    defs = build_definitions(sandbox_env)
    db = sandbox_env["NEGOTIATION_DB"]
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])

    result = ingest(defs, instance, VALID_LUMEN)

    assert result.success
    counts = {
        table: sqlite_rows(
            db, f"SELECT COUNT(*) FROM {table} WHERE campaign_id = ?", (VALID_LUMEN,)
        )
        for table in ASSET_TABLES.values()
    }
    assert counts == {
        "asset_campaign_task": [(1,)],
        "asset_campaign": [(1,)],
        "asset_campaign_influencers": [(LUMEN_INFLUENCERS,)],
        "asset_cpm_flexibility": [(LUMEN_INFLUENCERS,)],
        "asset_negotiation_snapshots": [(LUMEN_INFLUENCERS,)],
        "asset_campaign_report": [(1,)],
    }
    campaign = result.output_for_node("campaign")
    assert isinstance(campaign, Campaign)
    [(budget, kind)] = sqlite_rows(db, "SELECT budget, typeof(budget) FROM asset_campaign")
    assert (budget, kind) == (str(campaign.budget), "text")
    [maya] = sqlite_rows(
        db,
        "SELECT name, opening_rate, typeof(opening_rate), average_views, typeof(average_views) "
        "FROM asset_cpm_flexibility WHERE position = 0",
    )
    assert maya == ("Maya Chen", "1323.00", "text", 42_000, "integer")
    [report_row] = sqlite_rows(
        db, "SELECT negotiations, agreed, budget_committed, by_state FROM asset_campaign_report"
    )
    assert report_row[:3] == (LUMEN_INFLUENCERS, 0, "0.00")
    assert json.loads(report_row[3]) == {"awaiting_reply": LUMEN_INFLUENCERS}

    # Loaded back through the IO manager: the same values, of the same types.
    def load(asset: str) -> Any:
        return defs.load_asset_value(asset, instance=instance, partition_key=VALID_LUMEN)

    assert load("campaign") == campaign
    assert str(load("campaign").budget) == str(campaign.budget)
    assert load("campaign_task") == result.output_for_node("campaign_task")
    assert load("campaign_influencers") == result.output_for_node("campaign_influencers")
    produced = result.output_for_node("cpm_flexibility")
    loaded = load("cpm_flexibility")
    pd.testing.assert_frame_equal(loaded, produced)
    assert list(loaded.columns) == list(FLEXIBILITY_COLUMNS)
    for column in ("floor_cpm", "max_allowed_cpm", "opening_rate", "ceiling_rate"):
        assert [str(v) for v in loaded[column]] == [str(v) for v in produced[column]]
        assert all(isinstance(v, Decimal) for v in loaded[column])
    assert load("negotiation_snapshots") == result.output_for_node("negotiation_snapshots")
    report = load("campaign_report")
    assert isinstance(report, CampaignReport)
    assert report == result.output_for_node("campaign_report")

    # Each materialization points at its table and documents its columns.
    for asset, table in ASSET_TABLES.items():
        metadata = metadata_of(result, asset)
        assert metadata["dagster/table_name"] == table
        assert metadata["dagster/uri"] == "sqlite://" + str(Path(db).resolve())
        schema = metadata["dagster/column_schema"]
        names = [column.name for column in schema.columns]
        assert names[0] == "campaign_id"
        table_columns = [row[1] for row in sqlite_rows(db, f'PRAGMA table_info("{table}")')]
        assert names == table_columns
        assert all(column.description for column in schema.columns)
    # The assets' own metadata is still there.
    assert metadata_of(result, "negotiation_snapshots")["by_state"] == "awaiting_reply: 5"
    assert metadata_of(result, "campaign_report")["negotiation_count"] == LUMEN_INFLUENCERS


def test_the_advance_job_rewrites_the_snapshot_and_report_tables_it_reports(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str], store_location: StoreLocation
) -> None:
    from tests.defs.test_negotiation_loop import MAYA, Sandbox, influencer_reply

    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])
    sandbox = Sandbox(sandbox_env, build_definitions(sandbox_env), instance, store_location)
    sandbox.ingest()
    sandbox.maildir().append_to_inbox(
        influencer_reply(sandbox, MAYA, "That works for me, let's do it!", "Maya Chen")
    )
    [request] = sandbox.tick("inbox_sensor", cursor=None).run_requests or []

    result = sandbox.advance(request)

    assert result.success
    db = sandbox_env["NEGOTIATION_DB"]
    states = sqlite_rows(
        db, "SELECT influencer, state FROM asset_negotiation_snapshots ORDER BY position"
    )
    assert ("Maya Chen", "agreed") in states and len(states) == LUMEN_INFLUENCERS
    [(agreed, committed)] = sqlite_rows(
        db, "SELECT agreed, budget_committed FROM asset_campaign_report"
    )
    [agreement] = sandbox.store().agreements.for_campaign(VALID_LUMEN)
    assert (agreed, committed) == (1, str(agreement.rate))
    for key, table in (
        (negotiation_snapshots.key, "asset_negotiation_snapshots"),
        (campaign_report.key, "asset_campaign_report"),
    ):
        [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
        assert event.materialization.metadata["dagster/table_name"].value == table
        [(run_id,)] = sqlite_rows(
            db, "SELECT run_id FROM asset_partitions WHERE table_name = ?", (table,)
        )
        assert run_id == result.run_id
    report = sandbox.defs.load_asset_value(
        "campaign_report", instance=instance, partition_key=VALID_LUMEN
    )
    assert isinstance(report, CampaignReport)
    assert report.agreed == 1 and str(report.budget_committed) == str(agreement.rate)
    assert [deal.influencer for deal in report.deals] == ["Maya Chen"]


def stored_files(instance: dg.DagsterInstance) -> list[Path]:
    return sorted(p for p in Path(instance.storage_directory()).rglob("*") if p.is_file())


def test_no_value_is_pickled_under_the_dagster_home(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str], store_location: StoreLocation
) -> None:
    """Every asset materialized, the reply and follow-up jobs run (their op outputs are counts):
    nothing lands in the instance's storage as a pickle, nor under an asset's name."""
    from tests.defs.test_negotiation_loop import MAYA, Sandbox, influencer_reply

    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])
    sandbox = Sandbox(sandbox_env, build_definitions(sandbox_env), instance, store_location)
    ingested = sandbox.ingest()
    sandbox.maildir().append_to_inbox(
        influencer_reply(sandbox, MAYA, "That works for me, let's do it!", "Maya Chen")
    )
    [request] = sandbox.tick("inbox_sensor", cursor=None).run_requests or []
    advanced = sandbox.advance(request)
    followed = sandbox.defs.resolve_job_def("followup_job").execute_in_process(instance=instance)

    assert ingested.success and advanced.success and followed.success
    materialized = {
        e.materialization.asset_key.path[0] for e in ingested.get_asset_materialization_events()
    }
    assert materialized == {*ASSET_TABLES, "negotiations", "negotiation_conversations"}
    assert advanced.output_for_node("advance_negotiations") == 1  # the count, not stored
    files = stored_files(instance)
    assert files, "the instance keeps its run and event storage here"
    pickled = [f for f in files if f.read_bytes()[:1] == b"\x80"]  # every pickle protocol >= 2
    assert pickled == []
    named_after_assets = [f for f in files if set(f.parts) & materialized]
    assert named_after_assets == []
    assert sandbox.defs.resources is not None
    store = sandbox.defs.resources["store"]
    assert isinstance(store, NegotiationStoreResource)
    with pytest.raises(Exception, match=r"comes from an op output.*only asset values have tables"):
        BusinessStoreIOManager(store=store).load_input(dg.build_input_context(name="count"))


# --- PostgreSQL, one end-to-end materialization -------------------------------------------------
@pytest.fixture
def pg_env(
    postgres_url: str,  # noqa: F811
    sandbox_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    """NEGOTIATION_DB = a PostgreSQL URL with a password (the server trusts loopback, so any
    password connects) and its own schema through the libpq `options` parameter."""
    import psycopg
    from psycopg import sql

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    parts = urlsplit(postgres_url)
    netloc = f"{parts.username}:s3cret-pw@{parts.hostname}:{parts.port}"
    url = urlunsplit(parts._replace(netloc=netloc, query=f"options=-csearch_path%3D{schema}"))
    monkeypatch.setenv("NEGOTIATION_DB", url)  # bound as dg.EnvVar: read from the environment
    monkeypatch.chdir(tmp_path)  # local sandbox files (Slack JSONL) go to ./.sandbox
    env = {
        **sandbox_env,
        "NEGOTIATION_DB": url,
        "NEGOTIATION_MAILDIR": str(tmp_path / "maildir"),
    }
    yield env
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.postgres
def test_ingestion_on_postgres_stores_numeric_rows_and_loads_them_back(
    instance: dg.DagsterInstance, pg_env: dict[str, str]
) -> None:
    import psycopg

    defs = build_definitions(pg_env)
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])

    result = ingest(defs, instance, VALID_LUMEN)

    assert result.success
    with psycopg.connect(pg_env["NEGOTIATION_DB"]) as conn:
        [(budget, budget_type)] = conn.execute(
            "SELECT budget, pg_typeof(budget)::text FROM asset_campaign WHERE campaign_id = %s",
            (VALID_LUMEN,),
        ).fetchall()
        flexibility = conn.execute(
            "SELECT name, opening_rate, pg_typeof(opening_rate)::text, average_views "
            "FROM asset_cpm_flexibility WHERE campaign_id = %s ORDER BY position",
            (VALID_LUMEN,),
        ).fetchall()
        [(negotiations,)] = conn.execute(
            "SELECT negotiations FROM asset_campaign_report"
        ).fetchall()
        schema = conn.execute("SELECT current_schema()").fetchone()
    campaign = result.output_for_node("campaign")
    assert budget == campaign.budget and str(budget) == str(campaign.budget)
    assert budget_type == "numeric"
    assert flexibility[0] == ("Maya Chen", Decimal("1323.00"), "numeric", 42_000)
    assert len(flexibility) == LUMEN_INFLUENCERS and negotiations == LUMEN_INFLUENCERS

    produced = result.output_for_node("cpm_flexibility")
    loaded = defs.load_asset_value("cpm_flexibility", instance=instance, partition_key=VALID_LUMEN)
    assert isinstance(loaded, pd.DataFrame)
    pd.testing.assert_frame_equal(loaded, produced)
    assert [str(v) for v in loaded["ceiling_rate"]] == [str(v) for v in produced["ceiling_rate"]]
    assert defs.load_asset_value("campaign", instance=instance, partition_key=VALID_LUMEN) == (
        campaign
    )

    metadata = metadata_of(result, "cpm_flexibility")
    assert schema is not None
    assert metadata["dagster/table_name"] == f"{schema[0]}.asset_cpm_flexibility"
    assert str(metadata["dagster/uri"]).startswith("postgresql://")
    # The password is nowhere in what Dagster recorded for the run.
    recorded = "\n".join(str(entry) for entry in instance.all_logs(result.run_id))
    assert "s3cret-pw" not in recorded
    assert "s3cret-pw" not in str(metadata["dagster/uri"])
