"""Benchmark: cpm_flexibility for one campaign of 2,000 influencers (target < 1 s).

Times the asset body as Dagster runs it (direct invocation with a partitioned asset context and
the real SQLite store resource holding 200 agreements): tracker rebuilt from the store, rows,
DataFrame with Decimal cells, metadata (markdown preview, column schema) and the inline check.
Also prints one full `dg.materialize` of the asset (includes Dagster's run overhead).

    uv run python bench/bench_cpm_flexibility.py [--influencers 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

import dagster as dg

from bench._results import emit
from negotiation_pipeline.defs.campaigns.cpm_assets import cpm_flexibility
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.defs.shared.resources import NegotiationStoreResource
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.integrations.clickup.fields import (
    FieldMapping,
    parse_campaign_task,
)
from negotiation_pipeline.sandbox.paths import SANDBOX_TASKS_DIR
from negotiation_pipeline.store import Agreement, SQLiteStore

TARGET_S = 1.0
CAMPAIGN_TASK = SANDBOX_TASKS_DIR / "86b1aa001.json"


def influencers(count: int) -> list[InfluencerProfile]:
    return [
        InfluencerProfile(
            name=f"Influencer {n}",
            email=f"influencer{n}@example.test",
            platform=Platform.INSTAGRAM,
            handle=f"influencer{n}",
            average_views=5_000 + (n * 7_919) % 400_000,
            engagement_rate=Decimal((n * 37) % 90) / 10,  # 0.0 … 8.9 percent
        )
        for n in range(count)
    ]


def seed_agreements(store: SQLiteStore, campaign: Campaign, count: int) -> None:
    for n in range(count):
        store.agreements.record(
            Agreement(
                thread_id=f"thread-{n}",
                campaign_id=campaign.campaign_id,
                influencer_name=f"Influencer {n}",
                rate=Decimal("900.00"),
                cpm=Decimal("17.50") + Decimal(n % 5),
                engagement_rate=Decimal("4.0"),
            )
        )


def _step_seconds(instance: dg.DagsterInstance, run_id: str, step: str) -> float:
    """Wall time of one step, from its STEP_START to its STEP_SUCCESS event."""
    times = {
        entry.dagster_event.event_type_value: entry.timestamp
        for entry in instance.all_logs(run_id)
        if entry.dagster_event is not None
        and entry.dagster_event.step_key == step
        and entry.dagster_event.event_type_value in ("STEP_START", "STEP_SUCCESS")
    }
    return times["STEP_SUCCESS"] - times["STEP_START"]


def run(count: int, repeat: int) -> int:
    campaign = parse_campaign_task(json.loads(CAMPAIGN_TASK.read_text()), FieldMapping.load())
    people = influencers(count)
    with TemporaryDirectory() as tmp, dg.instance_for_test() as instance:
        store_resource = NegotiationStoreResource(db_path=str(Path(tmp) / "negotiation.db"))
        seed_agreements(SQLiteStore(store_resource.db_path), campaign, 200)
        instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [campaign.campaign_id])

        seconds: list[float] = []
        table = None
        for _ in range(repeat):
            context = dg.build_asset_context(
                partition_key=campaign.campaign_id, resources={"store": store_resource}
            )
            started = time.perf_counter()
            invocation = cpm_flexibility(context, campaign=campaign, campaign_influencers=people)
            assert isinstance(invocation, Iterator), "the asset yields its table and its check"
            events = list(invocation)
            seconds.append(time.perf_counter() - started)
            output, check = events
            assert isinstance(output, dg.Output) and isinstance(check, dg.AssetCheckResult)
            assert check.passed, check.metadata
            table = output.value
        assert table is not None and len(table) == count
        assert all(isinstance(v, Decimal) for v in table["ceiling_rate"])

        @dg.asset(name="campaign", partitions_def=cpm_flexibility.partitions_def)
        def campaign_stub() -> Campaign:
            return campaign

        @dg.asset(name="campaign_influencers", partitions_def=cpm_flexibility.partitions_def)
        def influencers_stub() -> list[InfluencerProfile]:
            return people

        started = time.perf_counter()
        result = dg.materialize(
            [campaign_stub, influencers_stub, cpm_flexibility],
            instance=instance,
            partition_key=campaign.campaign_id,
            resources={"store": store_resource},
        )
        full_run_s = time.perf_counter() - started
        assert result.success
        step_s = _step_seconds(instance, result.run_id, "cpm_flexibility")

    median = statistics.median(seconds)
    print(f"influencers: {count}, agreements in store: 200, repeats: {repeat}")
    print(
        f"cpm_flexibility asset body: median {median:.3f} s, min {min(seconds):.3f} s, "
        f"max {max(seconds):.3f} s (target < {TARGET_S} s)"
    )
    print(
        f"full dg.materialize run (2 stub upstreams + cpm_flexibility): {full_run_s:.2f} s; "
        f"cpm_flexibility step incl. IO manager load/store: {step_s:.3f} s"
    )
    ok = median < TARGET_S
    print("PASS" if ok else "FAIL")
    emit(
        f"cpm_flexibility, {count:,} influencers (median asset body)",
        median,
        "s",
        target=f"< {TARGET_S:g} s",
        ok=ok,
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--influencers", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    return run(args.influencers, args.repeat)


if __name__ == "__main__":
    raise SystemExit(main())
