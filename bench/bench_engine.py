"""Replies per second through the engine: read + decide + render + validate, one core.

Run: uv run python bench/bench_engine.py [--seconds 3]
Target: >= 2,000 replies/s.

The workload is realistic reply bodies (with Gmail-quoted history of our email) covering every
path: accept, counter within the ceiling, counter above it (levers), question, decline, unclear,
another currency, a talent manager's signature. Each reply is handled against a freshly opened
negotiation (opening is done once, outside the timed loop), so every iteration does the full
read_reply → handle_reply (plan, render, gate) work.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from bench._results import emit
from negotiation_pipeline.domain.campaigns.campaign import (
    BudgetConstraints,
    Campaign,
    CPMRange,
    DeliverableScenarios,
    ProductLever,
    UsageRights,
)
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.domain.negotiation.engine import (
    InfluencerTerms,
    handle_reply,
    open_negotiation,
)
from negotiation_pipeline.settings.engine import load_engine_config
from tests.support.reading import read_reply

ENGINE_TARGET_PER_S = 2_000

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

REPLIES: tuple[tuple[str, str], ...] = (
    ("Jane Doe <jane@gmail.com>", "Hi Alex,\n\nThat works for me, let's do it!\n\nThanks!\nJane"),
    (
        "Jane Doe <jane@gmail.com>",
        "Hey Alex!\n\nI'd love to do this but I'd need $1,300 to make it work.\n\nxx Jane",
    ),
    (
        "Jane Doe <jane@gmail.com>",
        "Hi Alex,\n\nMy standard rate is $2,400. For this campaign I can come down to 1.9k."
        "\n\nBest,\nJane Doe",
    ),
    (
        "Jane Doe <jane@gmail.com>",
        "Hi Alex,\n\nThanks! Quick question: what are the payment terms?\n\nJane",
    ),
    (
        "Jane Doe <jane@gmail.com>",
        "Hi Alex,\n\nThanks so much, but I'm going to pass on this one.\n\nJane",
    ),
    ("Jane Doe <jane@gmail.com>", "Hi Alex,\n\nCould you do €1.200 instead?\n\nJane"),
    (
        "Jane Doe <jane@gmail.com>",
        "Hi Alex,\n\nHmm, let me think about it and circle back.\n\nJane",
    ),
    (
        "Jordan Miles <jordan@brightlinetalent.com>",
        "Hi Alex,\n\nThank you for the offer for Jane. Given her 312,000 followers we would need "
        "USD 1,450 for this package.\n\nBest regards,\nJordan Miles\nTalent Manager | Brightline "
        "Talent\n+1 (310) 555-0142",
    ),
)


def _campaign() -> Campaign:
    return Campaign(
        campaign_id="bench",
        client_name="Glow Labs",
        budget="100000",
        platform=Platform.INSTAGRAM,
        cpm_range=CPMRange(min_cpm="20", max_cpm="30"),
        publish_date=date(2026, 4, 20),
        scenarios=DeliverableScenarios(
            scenario_1="1 Instagram Reel, 3 Instagram Stories",
            scenario_2="1 Instagram Reel, 1 Instagram Story",
            scenario_3="1 Instagram Reel",
        ),
        usage_rights=UsageRights(target="90 days", minimum="30 days"),
        budget_constraints=BudgetConstraints(min_cost="300", max_cost_without_approval="8000"),
        product=ProductLever(available=True, description="the serum set", value="120"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    config = load_engine_config()
    campaign = _campaign()
    terms = InfluencerTerms(
        name="Jane Doe",
        email="jane@gmail.com",
        platform=Platform.INSTAGRAM,
        average_views=45_000,
        engagement_rate=Decimal("4.2"),
        floor_rate=Decimal("900.00"),
        ceiling_rate=Decimal("1458.00"),
        max_allowed_cpm=Decimal("32.40"),
    )
    opening = open_negotiation("bench-thread", campaign, terms, config, NOW)
    assert opening.email is not None
    quoted = "\n\nOn Mon, Mar 2, 2026 at 9:00 AM Alex Morgan <partnerships@northbeam.test> wrote:\n"
    quoted += "\n".join(f"> {line}" for line in opening.email.body.splitlines())
    bodies = [(sender, text + quoted) for sender, text in REPLIES]
    negotiation = opening.negotiation
    policy = config.policy

    def one(sender: str, body: str) -> str:
        reading = read_reply(
            body,
            confidence_threshold=policy.confidence_threshold,
            our_offer=negotiation.our_last_offer,
        )
        return handle_reply(negotiation, reading, body, sender, campaign, config, NOW).action.value

    actions = {one(s, b) for s, b in bodies}  # warm-up, and show the paths covered
    count = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    deadline = started + args.seconds
    while time.perf_counter() < deadline:
        for sender, body in bodies:
            one(sender, body)
        count += len(bodies)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(f"paths covered: {sorted(actions)}")
    print(
        f"{count} replies in {elapsed:.2f} s: {count / elapsed:,.0f} replies/s "
        f"({elapsed / count * 1000:.3f} ms per reply: read + decide + render + validate)"
    )
    # On a shared machine the wall-clock rate is the core's share this process got; the rate
    # per CPU second of this process is what one whole core would do.
    print(f"per CPU second of this process: {count / cpu:,.0f} replies/s ({cpu:.2f} s of CPU)")
    rate = count / elapsed
    emit(
        "engine: read + decide + render + validate (one core)",
        rate,
        "replies/s",
        target=f">= {ENGINE_TARGET_PER_S:,}/s",
        ok=rate >= ENGINE_TARGET_PER_S,
    )


if __name__ == "__main__":
    main()
