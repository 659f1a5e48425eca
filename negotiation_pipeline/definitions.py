"""The code location: every asset, job and sensor, and the ONLY place resources are bound.

Resources follow the environment (all variables optional; none set = sandbox):
- CLICKUP_API_TOKEN set → the real ClickUp List (CLICKUP_LIST_ID, CLICKUP_API_URL); the token is
  bound as `dg.EnvVar`, so Dagster resolves it at run time and never shows or logs it.
  Unset → the sandbox folder of task JSON files (NEGOTIATION_SANDBOX_DIR, default
  sandbox/clickup/tasks); comments on sandbox tasks go to `clickup/` next to the database.
- NEGOTIATION_DB → the business SQLite file (default .sandbox/negotiation.db).
- ROSTER_URL → the default influencer roster, path or https URL (default sandbox/roster.csv).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import dagster as dg

from negotiation_pipeline.defs.assets import (
    campaign,
    campaign_agreements,
    campaign_influencers,
    campaign_task,
    cpm_flexibility,
)
from negotiation_pipeline.defs.jobs import campaign_ingestion_job
from negotiation_pipeline.defs.resources import (
    CampaignTaskSourceResource,
    ClickUpTaskSourceResource,
    NegotiationStoreResource,
    RosterResource,
    SandboxTaskSourceResource,
)
from negotiation_pipeline.defs.sensors import clickup_campaign_sensor, cpm_automation_sensor
from negotiation_pipeline.integrations.clickup.client import DEFAULT_CLICKUP_API_URL
from negotiation_pipeline.store.paths import DB_ENV_VAR, SANDBOX_DB_PATH

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_TASKS_DIR = PROJECT_ROOT / "sandbox" / "clickup" / "tasks"
SANDBOX_ROSTER = PROJECT_ROOT / "sandbox" / "roster.csv"


def _setting(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def task_source_resource(env: Mapping[str, str], db_path: Path) -> CampaignTaskSourceResource:
    if _setting(env, "CLICKUP_API_TOKEN"):
        return ClickUpTaskSourceResource(
            api_token=dg.EnvVar("CLICKUP_API_TOKEN"),
            list_id=dg.EnvVar("CLICKUP_LIST_ID"),
            base_url=_setting(env, "CLICKUP_API_URL") or DEFAULT_CLICKUP_API_URL,
        )
    return SandboxTaskSourceResource(
        folder=_setting(env, "NEGOTIATION_SANDBOX_DIR") or str(SANDBOX_TASKS_DIR),
        comments_folder=str(db_path.parent / "clickup"),
    )


def build_resources(env: Mapping[str, str]) -> dict[str, dg.ConfigurableResource]:
    """Resources for this environment (tests pass their own mapping)."""
    db_path = Path(_setting(env, DB_ENV_VAR) or SANDBOX_DB_PATH).expanduser()
    return {
        "store": NegotiationStoreResource(db_path=str(db_path)),
        "clickup": task_source_resource(env, db_path),
        "roster": RosterResource(default_source=_setting(env, "ROSTER_URL") or str(SANDBOX_ROSTER)),
    }


def build_definitions(env: Mapping[str, str]) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            campaign_task,
            campaign,
            campaign_influencers,
            cpm_flexibility,
            campaign_agreements,
        ],
        jobs=[campaign_ingestion_job],
        sensors=[clickup_campaign_sensor, cpm_automation_sensor],
        resources=build_resources(env),
    )


defs = build_definitions(os.environ)
