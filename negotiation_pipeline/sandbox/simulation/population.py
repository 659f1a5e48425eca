"""The simulated population: seeded campaigns, influencers with real cpm_flexibility terms, and
who answers each of them (one of today's personas, or a standard opponent with a hidden
reservation price)."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from negotiation_pipeline.domain.campaigns.campaign import (
    BudgetConstraints,
    Campaign,
    CPMRange,
    DeliverableScenarios,
    ProductLever,
    Requirements,
    UsageRights,
)
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker, build_flexibility_rows
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import Platform, UsageRightsDuration
from negotiation_pipeline.domain.money import quantize_cents
from negotiation_pipeline.domain.negotiation.engine import EngineConfig, InfluencerTerms
from negotiation_pipeline.sandbox.simulation.opponents import Opponent, OpponentType, make_opponent
from negotiation_pipeline.sandbox.simulation.personas import (
    PERSONA_WEIGHTS,
    RESERVATION_PCT,
    Persona,
    SimulatedInfluencer,
)
from negotiation_pipeline.sandbox.simulation.phrasing import (
    AGENCIES,
    CLIENTS,
    FIRST_NAMES,
    LAST_NAMES,
    pct,
)

_PACKAGES: dict[Platform, tuple[str, str, str]] = {
    Platform.INSTAGRAM: (
        "1 Instagram Reel, 3 Instagram Stories, 1 link in bio for 7 days",
        "1 Instagram Reel, 1 Instagram Story",
        "1 Instagram Reel",
    ),
    Platform.TIKTOK: (
        "2 TikTok videos, 1 TikTok story",
        "1 TikTok video, 1 TikTok story",
        "1 TikTok video",
    ),
    Platform.YOUTUBE: (
        "1 YouTube integration (60-90 seconds), 1 YouTube Short",
        "1 YouTube integration (60 seconds)",
        "1 YouTube Short",
    ),
}
OPPONENT_SHARE = 0.5  # of the population; the rest are personas
# Of scenario 1's ceiling, in 1/1000 steps (whole percents would put many exactly on it).
_OPPONENT_RESERVATION = (550, 1250)
Counterpart = SimulatedInfluencer | Opponent


def generate_campaign(rng: random.Random, index: int, influencers: int) -> Campaign:
    platform = rng.choice(list(Platform))
    min_cpm = Decimal(rng.randint(15, 30))
    max_cpm = min_cpm * (1 + pct(rng, (10, 40)))
    packages = _PACKAGES[platform]
    target, minimum = rng.choice(
        (
            (UsageRightsDuration.DAYS_90, UsageRightsDuration.DAYS_30),
            (UsageRightsDuration.MONTHS_6, UsageRightsDuration.DAYS_60),
            (UsageRightsDuration.DAYS_30, UsageRightsDuration.DAYS_30),
            (UsageRightsDuration.NOT_REQUIRED, UsageRightsDuration.NOT_REQUIRED),
        )
    )
    has_product = rng.random() < 0.6
    return Campaign(
        campaign_id=f"sim-{index:04d}",
        client_name=rng.choice(CLIENTS),
        budget=Decimal(influencers) * Decimal(3000),
        platform=platform,
        cpm_range=CPMRange(min_cpm=min_cpm, max_cpm=quantize_cents(max_cpm)),
        timeline=rng.choice((None, "Content live in the second half of April")),
        publish_date=date(2026, 4, rng.randint(10, 28)) if rng.random() < 0.6 else None,
        scenarios=DeliverableScenarios(
            scenario_1=packages[0], scenario_2=packages[1], scenario_3=packages[2]
        ),
        usage_rights=UsageRights(target=target, minimum=minimum),
        budget_constraints=BudgetConstraints(
            min_cost=Decimal(rng.choice((150, 250))) if rng.random() < 0.4 else None,
            max_cost_without_approval=Decimal(rng.choice((15000, 25000)))
            if rng.random() < 0.5
            else None,
        ),
        product=ProductLever(
            available=has_product,
            description="a full product bundle" if has_product else None,
            value=Decimal(rng.choice((60, 120, 250))) if has_product else None,
        ),
        requirements=Requirements(
            content_approval_required=rng.random() < 0.5, revision_rounds=rng.choice((0, 1, 2))
        ),
    )


def generate_terms(
    rng: random.Random,
    index: int,
    campaign: Campaign,
    tracker: CampaignCPMTracker,
    config: EngineConfig,
) -> InfluencerTerms:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    profile = InfluencerProfile(
        name=f"{first} {last}",
        email=f"{first.lower()}.{last.lower()}{index}@{rng.choice(('gmail.com', 'icloud.com'))}",
        platform=campaign.platform,
        handle=f"{first.lower()}{index}",
        average_views=rng.randint(5, 200) * 1000,
        engagement_rate=Decimal(rng.randint(10, 80)) / 10,
    )
    [row] = build_flexibility_rows(campaign, [profile], tracker, config.policy.package_value)
    return InfluencerTerms.from_flexibility_row(row)


def generate_persona(rng: random.Random, terms: InfluencerTerms) -> SimulatedInfluencer:
    persona = rng.choices(list(PERSONA_WEIGHTS), weights=list(PERSONA_WEIGHTS.values()))[0]
    person = SimulatedInfluencer(
        persona=persona,
        name=terms.name,
        email=terms.email,
        reservation=quantize_cents(terms.ceiling_rate * pct(rng, RESERVATION_PCT[persona])),
        followers=terms.average_views * rng.randint(3, 12),
        rng=random.Random(rng.random()),
    )
    if persona is Persona.TALENT_MANAGER:
        give_manager(rng, person, terms)
    return person


def give_manager(rng: random.Random, person: SimulatedInfluencer, terms: InfluencerTerms) -> None:
    agency = rng.choice(AGENCIES)
    manager_first = rng.choice(("Jordan", "Casey", "Morgan", "Riley"))
    person.manager_name = f"{manager_first} Miles"
    person.agency = agency
    # The pipeline only listens to addresses the roster names for this influencer: the
    # manager writes from a listed manager address, else from the creator's own inbox.
    person.manager_email = terms.manager_emails[0] if terms.manager_emails else terms.email


def generate_opponent(rng: random.Random, terms: InfluencerTerms) -> Opponent:
    kind = rng.choice(list(OpponentType))
    base = Decimal(terms.scenarios[0].expected_views)
    shares = {p.scenario: Decimal(p.expected_views) / base for p in terms.scenarios}
    return make_opponent(
        kind,
        rng,
        name=terms.name,
        email=terms.email,
        reservation=quantize_cents(terms.ceiling_rate * _permille(rng, _OPPONENT_RESERVATION)),
        value_shares=shares,
    )


def _permille(rng: random.Random, bounds: tuple[int, int]) -> Decimal:
    return Decimal(rng.randint(*bounds)) / 1000


def kind_of(person: Counterpart) -> str:
    return person.persona.value if isinstance(person, SimulatedInfluencer) else person.kind.value
