"""Campaign ingestion assets, one partition per ClickUp task (partition key = task id).

campaign_task (raw JSON) → campaign (validated, stored) → campaign_influencers (roster selection)

The sensor only lists tasks; fetching, parsing and every store write happen here, in the run.
Validation, the audit and the comment on a refused task, and the roster join are the intake
service's (workflow/intake.py); these functions wire it to Dagster and describe the result.
"""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
from collections.abc import Sequence
from typing import Any

import dagster as dg

from negotiation_pipeline.defs.campaigns.partitions import campaign_partitions
from negotiation_pipeline.defs.shared.resources import (
    BusinessRulesResource,
    CampaignTaskSourceResource,
    NegotiationStoreResource,
    RosterResource,
)
from negotiation_pipeline.defs.shared.run_tags import tag_run_with_campaign
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile, RosterSkip
from negotiation_pipeline.domain.previews import PREVIEW_ROWS, cell
from negotiation_pipeline.workflow.intake import (
    CampaignTaskRejected,
    RosterUnavailable,
    accept_campaign_task,
    select_campaign_influencers,
)

# Steps that write the business SQLite file share one pool (dagster.yaml: pools default_limit 1),
# so two runs never hold the writer at the same time.
STORE_WRITER_POOL = "negotiation_store_writer"
OWNERS = ["team:negotiation"]


@dg.asset(
    partitions_def=campaign_partitions,
    group_name="campaigns",
    kinds={"clickup", "json"},
    owners=OWNERS,
    pool=STORE_WRITER_POOL,  # its value is written to the business store (asset_campaign_task)
    description="The campaign's ClickUp task as the API returns it (custom fields included).",
)
def campaign_task(
    context: dg.AssetExecutionContext, clickup: CampaignTaskSourceResource
) -> dg.Output[dict[str, Any]]:
    task_id = context.partition_key
    with clickup.open() as source:
        task = source.get_task(task_id)
    if str(task.get("id")) != task_id:
        raise dg.Failure(f"ClickUp returned task {task.get('id')!r} when asked for {task_id!r}")
    return dg.Output(
        task,
        metadata={
            "task_name": str(task.get("name") or ""),
            "date_updated": str(task.get("date_updated") or ""),
            "status": str((task.get("status") or {}).get("status") or ""),
            "custom_fields": len(task.get("custom_fields") or []),
            "url": dg.MetadataValue.url(str(task["url"])) if task.get("url") else "",
        },
    )


@dg.asset(
    partitions_def=campaign_partitions,
    group_name="campaigns",
    kinds={"python", "sqlite"},
    owners=OWNERS,
    pool=STORE_WRITER_POOL,
    description=(
        "The campaign as read from its ClickUp form, checked field by field. A task that does "
        "not validate fails here, naming every bad form field by its label, and gets a ClickUp "
        "comment saying what to fix (`negotiation-pipeline campaign validate` checks a task "
        "before it is submitted)."
    ),
)
def campaign(
    context: dg.AssetExecutionContext,
    campaign_task: dict[str, Any],
    clickup: CampaignTaskSourceResource,
    store: NegotiationStoreResource,
    rules: BusinessRulesResource,
) -> dg.Output[Campaign]:
    task_id = context.partition_key
    try:
        with store.open() as db:
            accepted = accept_campaign_task(
                db,
                task_id,
                campaign_task,
                rules.field_mapping(),
                open_tasks=clickup.open,
                run_id=context.run.run_id,
            )
    except CampaignTaskRejected as rejected:
        if rejected.comment_error is not None:
            context.log.warning(
                f"could not comment on ClickUp task {task_id}: {rejected.comment_error}"
            )
        raise dg.Failure(
            description=rejected.description,
            metadata={"bad_fields": rejected.bad_labels, "error_count": len(rejected.errors)},
            allow_retries=False,
        ) from rejected
    parsed = accepted.campaign
    tag_run_with_campaign(context, task_id, parsed.client_name)
    return dg.Output(
        parsed,
        metadata={
            "client_name": parsed.client_name,
            "platform": parsed.platform.value,
            "budget": str(parsed.budget),
            "cpm_range": f"{parsed.cpm_range.min_cpm}-{parsed.cpm_range.max_cpm}",
            "listed_influencers": len(parsed.influencers),
            "updated_campaign": accepted.updated_campaign,
        },
    )


@dg.asset(
    partitions_def=campaign_partitions,
    group_name="campaigns",
    kinds={"python", "csv"},
    owners=OWNERS,
    pool=STORE_WRITER_POOL,
    description=(
        "The influencers the campaign negotiates with: the form's Influencer List looked up in "
        "the roster (the campaign's own roster URL, else the default roster). Each listed "
        "influencer that cannot be used is skipped and named, with why, in this asset's "
        "metadata and in `negotiation-pipeline audit --event-type campaign_influencer_skip`."
    ),
)
def campaign_influencers(
    context: dg.AssetExecutionContext,
    campaign: Campaign,
    roster: RosterResource,
    store: NegotiationStoreResource,
) -> dg.Output[list[InfluencerProfile]]:
    try:
        with store.open() as db:
            selection = select_campaign_influencers(
                db, campaign, read_roster=roster.read, default_source=roster.default_source
            )
    except RosterUnavailable as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    if selection.skipped:
        context.log.warning(
            f"campaign {campaign.campaign_id}: {len(selection.skipped)} influencer(s) skipped"
        )
    return dg.Output(
        selection.selected,
        metadata={
            "roster": selection.roster,
            "roster_rows": selection.roster_rows,
            "selected": len(selection.selected),
            "skipped": len(selection.skipped),
            "skipped_influencers": dg.MetadataValue.md(_skips_markdown(selection.skipped)),
        },
    )


def _skips_markdown(skips: Sequence[RosterSkip]) -> str:
    if not skips:
        return "none"
    shown = skips[:PREVIEW_ROWS]
    rows = "\n".join(f"| {cell(skip.identifier)} | {cell(skip.reason)} |" for skip in shown)
    more = len(skips) - len(shown)
    return f"| influencer | reason |\n|---|---|\n{rows}" + (
        f"\n\n… and {more} more" if more > 0 else ""
    )
