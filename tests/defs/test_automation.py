"""cpm_flexibility recomputes by automation when an agreement is reported for its campaign."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg

from negotiation_pipeline.definitions import build_definitions, build_resources
from negotiation_pipeline.defs.campaigns.assets import campaign, campaign_influencers, campaign_task
from negotiation_pipeline.defs.campaigns.cpm_assets import cpm_flexibility
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.defs.negotiations.agreements import agreement_materialization
from negotiation_pipeline.store import Agreement, open_store
from tests.defs.conftest import VALID_LUMEN, VALID_TRAILPEAK

CAMPAIGN_ASSETS = [campaign_task, campaign, campaign_influencers, cpm_flexibility]


def test_agreement_requests_cpm_flexibility_for_that_campaign_only(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str]
) -> None:
    defs = build_definitions(sandbox_env)
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN, VALID_TRAILPEAK])
    before = {}
    for partition in (VALID_LUMEN, VALID_TRAILPEAK):
        result = dg.materialize(
            CAMPAIGN_ASSETS,
            instance=instance,
            partition_key=partition,
            resources=build_resources(sandbox_env),
        )
        before[partition] = result.output_for_node("cpm_flexibility")

    quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert quiet.get_requested_partitions(cpm_flexibility.key) == set()

    # The negotiation job commits an agreement well under target, then reports it.
    store = open_store(sandbox_env["NEGOTIATION_DB"])
    store.agreements.record(
        Agreement(
            thread_id="thread-maya",
            campaign_id=VALID_LUMEN,
            influencer_name="Maya Chen",
            rate=Decimal("756.00"),
            cpm=Decimal("18.00"),
            engagement_rate=Decimal("4.1"),
        )
    )
    instance.report_runless_asset_event(
        agreement_materialization(
            VALID_LUMEN, influencer_name="Maya Chen", rate=Decimal("756.00"), cpm=Decimal("18.00")
        )
    )

    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
    assert after.get_requested_partitions(cpm_flexibility.key) == {VALID_LUMEN}

    # Running what automation asked for: the savings raise the others' ceilings.
    rerun = dg.materialize(
        CAMPAIGN_ASSETS,
        instance=instance,
        partition_key=VALID_LUMEN,
        resources=build_resources(sandbox_env),
        selection=[cpm_flexibility],
    )
    old, new = before[VALID_LUMEN], rerun.output_for_node("cpm_flexibility")
    theo_old = old.set_index("name").loc["Theo Martins", "max_allowed_cpm"]
    theo_new = new.set_index("name").loc["Theo Martins", "max_allowed_cpm"]
    assert theo_new > theo_old
    assert isinstance(theo_new, Decimal)
    settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
    assert settled.get_requested_partitions(cpm_flexibility.key) == set()
