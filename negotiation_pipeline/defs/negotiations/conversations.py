"""`negotiation_conversations`: per campaign, every thread's emails in and out with our
decisions, readable in the asset's metadata (bounded markdown). Reported again by every job
that changes a campaign's negotiations, like the snapshot."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
from typing import Any

import dagster as dg

from negotiation_pipeline.defs.campaigns.assets import OWNERS
from negotiation_pipeline.defs.campaigns.partitions import campaign_partitions
from negotiation_pipeline.defs.shared.resources import NegotiationStoreResource
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.conversations import campaign_conversations, campaign_markdown

CONVERSATIONS_KEY = dg.AssetKey("negotiation_conversations")


def conversations_metadata(db: NegotiationStore, campaign_id: str) -> dict[str, Any]:
    conversations = campaign_conversations(db, campaign_id)
    emails = [e for c in conversations for e in c.emails]
    return {
        "dagster/row_count": len(conversations),
        "emails_in": sum(e.direction == "in" for e in emails),
        "emails_out": sum(e.direction == "out" for e in emails),
        "conversations": dg.MetadataValue.md(campaign_markdown(conversations)),
    }


def conversations_materialization(
    db: NegotiationStore, campaign_id: str
) -> dg.AssetMaterialization:
    return dg.AssetMaterialization(
        asset_key=CONVERSATIONS_KEY,
        partition=campaign_id,
        metadata=conversations_metadata(db, campaign_id),
    )


@dg.asset(
    key=CONVERSATIONS_KEY,
    partitions_def=campaign_partitions,
    group_name="negotiation",
    kinds={"sqlite", "email"},
    owners=OWNERS,
    deps=[dg.AssetKey("negotiations")],
    description=(
        "Every negotiation's conversation: each email in and out with its time, subject, new "
        "text and what we decided, newest thread first. One thread in the terminal: "
        "`negotiation-pipeline thread THREAD`."
    ),
)
def negotiation_conversations(
    context: dg.AssetExecutionContext, store: NegotiationStoreResource
) -> dg.MaterializeResult:
    with store.open() as db:
        metadata = conversations_metadata(db, context.partition_key)
    return dg.MaterializeResult(metadata=metadata)


__all__ = ["CONVERSATIONS_KEY", "conversations_materialization", "negotiation_conversations"]
