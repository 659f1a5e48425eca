"""The code location loads as `dagster dev` loads it, and resources follow the environment."""

from __future__ import annotations

import dagster as dg
import pytest

from negotiation_pipeline.definitions import build_definitions, build_resources, defs
from negotiation_pipeline.defs.resources import (
    ClickUpTaskSourceResource,
    NegotiationStoreResource,
    SandboxTaskSourceResource,
)

ASSET_KEYS = {
    "campaign_task",
    "campaign",
    "campaign_influencers",
    "cpm_flexibility",
    "campaign_agreements",
}


def test_defs_load_with_jobs_sensors_and_assets() -> None:
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("campaign_ingestion_job")
    assert job.tags["negotiation/db"] == "sqlite"
    graph = defs.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == ASSET_KEYS
    for name in ("campaign_task", "campaign", "campaign_influencers", "cpm_flexibility"):
        node = graph.get(dg.AssetKey(name))
        assert node.partitions_def is not None and node.owners and node.kinds
        assert node.group_name in {"campaigns", "cpm"}
    assert graph.get(dg.AssetKey("cpm_flexibility")).automation_condition is not None


def test_sensors_run_by_default() -> None:
    sensor = defs.resolve_sensor_def("clickup_campaign_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 30
    assert sensor.job_name == "campaign_ingestion_job"
    automation = defs.resolve_sensor_def("cpm_automation_sensor")
    assert automation.default_status == dg.DefaultSensorStatus.RUNNING


def test_no_token_selects_the_sandbox_folder() -> None:
    resources = build_resources({"NEGOTIATION_SANDBOX_DIR": "/tmp/tasks-x"})
    clickup = resources["clickup"]
    assert isinstance(clickup, SandboxTaskSourceResource)
    assert clickup.folder == "/tmp/tasks-x"


def test_token_selects_clickup_with_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLICKUP_API_TOKEN", "pk_secret_value")
    monkeypatch.setenv("CLICKUP_LIST_ID", "123")
    env = {"CLICKUP_API_TOKEN": "pk_secret_value", "NEGOTIATION_DB": "/tmp/x/n.db"}
    loaded = build_definitions(env)
    dg.Definitions.validate_loadable(loaded)
    clickup = build_resources(env)["clickup"]
    assert isinstance(clickup, ClickUpTaskSourceResource)
    assert clickup.base_url == "https://api.clickup.com/api/v2"
    # Bound as an EnvVar: the secret is resolved at run time, not stored in the definition.
    assert "pk_secret_value" not in repr(clickup)
    store = build_resources(env)["store"]
    assert isinstance(store, NegotiationStoreResource) and store.db_path == "/tmp/x/n.db"
