"""The campaign assets materialized for real: `dg.materialize` on a test instance, the real
ClickUp client against the loopback fake, the real SQLite store in tmp_path and the sandbox
roster CSV. One valid and one invalid campaign, each in its own partition."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from negotiation_pipeline.definitions import build_resources
from negotiation_pipeline.defs.campaigns.assets import campaign, campaign_influencers, campaign_task
from negotiation_pipeline.defs.campaigns.checks import CPM_WITHIN_BOUNDS
from negotiation_pipeline.defs.campaigns.cpm_assets import cpm_flexibility
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.domain.campaigns.cpm import FLEXIBILITY_COLUMNS
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.domain.money import rate_for_cpm
from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.sandbox.clickup_tasks import SandboxTaskSource
from negotiation_pipeline.store import AuditQuery, NegotiationStore, open_store
from tests.defs.conftest import (
    INVALID_NIMBUS,
    ON_BOTH_STORES,
    VALID_LUMEN,
    VALID_TRAILPEAK,
    sandbox_task,
)
from tests.fakes.clickup_server import FakeClickUp
from tests.store.conftest import StoreLocation

CAMPAIGN_ASSETS = [campaign_task, campaign, campaign_influencers, cpm_flexibility]
LUMEN_SELECTED = ["Maya Chen", "Theo Martins", "Priya Nair", "Sofia Alvarez", "Jonah Brooks"]
NIMBUS_BAD_LABELS = [
    "Client Name",
    "Campaign Budget",
    "Platform",
    "CPM Min",
    "Content Publish Date",
    "Minimum Cost per Influencer",
]


def materialize(
    instance: dg.DagsterInstance, env: dict[str, str], partition: str
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        CAMPAIGN_ASSETS,
        instance=instance,
        partition_key=partition,
        resources=build_resources(env),
        raise_on_error=False,
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    data = failure.step_failure_data
    assert data is not None and data.user_failure_data is not None
    return data.user_failure_data.description or ""


@pytest.fixture
def store(clickup_env: dict[str, str]) -> NegotiationStore:
    return open_store(clickup_env["NEGOTIATION_DB"])


@ON_BOTH_STORES
def test_invalid_campaign_fails_alone_and_valid_one_is_ingested(
    instance: dg.DagsterInstance,
    clickup_env: dict[str, str],
    fake_clickup: FakeClickUp,
    store: NegotiationStore,
    store_location: StoreLocation,
) -> None:
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [INVALID_NIMBUS, VALID_LUMEN])

    bad = materialize(instance, clickup_env, INVALID_NIMBUS)
    good = materialize(instance, clickup_env, VALID_LUMEN)

    # --- the invalid task: failed at `campaign`, every bad label named, recorded, commented
    assert not bad.success
    message = failure_message(bad)
    for label in NIMBUS_BAD_LABELS:
        assert label in message
    assert [m.asset_key for m in bad.get_asset_materialization_events()] == [
        dg.AssetKey("campaign_task")
    ]
    assert store.campaigns.get(INVALID_NIMBUS) is None  # nothing half-ingested
    [error] = store.audit.query(AuditQuery(campaign=INVALID_NIMBUS, event_type=EventType.ERROR))
    assert error.metadata is not None
    assert {e["field"] for e in error.metadata["errors"]} >= set(NIMBUS_BAD_LABELS)
    [comment] = fake_clickup.comments_for(INVALID_NIMBUS)
    for label in NIMBUS_BAD_LABELS:
        assert f"- {label}:" in comment["comment_text"]

    # --- the valid task went on regardless
    assert good.success
    table = good.output_for_node("cpm_flexibility")
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == list(FLEXIBILITY_COLUMNS)
    assert list(table["name"]) == LUMEN_SELECTED
    maya = table.iloc[0]
    assert maya["floor_cpm"] == Decimal("18") and isinstance(maya["floor_cpm"], Decimal)
    # Reel + 3 Stories: 42,000 + 3 × 10,500 = 73,500 expected views at the $18 floor CPM ($1,323),
    # (the first offer rounds it up to the $5 step: $1,325)
    assert maya["opening_rate"] == Decimal("1323.00")
    assert maya["scenario_1_expected_views"] == 73_500
    assert maya["scenario_3_expected_views"] == 31_500  # 3 Stories alone: worth far less
    assert maya["scenario_3_opening_rate"] == Decimal("567.00")
    assert maya["ceiling_rate"] == rate_for_cpm(73_500, maya["max_allowed_cpm"])
    for column in ("floor_cpm", "max_allowed_cpm", "opening_rate", "ceiling_rate"):
        assert table[column].dtype == object
        assert all(isinstance(value, Decimal) for value in table[column])
    assert all(value <= Decimal("31.20") for value in table["max_allowed_cpm"])  # 120% of 26

    [materialization] = [
        m
        for m in good.get_asset_materialization_events()
        if m.asset_key == dg.AssetKey("cpm_flexibility")
    ]
    metadata = materialization.materialization.metadata
    assert metadata["dagster/row_count"].value == len(LUMEN_SELECTED)
    assert "Maya Chen" in str(metadata["preview"].value)
    assert "1323.00" in str(metadata["preview"].value)
    schema = metadata["dagster/column_schema"].value
    assert isinstance(schema, dg.TableSchema)
    # The schema of the asset's table: the partition column and row order, then the DataFrame's.
    assert [c.name for c in schema.columns] == ["campaign_id", "position", *FLEXIBILITY_COLUMNS]
    # On PostgreSQL the name carries the store's schema, as a SELECT from elsewhere needs it.
    schema_prefix = f"{store_location.schema}." if store_location.schema else ""
    assert metadata["dagster/table_name"].value == f"{schema_prefix}asset_cpm_flexibility"
    [check] = good.get_asset_check_evaluations()
    assert check.check_name == CPM_WITHIN_BOUNDS and check.passed

    record = store.campaigns.get(VALID_LUMEN)
    assert record is not None and record.campaign is not None
    assert record.client_name == "Lumen Skincare"
    assert record.task_date_updated == int(sandbox_task(VALID_LUMEN)["date_updated"])
    assert record.cpm_tracker_data is not None  # saved by cpm_flexibility
    [start] = store.audit.query(
        AuditQuery(campaign=VALID_LUMEN, event_type=EventType.CAMPAIGN_START)
    )
    assert start.metadata is not None and start.metadata["client_name"] == "Lumen Skincare"
    skips = store.audit.query(
        AuditQuery(campaign=VALID_LUMEN, event_type=EventType.CAMPAIGN_INFLUENCER_SKIP)
    )
    assert [s.influencer_name for s in skips] == ["@nobody.here"]
    assert all(s.metadata and s.metadata["reason"] for s in skips)
    [influencers] = [
        m
        for m in good.get_asset_materialization_events()
        if m.asset_key == dg.AssetKey("campaign_influencers")
    ]
    skipped_md = str(influencers.materialization.metadata["skipped_influencers"].value)
    assert "@nobody.here" in skipped_md and "not found in the roster" in skipped_md


def test_sandbox_invalid_campaign_writes_the_comment_file(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str]
) -> None:
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [INVALID_NIMBUS, VALID_TRAILPEAK])

    bad = materialize(instance, sandbox_env, INVALID_NIMBUS)
    good = materialize(instance, sandbox_env, VALID_TRAILPEAK)

    assert not bad.success and good.success
    comments_dir = Path(sandbox_env["NEGOTIATION_DATA_DIR"]) / "clickup"
    comments = SandboxTaskSource(sandbox_env["NEGOTIATION_SANDBOX_DIR"], comments_dir)
    [comment] = comments.read_comments()
    assert comment["task_id"] == INVALID_NIMBUS
    assert "- Campaign Budget:" in comment["comment_text"]
    table = good.output_for_node("cpm_flexibility")
    assert len(table) > 0 and set(table["platform"]) == {"tiktok"}


def test_clickup_failing_after_its_retries_fails_the_partition_and_reaches_slack_once(
    instance: dg.DagsterInstance,
    clickup_defs: dg.Definitions,
    clickup_env: dict[str, str],
    fake_clickup: FakeClickUp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(resilience, "sleep", lambda seconds: None)  # the backoff, not the logic
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])
    fake_clickup.inject_500(times=3)  # every attempt of the task fetch fails

    result = clickup_defs.resolve_job_def("campaign_ingestion_job").execute_in_process(
        instance=instance, partition_key=VALID_LUMEN, raise_on_error=False
    )

    assert not result.success
    task_fetches = [r for r in fake_clickup.requests if r.path.endswith(f"/task/{VALID_LUMEN}")]
    assert len(task_fetches) == 3  # three attempts, then give up
    slack_file = Path(clickup_env["NEGOTIATION_DATA_DIR"]) / "slack.jsonl"
    alerts = [json.loads(line) for line in slack_file.read_text().splitlines()]
    api_alerts = [a for a in alerts if "API error" in json.dumps(a)]
    assert len(api_alerts) == 1, alerts
    assert "failed after 3 attempts" in json.dumps(api_alerts[0])
    # The token never reaches Slack.
    assert fake_clickup.token not in slack_file.read_text()
