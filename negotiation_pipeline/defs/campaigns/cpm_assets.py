"""`cpm_flexibility`: per-influencer floor, ceiling and opening offer of one campaign, and the
expected views, opening and ceiling rate of every deliverable scenario.

The negotiation reads its ceilings from this table, so money stays Decimal inside the DataFrame
(object dtype). The CPM tracker is rebuilt from the agreements in the store every time, which is
why the asset depends on `campaign_agreements`: an agreement recomputes it through automation.
"""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from negotiation_pipeline.defs.campaigns.assets import OWNERS, STORE_WRITER_POOL
from negotiation_pipeline.defs.campaigns.checks import (
    cpm_within_bounds_result,
    cpm_within_bounds_spec,
)
from negotiation_pipeline.defs.campaigns.partitions import campaign_partitions
from negotiation_pipeline.defs.negotiations.agreements import campaign_agreements
from negotiation_pipeline.defs.shared.resources import (
    BusinessRulesResource,
    NegotiationStoreResource,
)
from negotiation_pipeline.defs.shared.run_tags import tag_run_with_campaign
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm import (
    FLEXIBILITY_COLUMNS,
    SCENARIO_COLUMNS,
    CampaignCPMTracker,
    build_flexibility_rows,
)
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.previews import cell
from negotiation_pipeline.store.records import Agreement

PREVIEW_ROWS = 20
_OPTIONAL = frozenset(SCENARIO_COLUMNS)
# Columns that may be empty; every other column always has a value.
_NULLABLE = frozenset({"engagement_rate", *_OPTIONAL})

_COLUMN_TYPES: dict[str, tuple[str, str]] = {
    "name": ("string", "influencer name from the roster"),
    "email": ("string", "where the offers go"),
    "platform": ("string", "instagram / tiktok / youtube"),
    "average_views": ("int", "views per post"),
    "engagement_rate": ("decimal", "percent units (4.1 = 4.1%); empty when unknown"),
    "floor_cpm": ("decimal", "campaign min CPM, USD per 1,000 views"),
    "max_allowed_cpm": ("decimal", "most this influencer may get per 1,000 views"),
    "opening_rate": ("decimal", "first offer, USD"),
    "ceiling_rate": ("decimal", "highest offer the negotiation may make, USD"),
    "reason": ("string", "how max_allowed_cpm and each scenario's views were reached"),
    "manager_emails": ("string", "others who may answer for the influencer (;-separated)"),
    **{
        f"scenario_{n}_{column}": (kind, f"scenario {n}: {text}")
        for n in (1, 2, 3)
        for column, kind, text in (
            ("expected_views", "int", "sum of its deliverables' expected views"),
            ("opening_rate", "decimal", "its expected views at the floor CPM (min cost applied)"),
            ("ceiling_rate", "decimal", "its expected views at max_allowed_cpm"),
        )
    },
}

# The DataFrame's columns, and the columns of its table in the business store after
# `campaign_id` and `position` (the IO manager reads them from the definition metadata). The
# table comes with the store's schema: a column added here also needs a migration step.
FLEXIBILITY_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn(
            name,
            kind,
            description=description,
            constraints=dg.TableColumnConstraints(nullable=name in _NULLABLE),
        )
        for name, (kind, description) in _COLUMN_TYPES.items()
    ]
)

# Eager, except that a campaign with no agreement yet still recomputes when its influencers
# change: `campaign_agreements` has no materialization until the first agreement, and plain
# eager() waits while any dependency is missing.
cpm_automation_condition = dg.AutomationCondition.eager().replace(
    "any_deps_missing",
    dg.AutomationCondition.any_deps_missing().ignore(
        dg.AssetSelection.assets(campaign_agreements.key)
    ),
)


@dg.asset(
    partitions_def=campaign_partitions,
    group_name="cpm",
    kinds={"pandas", "python"},
    owners=OWNERS,
    pool=STORE_WRITER_POOL,
    deps=[campaign_agreements],
    automation_condition=cpm_automation_condition,
    check_specs=[cpm_within_bounds_spec],
    metadata={"dagster/column_schema": FLEXIBILITY_SCHEMA},
    description=(
        "What we may pay each influencer: floor and max allowed CPM, the opening offer and the "
        "ceiling rate, and why. Takes the campaign's agreements so far into account: each "
        "agreement recomputes it automatically, and a backfill recomputes it on demand."
    ),
)
def cpm_flexibility(
    context: dg.AssetExecutionContext,
    campaign: Campaign,
    campaign_influencers: list[InfluencerProfile],
    store: NegotiationStoreResource,
    rules: BusinessRulesResource,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    tag_run_with_campaign(context, campaign.campaign_id, campaign.client_name)
    with store.open() as db:
        agreements = db.agreements.for_campaign(campaign.campaign_id)
        tracker = rebuild_tracker(campaign, len(campaign_influencers), agreements)
        db.campaigns.set_cpm_tracker(campaign.campaign_id, tracker.to_dict())
    valuation = rules.policy().package_value
    rows = build_flexibility_rows(campaign, campaign_influencers, tracker, valuation)
    records = [row.as_record() for row in rows]
    table = flexibility_frame(records)
    context.log.info(
        f"campaign {campaign.campaign_id}: {len(table)} influencer(s), "
        f"{len(agreements)} agreement(s) so far"
    )
    yield dg.Output(table, metadata=flexibility_metadata(table, tracker))
    yield cpm_within_bounds_result(records, campaign.cpm_range.max_cpm)


def rebuild_tracker(
    campaign: Campaign, influencer_count: int, agreements: list[Agreement]
) -> CampaignCPMTracker:
    tracker = CampaignCPMTracker(
        campaign.campaign_id,
        campaign.cpm_range.min_cpm,
        campaign.cpm_range.max_cpm,
        # Agreements can outnumber today's selection (an influencer removed from the list later).
        total_influencers=max(influencer_count, len(agreements)),
    )
    for agreement in agreements:
        tracker.record_agreement(agreement.cpm, agreement.engagement_rate)
    return tracker


def flexibility_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records → DataFrame with Decimal cells kept as Decimal (object dtype), never float."""
    frame = pd.DataFrame.from_records(records, columns=list(FLEXIBILITY_COLUMNS))
    # object dtype: Decimals stay Decimal, and a scenario a campaign lacks stays None (pandas
    # would otherwise turn an int column with gaps into floats with NaN). The IO manager loads
    # the stored table back the same way (decimal and nullable columns as object).
    kept = [c for c, (kind, _) in _COLUMN_TYPES.items() if kind == "decimal" or c in _NULLABLE]
    for column in kept:
        frame[column] = pd.Series([r.get(column) for r in records], dtype=object)
    return frame


def flexibility_metadata(table: pd.DataFrame, tracker: CampaignCPMTracker) -> dict[str, Any]:
    average = tracker.running_average_cpm
    return {
        "dagster/row_count": len(table),
        "agreements": tracker.agreement_count,
        "running_average_cpm": "" if average is None else str(average),
        "target_cpm": f"{tracker.target_min_cpm}-{tracker.target_max_cpm}",
        "preview": dg.MetadataValue.md(_markdown_preview(table)),
        # dagster/table_name, dagster/uri and the table's dagster/column_schema: the IO manager.
    }


def _markdown_preview(table: pd.DataFrame) -> str:
    if table.empty:
        return "no influencers selected"
    # Names and emails come from the roster: each cell one bounded line.
    head = table.head(PREVIEW_ROWS).astype(str).replace({"None": ""}).map(cell)
    # disable_numparse: tabulate would print Decimal("1500.00") as 1500 through float.
    text = head.to_markdown(index=False, disable_numparse=True)
    more = len(table) - len(head)
    return text + (f"\n\n… and {more} more row(s)" if more > 0 else "")
