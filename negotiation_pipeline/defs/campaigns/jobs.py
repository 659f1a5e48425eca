"""Jobs of the campaign pipeline.

`campaign_ingestion_job` runs one campaign partition end to end, negotiations included: a new
campaign gets its opening offers in the same run that validated it (no wait for an automation
tick), and a changed task opens negotiations only for influencers that have none yet.
It runs in process: its steps are sequential anyway (each depends on the previous) and share
one SQLite writer, and a subprocess per step made a run take ~25 s instead of a few.
"""

from __future__ import annotations

import dagster as dg

from negotiation_pipeline.defs.campaigns.assets import campaign, campaign_influencers, campaign_task
from negotiation_pipeline.defs.campaigns.cpm_assets import cpm_flexibility
from negotiation_pipeline.defs.negotiations.assets import (
    campaign_report,
    negotiation_snapshots,
    negotiations,
)
from negotiation_pipeline.defs.negotiations.conversations import negotiation_conversations

# dagster.yaml limits runs carrying this tag to one at a time: they all write the one SQLite file.
SQLITE_RUN_TAGS = {"negotiation/db": "sqlite"}

campaign_ingestion_job = dg.define_asset_job(
    name="campaign_ingestion_job",
    selection=dg.AssetSelection.assets(
        campaign_task,
        campaign,
        campaign_influencers,
        cpm_flexibility,
        negotiations,
        negotiation_snapshots,
        negotiation_conversations,
        campaign_report,
    ),
    tags=SQLITE_RUN_TAGS,
    executor_def=dg.in_process_executor,
    description=(
        "Ingest one campaign partition: fetch the ClickUp task, validate and store the campaign, "
        "select its influencers, build the CPM flexibility table, open the negotiations (opening "
        "offers sent) and report their state. Launched by clickup_campaign_sensor, one run per "
        "new or changed task."
    ),
)
