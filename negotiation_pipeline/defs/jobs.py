"""Jobs of the campaign pipeline."""

from __future__ import annotations

import dagster as dg

from negotiation_pipeline.defs.assets.campaigns import campaign, campaign_influencers, campaign_task
from negotiation_pipeline.defs.assets.cpm import cpm_flexibility

# dagster.yaml limits runs carrying this tag to one at a time: they all write the one SQLite file.
SQLITE_RUN_TAGS = {"negotiation/db": "sqlite"}

campaign_ingestion_job = dg.define_asset_job(
    name="campaign_ingestion_job",
    selection=dg.AssetSelection.assets(
        campaign_task, campaign, campaign_influencers, cpm_flexibility
    ),
    tags=SQLITE_RUN_TAGS,
    description=(
        "Ingest one campaign partition: fetch the ClickUp task, validate and store the campaign, "
        "select its influencers and build the CPM flexibility table. Launched by "
        "clickup_campaign_sensor, one run per new or changed task."
    ),
)
