"""Partitions of the campaign assets: one dynamic partition per ClickUp campaign task.

The partition key is the ClickUp task id. Keys are added by `clickup_campaign_sensor`; influencers
are rows inside a partition, never a second partition dimension.
"""

from __future__ import annotations

import dagster as dg

CAMPAIGN_PARTITIONS_NAME = "campaign"

campaign_partitions = dg.DynamicPartitionsDefinition(name=CAMPAIGN_PARTITIONS_NAME)
