"""Negotiation policy: the editable rules that decide our next price, lever and escalation.

Everything here is pure. The typed models mirror `config/negotiation_policy.yaml` and
`config/escalation_triggers.yaml`; `negotiation_pipeline.engine_config` loads those files.

Price invariants (property-tested in tests/domain/test_policy_properties.py):
- an offer is never below the effective floor (floor rate raised to the campaign's min_cost),
- never above the effective ceiling (ceiling rate, capped by max_cost_without_approval),
- never above the influencer's ask, and offers only ever move up (monotone) across rounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from negotiation_pipeline.domain.campaign import Campaign
from negotiation_pipeline.domain.money import parse_decimal, quantize_cents
from negotiation_pipeline.domain.types import UsageRightsDuration

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _ratio(value: Any) -> Decimal:
    """Config ratios (0.5, 5) may be written unquoted in YAML; their shortest repr is exact."""
    if isinstance(value, float):
        value = repr(value)
    return parse_decimal(value)


def _optional_money(value: Any) -> Decimal | None:
    return None if value is None else parse_decimal(value)


Ratio = Annotated[Decimal, BeforeValidator(_ratio)]
OptionalRatio = Annotated[
    Decimal | None, BeforeValidator(lambda v: None if v is None else _ratio(v))
]
OptionalMoney = Annotated[Decimal | None, BeforeValidator(_optional_money)]


# --- configuration models ----------------------------------------------------------------------
class ConcessionPolicy(BaseModel):
    """How we move from our last offer toward min(ceiling, their ask)."""

    model_config = _FROZEN

    accept_within_pct: Ratio = Field(default=Decimal(5), ge=0, le=100)
    step_fraction: Ratio = Field(default=Decimal("0.5"), gt=0, lt=1)
    round_to: Ratio = Field(default=Decimal(5), gt=0)
    accept_within_ceiling_on_last_round: bool = True


class HardCap(BaseModel):
    """Asks above either cap go to a human instead of the lever sequence."""

    model_config = _FROZEN

    ceiling_multiple: OptionalRatio = Field(default=Decimal(2), gt=1)
    absolute: OptionalMoney = Field(default=None, gt=0)


class FollowUpPolicy(BaseModel):
    model_config = _FROZEN

    first_after_days: int = Field(default=3, ge=1)
    stale_after_days: int = Field(default=4, ge=1)
    # An out-of-office notice naming its return date holds the thread until this many business
    # days after that date; a date further ahead than max_absence_days is not believed.
    after_return_grace_business_days: int = Field(default=1, ge=0, le=20)
    max_absence_days: int = Field(default=120, ge=1, le=366)


class DeliveryPolicy(BaseModel):
    """How the outbox retries an email the mail server did not take for now (a 4xx answer, a
    lost connection): the first retry is the next run, then it waits `retry_after_minutes`,
    doubling each time up to `max_retry_after_minutes`; after `max_attempts` failed attempts the
    email is given up (`failed`) and its thread escalates."""

    model_config = _FROZEN

    max_attempts: int = Field(default=8, ge=1)
    retry_after_minutes: int = Field(default=5, ge=1)
    max_retry_after_minutes: int = Field(default=240, ge=1)


class SenderIdentity(BaseModel):
    """Who signs our emails."""

    model_config = _FROZEN

    name: str = Field(min_length=1)
    title: str = Field(min_length=1)
    company: str = Field(min_length=1)


class QuestionTopic(StrEnum):
    """Topics we can answer from campaign facts (each has a block in question_answer.txt.j2)."""

    USAGE_RIGHTS = "usage_rights"
    TIMELINE = "timeline"
    PAYMENT = "payment"
    DELIVERABLES = "deliverables"
    PRODUCT = "product"
    EXCLUSIVITY = "exclusivity"
    APPROVAL = "approval"


def keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """One case-insensitive regex matching any keyword as whole words (spaces match any run of
    whitespace). Lookarounds instead of \\b so keywords may start or end with punctuation."""
    cleaned = sorted({k.strip() for k in keywords if k.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    parts = [r"\s+".join(re.escape(word) for word in k.split()) for k in cleaned]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


class NegotiationPolicy(BaseModel):
    model_config = _FROZEN

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    max_rounds: int = Field(default=5, ge=1)
    confidence_threshold: float = Field(default=0.7, ge=0, le=1)
    concession: ConcessionPolicy = ConcessionPolicy()
    hard_cap: HardCap = HardCap()
    follow_up: FollowUpPolicy = FollowUpPolicy()
    delivery: DeliveryPolicy = DeliveryPolicy()
    payment_terms: str = Field(min_length=1)
    sender: SenderIdentity
    min_email_length: int = Field(default=80, ge=1)
    question_topics: dict[QuestionTopic, tuple[str, ...]] = Field(default_factory=dict)

    _topics_pattern: re.Pattern[str] | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        # One pass over the text: one named group per topic (a keyword listed under two topics
        # counts for the first).
        groups = []
        for topic, words in self.question_topics.items():
            pattern = keyword_pattern(words)
            if pattern is not None:
                inner = pattern.pattern.removeprefix(r"(?<!\w)").removesuffix(r"(?!\w)")
                groups.append(f"(?P<{topic.value}>{inner})")
        if groups:
            self._topics_pattern = re.compile(
                r"(?<!\w)(?:" + "|".join(groups) + r")(?!\w)", re.IGNORECASE
            )

    def topics_in(self, text: str) -> tuple[QuestionTopic, ...]:
        """Question topics mentioned in `text`, in enum order."""
        if self._topics_pattern is None:
            return ()
        found = {m.lastgroup for m in self._topics_pattern.finditer(text)}
        return tuple(t for t in QuestionTopic if t.value in found)


class Toggle(BaseModel):
    model_config = _FROZEN

    enabled: bool = True


class KeywordTrigger(BaseModel):
    model_config = _FROZEN

    enabled: bool = True
    keywords: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _keywords_not_blank(self) -> KeywordTrigger:
        if any(not k.strip() for k in self.keywords):
            raise ValueError("keywords must not be blank")
        return self


class TriggerCategory(StrEnum):
    LEGAL = "legal_language"
    HOSTILE = "hostile_tone"
    UNUSUAL_DELIVERABLES = "unusual_deliverables"


@dataclass(frozen=True)
class TriggerHit:
    category: TriggerCategory
    matched: str  # the text that matched, as written by the sender


class EscalationTriggers(BaseModel):
    """Editable escalation rules; keyword lists are matched on word boundaries."""

    model_config = _FROZEN

    ambiguous_intent: Toggle = Toggle()
    currency_mismatch: Toggle = Toggle()
    legal_language: KeywordTrigger = KeywordTrigger()
    hostile_tone: KeywordTrigger = KeywordTrigger()
    unusual_deliverables: KeywordTrigger = KeywordTrigger()

    _patterns: dict[TriggerCategory, re.Pattern[str]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        for category in TriggerCategory:
            trigger: KeywordTrigger = getattr(self, category.value)
            pattern = keyword_pattern(trigger.keywords) if trigger.enabled else None
            if pattern is not None:
                self._patterns[category] = pattern

    def keyword_hits(self, text: str) -> tuple[TriggerHit, ...]:
        """Every enabled category whose keywords appear in `text` (first match per category)."""
        hits = []
        for category, pattern in self._patterns.items():
            match = pattern.search(text)
            if match:
                hits.append(TriggerHit(category, match.group(0)))
        return tuple(hits)


# --- price ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PriceBounds:
    """Effective limits for one influencer on one campaign."""

    floor: Decimal  # floor rate, raised to the campaign's min_cost
    ceiling: Decimal  # ceiling rate, capped at max_cost_without_approval

    @property
    def is_feasible(self) -> bool:
        return self.floor <= self.ceiling


def price_bounds(floor_rate: Decimal, ceiling_rate: Decimal, campaign: Campaign) -> PriceBounds:
    constraints = campaign.budget_constraints
    floor = floor_rate if constraints.min_cost is None else max(floor_rate, constraints.min_cost)
    ceiling = ceiling_rate
    if constraints.max_cost_without_approval is not None:
        ceiling = min(ceiling, constraints.max_cost_without_approval)
    return PriceBounds(quantize_cents(floor), quantize_cents(ceiling))


def hard_cap(
    bounds: PriceBounds, ceiling_rate: Decimal, policy: NegotiationPolicy
) -> Decimal | None:
    """The ask above which a human decides; None when neither cap is configured."""
    caps = []
    if policy.hard_cap.ceiling_multiple is not None:
        caps.append(quantize_cents(ceiling_rate * policy.hard_cap.ceiling_multiple))
    if policy.hard_cap.absolute is not None:
        caps.append(policy.hard_cap.absolute)
    return min(caps) if caps else None


class PriceMove(StrEnum):
    ACCEPT = "accept"  # agree at `rate` (their ask)
    COUNTER = "counter"  # offer `rate`
    ABOVE_CEILING = "above_ceiling"  # their ask is above our ceiling: lever or exit, at `rate`


@dataclass(frozen=True)
class PriceDecision:
    move: PriceMove
    rate: Decimal
    reason: str


def concession_step(last_offer: Decimal, target: Decimal, policy: ConcessionPolicy) -> Decimal:
    """Move `step_fraction` of the way from our last offer to `target`, rounded to `round_to`
    (at least one `round_to` step, so a small gap still moves), never past the target."""
    if target <= last_offer:
        return last_offer
    raw = last_offer + (target - last_offer) * policy.step_fraction
    units = (raw / policy.round_to).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    rounded = quantize_cents(units * policy.round_to)
    if rounded <= last_offer:  # a small gap must not round back to a repeat of our offer
        rounded = last_offer + policy.round_to
    return min(rounded, target)


def decide_price(
    *,
    their_ask: Decimal | None,
    our_last_offer: Decimal,
    bounds: PriceBounds,
    policy: ConcessionPolicy,
    last_round: bool,
) -> PriceDecision:
    """Accept, counter, or report the ask is above the ceiling (with the rate to offer then)."""
    if their_ask is None:
        rate = concession_step(our_last_offer, bounds.ceiling, policy)
        return PriceDecision(PriceMove.COUNTER, rate, "no amount named: step toward the ceiling")
    ask = quantize_cents(their_ask)
    if ask <= our_last_offer:
        return PriceDecision(PriceMove.ACCEPT, ask, "their ask is at or below our last offer")
    if ask > bounds.ceiling:
        rate = concession_step(our_last_offer, bounds.ceiling, policy)
        return PriceDecision(PriceMove.ABOVE_CEILING, rate, "their ask is above our ceiling")
    tolerance = our_last_offer * policy.accept_within_pct / 100
    if ask - our_last_offer <= tolerance:
        return PriceDecision(
            PriceMove.ACCEPT, ask, f"their ask is within {policy.accept_within_pct}% of our offer"
        )
    if last_round and policy.accept_within_ceiling_on_last_round:
        return PriceDecision(PriceMove.ACCEPT, ask, "last round and their ask is within ceiling")
    rate = concession_step(our_last_offer, ask, policy)
    if rate >= ask:
        return PriceDecision(PriceMove.ACCEPT, ask, "a concession step reaches their ask")
    return PriceDecision(PriceMove.COUNTER, rate, "concede part of the gap toward their ask")


# --- levers --------------------------------------------------------------------------------------
class Lever(StrEnum):
    """Non-price moves for an ask above the ceiling, in the order they are tried."""

    SCENARIO_2 = "scenario_2"
    SCENARIO_3 = "scenario_3"
    USAGE_RIGHTS = "usage_rights"
    PRODUCT = "product"


@dataclass(frozen=True)
class LeverState:
    """What we have already traded; saved on the Negotiation so each lever is used once."""

    scenario: int = 1
    usage_rights: UsageRightsDuration | None = None  # None: the campaign's target
    product_offered: bool = False
    used: tuple[Lever, ...] = ()

    def usage(self, campaign: Campaign) -> UsageRightsDuration:
        return self.usage_rights or campaign.usage_rights.target

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "usage_rights": None if self.usage_rights is None else self.usage_rights.value,
            "product_offered": self.product_offered,
            "used": [lever.value for lever in self.used],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LeverState:
        usage = data.get("usage_rights")
        return cls(
            scenario=int(data["scenario"]),
            usage_rights=None if usage is None else UsageRightsDuration(usage),
            product_offered=bool(data["product_offered"]),
            used=tuple(Lever(v) for v in data["used"]),
        )


def _lever_available(lever: Lever, campaign: Campaign) -> bool:
    if lever is Lever.SCENARIO_2:
        return bool(campaign.scenarios.scenario_2)
    if lever is Lever.SCENARIO_3:
        return bool(campaign.scenarios.scenario_3)
    if lever is Lever.USAGE_RIGHTS:
        return campaign.usage_rights.minimum.rank < campaign.usage_rights.target.rank
    return campaign.product.available


def next_lever(state: LeverState, campaign: Campaign) -> Lever | None:
    """The first lever in order that the campaign offers and we have not used yet."""
    for lever in Lever:
        if lever not in state.used and _lever_available(lever, campaign):
            return lever
    return None


def apply_lever(state: LeverState, lever: Lever, campaign: Campaign) -> LeverState:
    used = (*state.used, lever)
    if lever is Lever.SCENARIO_2:
        return replace(state, scenario=2, used=used)
    if lever is Lever.SCENARIO_3:
        return replace(state, scenario=3, used=used)
    if lever is Lever.USAGE_RIGHTS:
        return replace(state, usage_rights=campaign.usage_rights.minimum, used=used)
    return replace(state, product_offered=True, used=used)
