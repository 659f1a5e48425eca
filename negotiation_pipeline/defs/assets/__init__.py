"""Campaign-partitioned assets, one module per role."""

from negotiation_pipeline.defs.assets.agreements import campaign_agreements
from negotiation_pipeline.defs.assets.campaigns import campaign, campaign_influencers, campaign_task
from negotiation_pipeline.defs.assets.cpm import cpm_flexibility

__all__ = [
    "campaign",
    "campaign_agreements",
    "campaign_influencers",
    "campaign_task",
    "cpm_flexibility",
]
