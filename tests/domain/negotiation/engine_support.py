"""Builders shared by the negotiation engine tests (campaign, terms, readings, replies)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from negotiation_pipeline.domain.campaigns.campaign import (
    BudgetConstraints,
    Campaign,
    CPMRange,
    DeliverableScenarios,
    ProductLever,
    Requirements,
    UsageRights,
)
from negotiation_pipeline.domain.enums import Intent, Platform
from negotiation_pipeline.domain.negotiation.engine import (
    EngineConfig,
    InfluencerTerms,
    Negotiation,
    Outcome,
    handle_reply,
    open_negotiation,
)
from negotiation_pipeline.domain.reading.reader import ReplyReading
from negotiation_pipeline.settings.engine import load_engine_config

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JANE = "Jane Doe <jane@gmail.com>"


@lru_cache(maxsize=1)
def engine_config() -> EngineConfig:
    """The repository's real config/ (policy, triggers, templates)."""
    return load_engine_config()


def make_campaign(**overrides: Any) -> Campaign:
    fields: dict[str, Any] = {
        "campaign_id": "cmp-1",
        "client_name": "Glow Labs",
        "budget": "50000",
        "platform": Platform.INSTAGRAM,
        "cpm_range": CPMRange(min_cpm="20", max_cpm="30"),
        "publish_date": date(2026, 4, 20),
        "scenarios": DeliverableScenarios(
            scenario_1="1 Instagram Reel, 3 Instagram Stories",
            scenario_2="1 Instagram Reel, 1 Instagram Story",
            scenario_3="1 Instagram Reel",
        ),
        "usage_rights": UsageRights(target="90 days", minimum="30 days"),
        "budget_constraints": BudgetConstraints(min_cost="500", max_cost_without_approval="5000"),
        "product": ProductLever(available=True, description="the Glow serum set", value="120"),
        "requirements": Requirements(content_approval_required=True, revision_rounds=2),
    }
    fields.update(overrides)
    return Campaign(**fields)


def make_terms(**overrides: Any) -> InfluencerTerms:
    fields: dict[str, Any] = {
        "name": "Jane Doe",
        "email": "jane@gmail.com",
        "platform": Platform.INSTAGRAM,
        "average_views": 50_000,
        "engagement_rate": Decimal("4.2"),
        "floor_rate": Decimal("1000.00"),
        "ceiling_rate": Decimal("1620.00"),
        "max_allowed_cpm": Decimal("32.40"),
    }
    fields.update(overrides)
    return InfluencerTerms(**fields)


def reading(
    intent: Intent,
    rate: str | None = None,
    *,
    currency: str | None = "USD",
    confidence: float = 0.95,
    text: str = "",
) -> ReplyReading:
    amount = None if rate is None else Decimal(rate)
    return ReplyReading(
        intent=intent,
        proposed_rate=amount,
        currency=currency if amount is not None else None,
        confidence=confidence,
        new_text=text or f"reply ({intent.value} {rate or ''})",
    )


def opened(campaign: Campaign | None = None, terms: InfluencerTerms | None = None) -> Outcome:
    return open_negotiation(
        "thread-1", campaign or make_campaign(), terms or make_terms(), engine_config(), NOW
    )


def reply(
    negotiation: Negotiation,
    read: ReplyReading,
    campaign: Campaign | None = None,
    *,
    sender: str = JANE,
    text: str | None = None,
    day: int = 1,
    config: EngineConfig | None = None,
) -> Outcome:
    return handle_reply(
        negotiation,
        read,
        text if text is not None else read.new_text,
        sender,
        campaign or make_campaign(),
        config or engine_config(),
        NOW + timedelta(days=day),
    )
