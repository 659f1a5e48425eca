"""Campaign ingestion assets, one partition per ClickUp task (partition key = task id).

campaign_task (raw JSON) → campaign (validated, stored) → campaign_influencers (roster selection)

The sensor only lists tasks; fetching, parsing and every store write happen here, in the run.
The work itself is in the integrations and the domain; these functions wire it to Dagster.
"""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
from collections.abc import Sequence
from typing import Any

import dagster as dg

from negotiation_pipeline.defs.campaigns.partitions import campaign_partitions
from negotiation_pipeline.defs.shared.resources import (
    CampaignTaskSourceResource,
    NegotiationStoreResource,
    RosterResource,
)
from negotiation_pipeline.defs.shared.run_tags import tag_run_with_campaign
from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.roster import (
    InfluencerProfile,
    RosterSkip,
    select_influencers,
)
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.domain.previews import PREVIEW_ROWS, cell
from negotiation_pipeline.domain.redaction import redact_text, redact_url
from negotiation_pipeline.integrations.clickup.fields import (
    CampaignValidationError,
    FieldMapping,
    parse_campaign_task,
)
from negotiation_pipeline.integrations.roster.reader import RosterReadError

# Steps that write the business SQLite file share one pool (dagster.yaml: pools default_limit 1),
# so two runs never hold the writer at the same time.
STORE_WRITER_POOL = "negotiation_store_writer"
CAMPAIGN_ACTIVE_STATUS = "active"
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
) -> dg.Output[Campaign]:
    task_id = context.partition_key
    task_date_updated = _date_updated(campaign_task)
    try:
        parsed = parse_campaign_task(campaign_task, FieldMapping.load())
    except CampaignValidationError as exc:
        _reject_task(context, task_id, task_date_updated, exc.errors, clickup, store)
        labels = ", ".join(dict.fromkeys(label for label, _ in exc.errors))
        details = "; ".join(f"{label}: {message}" for label, message in exc.errors)
        raise dg.Failure(
            description=redact_text(
                f"ClickUp task {task_id} is not a valid campaign; bad fields: {labels}. {details}"
            ),
            metadata={"bad_fields": labels, "error_count": len(exc.errors)},
            allow_retries=False,
        ) from exc

    tag_run_with_campaign(context, task_id, parsed.client_name)
    with store.open() as db, db.transaction() as uow:
        seen_before = uow.campaigns.get(task_id) is not None
        uow.campaigns.upsert(
            task_id,
            client_name=parsed.client_name,
            status=CAMPAIGN_ACTIVE_STATUS,
            task_date_updated=task_date_updated,
            campaign=parsed,
        )
        uow.audit.insert(
            AuditEntry(
                event_type=EventType.CAMPAIGN_START,
                campaign_id=task_id,
                metadata={
                    "client_name": parsed.client_name,
                    "task_date_updated": task_date_updated,
                    "updated_campaign": seen_before,
                    "run_id": context.run.run_id,
                },
            )
        )
    return dg.Output(
        parsed,
        metadata={
            "client_name": parsed.client_name,
            "platform": parsed.platform.value,
            "budget": str(parsed.budget),
            "cpm_range": f"{parsed.cpm_range.min_cpm}-{parsed.cpm_range.max_cpm}",
            "listed_influencers": len(parsed.influencers),
            "updated_campaign": seen_before,
        },
    )


def _date_updated(task: dict[str, Any]) -> int | None:
    try:
        return int(str(task.get("date_updated")))
    except ValueError:
        return None


def rejection_comment(errors: Sequence[tuple[str, str]]) -> str:
    """The comment posted on a task that does not validate: one line per bad form field."""
    lines = "\n".join(f"- {label}: {message}" for label, message in errors)
    return (
        "This campaign could not be started because some form fields are not valid:\n"
        f"{lines}\n"
        "Please correct them in the task; the campaign is picked up again once it is saved."
    )


def _reject_task(
    context: dg.AssetExecutionContext,
    task_id: str,
    task_date_updated: int | None,
    errors: Sequence[tuple[str, str]],
    clickup: CampaignTaskSourceResource,
    store: NegotiationStoreResource,
) -> None:
    """Record why the task was refused: audit first (it must never be lost), then the comment."""
    with store.open() as db:
        db.audit.insert(
            AuditEntry(
                event_type=EventType.ERROR,
                campaign_id=task_id,
                metadata={
                    "stage": "campaign_validation",
                    "task_date_updated": task_date_updated,
                    "errors": [{"field": label, "message": msg} for label, msg in errors],
                    "run_id": context.run.run_id,
                },
            )
        )
    try:
        with clickup.open() as source:
            source.post_comment(task_id, rejection_comment(errors))
    except Exception as exc:  # the validation failure stays the reported cause
        context.log.warning(f"could not comment on ClickUp task {task_id}: {exc}")


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
    source = campaign.roster_url or roster.default_source
    try:
        rows = roster.read(campaign.roster_url)
    except RosterReadError as exc:
        # The message names the source with its secrets redacted and never quotes its content.
        with store.open() as db:
            db.audit.insert(
                AuditEntry(
                    event_type=EventType.ERROR,
                    campaign_id=campaign.campaign_id,
                    metadata={"stage": "roster", "roster": redact_url(source), "error": str(exc)},
                )
            )
        raise dg.Failure(f"campaign {campaign.campaign_id}: {exc}", allow_retries=False) from None

    selection = select_influencers(rows, list(campaign.influencers), campaign.platform)
    with store.open() as db:
        db.audit.insert_many(_skip_entry(campaign.campaign_id, skip) for skip in selection.skipped)
    if selection.skipped:
        context.log.warning(
            f"campaign {campaign.campaign_id}: {len(selection.skipped)} influencer(s) skipped"
        )
    return dg.Output(
        selection.selected,
        metadata={
            "roster": redact_url(source),
            "roster_rows": len(rows),
            "selected": len(selection.selected),
            "skipped": len(selection.skipped),
            "skipped_influencers": dg.MetadataValue.md(_skips_markdown(selection.skipped)),
        },
    )


def _skip_entry(campaign_id: str, skip: RosterSkip) -> AuditEntry:
    return AuditEntry(
        event_type=EventType.CAMPAIGN_INFLUENCER_SKIP,
        campaign_id=campaign_id,
        influencer_name=skip.identifier,
        metadata={"reason": skip.reason},
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
