"""Speed of campaign ingestion pieces: flexibility rows for 2,000 influencers, and listing
5,000 tasks from the loopback ClickUp fake. Run: uv run python -m bench.bench_ingestion"""

from __future__ import annotations

import time
from decimal import Decimal

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker, build_flexibility_rows
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.integrations.clickup import ClickUpClient
from negotiation_pipeline.settings.engine import load_policy
from tests.fakes.clickup_server import FakeClickUp, make_task


def bench_flexibility(count: int = 2000) -> float:
    campaign = Campaign.model_validate(
        {
            "campaign_id": "b",
            "client_name": "Bench",
            "budget": "100000",
            "platform": "instagram",
            "cpm_range": {"min_cpm": "18", "max_cpm": "26"},
            "budget_constraints": {"min_cost": "300"},
        }
    )
    people = [
        InfluencerProfile(
            f"P{n}",
            f"p{n}@example.test",
            Platform.INSTAGRAM,
            f"p{n}",
            5_000 + 37 * n,
            Decimal(n % 90) / 10,
        )
        for n in range(count)
    ]
    tracker = CampaignCPMTracker("b", Decimal(18), Decimal(26), count)
    for n in range(count // 3):
        tracker.record_agreement(Decimal("19.5") + Decimal(n % 7))
    start = time.perf_counter()
    rows = build_flexibility_rows(campaign, people, tracker, load_policy().package_value)
    elapsed = time.perf_counter() - start
    assert len(rows) == count
    return elapsed


def bench_listing(count: int = 5000) -> float:
    with FakeClickUp() as fake:
        fake.put_tasks(make_task(f"t{n}", 1_767_000_000_000 + n) for n in range(count))
        with ClickUpClient(fake.base_url, fake.token, fake.list_id) as client:
            start = time.perf_counter()
            listing = client.list_tasks_updated_since(0, max_pages=count // 100 + 1)
            elapsed = time.perf_counter() - start
    assert len(listing.tasks) == count
    return elapsed


if __name__ == "__main__":
    print(f"build_flexibility_rows, 2,000 influencers: {bench_flexibility() * 1000:.1f} ms")
    print(f"list 5,000 tasks (50 pages) from loopback fake: {bench_listing() * 1000:.1f} ms")
