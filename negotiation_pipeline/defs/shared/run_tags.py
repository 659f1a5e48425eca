"""Run tags that name the campaign a run is about, so the Runs page reads "Lumen Skincare"
beside the partition key (the ClickUp task id) and can be filtered by either.

The client name comes from outside (a ClickUp field or a task name): it is made one short
printable line before it becomes a tag value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import dagster as dg

from negotiation_pipeline.store.base import NegotiationStore

CAMPAIGN_NAME_TAG = "campaign_name"
# The campaign's id on runs that have no partition key (op jobs about one campaign).
CAMPAIGN_ID_TAG = "clickup/task_id"
TAG_VALUE_MAX = 120


def tag_value(text: str) -> str:
    """One printable line of at most TAG_VALUE_MAX characters ("" when nothing is left)."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    line = " ".join(printable.split())
    return line if len(line) <= TAG_VALUE_MAX else line[: TAG_VALUE_MAX - 1] + "…"


def campaign_tags(campaign_id: str, client_name: str) -> dict[str, str]:
    """{"clickup/task_id": id, "campaign_name": client}; the name is left out when empty."""
    tags = {CAMPAIGN_ID_TAG: tag_value(campaign_id)}
    name = tag_value(client_name)
    if name:
        tags[CAMPAIGN_NAME_TAG] = name
    return tags


def client_names(db: NegotiationStore, campaign_ids: Iterable[str]) -> dict[str, str]:
    """Campaign id → client name, for the campaigns the store knows."""
    names: dict[str, str] = {}
    for campaign_id in dict.fromkeys(campaign_ids):
        record = db.campaigns.get(campaign_id)
        if record is not None and record.client_name:
            names[campaign_id] = record.client_name
    return names


def tag_run_with_campaign(
    context: dg.OpExecutionContext | dg.AssetExecutionContext,
    campaign_id: str,
    client_name: str,
) -> None:
    """Add the campaign tags to the running run; tags it already carries are kept as they are
    (a run launched with the tags, or one about several campaigns, is not relabelled)."""
    present: Mapping[str, str] = context.run.tags
    missing = {
        key: value
        for key, value in campaign_tags(campaign_id, client_name).items()
        if key not in present
    }
    if missing:
        context.instance.add_run_tags(context.run.run_id, missing)


def tag_run_with_single_campaign(
    context: dg.OpExecutionContext, db: NegotiationStore, campaign_ids: Iterable[str]
) -> None:
    """Tag the run with its campaign when everything it did concerns exactly one campaign."""
    distinct = [c for c in dict.fromkeys(campaign_ids) if c]
    if len(distinct) != 1:
        return
    [campaign_id] = distinct
    tag_run_with_campaign(context, campaign_id, client_names(db, distinct).get(campaign_id, ""))
