"""`campaign_agreements`: agreements reached in a campaign, recorded by the negotiation job.

The rows live in the store's `agreements` table; Dagster only sees this external asset, which the
negotiation code reports a materialization for (one per campaign partition) whenever an agreement
is recorded. `cpm_flexibility` depends on it, so an agreement makes the automation sensor
recompute that campaign's flexibility table.
"""

from __future__ import annotations

from decimal import Decimal

import dagster as dg

from negotiation_pipeline.defs.campaigns.partitions import campaign_partitions

campaign_agreements = dg.AssetSpec(
    key="campaign_agreements",
    partitions_def=campaign_partitions,
    group_name="negotiation",
    kinds={"sqlite"},
    owners=["team:negotiation"],
    description=(
        "Rates agreed with the campaign's influencers, reported by the job or command that "
        "reached each agreement (it cannot be materialized from the UI). Each agreement "
        "recomputes cpm_flexibility."
    ),
)


def agreement_materialization(
    campaign_id: str, *, influencer_name: str, rate: Decimal, cpm: Decimal
) -> dg.AssetMaterialization:
    """The event the negotiation job yields (or reports with
    `instance.report_runless_asset_event`) after committing an agreement. Money goes in as text."""
    return dg.AssetMaterialization(
        asset_key=campaign_agreements.key,
        partition=campaign_id,
        metadata={
            "influencer": influencer_name,
            "agreed_rate": str(rate),
            "agreed_cpm": str(cpm),
        },
    )
