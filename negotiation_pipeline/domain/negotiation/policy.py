"""Negotiation policy: the editable rules behind our next price, lever and escalation.

Everything here is pure. The typed models mirror `config/negotiation_policy.yaml` and
`config/escalation_triggers.yaml`; `negotiation_pipeline.settings.engine` loads those files. How
the concession curve and the levers decide a move is in concession.py; what a package is worth
is in valuation.py and pricing.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from negotiation_pipeline.domain import record_codec
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import ApprovalMode, UsageRightsDuration
from negotiation_pipeline.domain.money import parse_decimal, quantize_cents
from negotiation_pipeline.domain.negotiation.valuation import PackageValuation
from negotiation_pipeline.domain.reading.folding import lowered_for_lookup, may_hold_any

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


# --- levers --------------------------------------------------------------------------------------
class Lever(StrEnum):
    """Non-price moves for an ask above the package's ceiling (their order is configuration)."""

    SCENARIO_2 = "scenario_2"
    SCENARIO_3 = "scenario_3"
    USAGE_RIGHTS = "usage_rights"
    PRODUCT = "product"


DEFAULT_LEVER_ORDER = (Lever.SCENARIO_2, Lever.SCENARIO_3, Lever.USAGE_RIGHTS, Lever.PRODUCT)


# --- configuration models ----------------------------------------------------------------------
class ConcessionPolicy(BaseModel):
    """The concession curve, the acceptance rule and the lever order (see concession.py)."""

    model_config = _FROZEN

    # offer(k) = floor + (ceiling − floor) · (k / max_rounds) ^ (1 / exponent)
    exponent: Ratio = Field(default=Decimal("0.5"), gt=0, le=20)
    round_to: Ratio = Field(default=Decimal(5), gt=0)
    accept_within_ceiling_on_last_round: bool = True
    lever_order: tuple[Lever, ...] = DEFAULT_LEVER_ORDER
    keep_package_within_pct: Ratio = Field(default=Decimal(10), ge=0)

    @model_validator(mode="after")
    def _levers_once_each(self) -> ConcessionPolicy:
        if len(set(self.lever_order)) != len(self.lever_order):
            raise ValueError("lever_order lists a lever twice")
        return self


class DeclinePolicy(BaseModel):
    """What we send when the influencer declines."""

    model_config = _FROZEN

    send_close: bool = True
    leave_door_open: bool = True


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
    cleaned = _cleaned_keywords(keywords)
    if not cleaned:
        return None
    return re.compile(whole_words(cleaned, keyword_alternation(cleaned)), re.IGNORECASE)


def _cleaned_keywords(keywords: tuple[str, ...]) -> list[str]:
    return sorted({k.strip() for k in keywords if k.strip()}, key=len, reverse=True)


def keyword_alternation(keywords: list[str]) -> str:
    """The keywords (stripped, longest first) as one alternation, whitespace-tolerant."""
    parts = [r"\s+".join(re.escape(word) for word in k.split()) for k in keywords]
    return "(?:" + "|".join(parts) + ")"


def whole_words(keywords: list[str], alternation: str) -> str:
    """`alternation` (of `keywords`) as whole words. The lookahead on the keywords' first
    characters lets the regex engine skip every other position at once, instead of trying each
    alternative there."""
    firsts = "".join(sorted({re.escape(k[0]) for k in keywords}))
    return rf"(?<!\w)(?=[{firsts}]){alternation}(?!\w)"


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
    decline: DeclinePolicy = DeclinePolicy()
    package_value: PackageValuation
    min_email_length: int = Field(default=80, ge=1)
    question_topics: dict[QuestionTopic, tuple[str, ...]] = Field(default_factory=dict)
    # For a campaign whose form leaves "Approval Mode" empty.
    approval_mode: ApprovalMode = ApprovalMode.AUTONOMOUS

    # Compiled on first use and kept on the instance: read on every reply, and a cached
    # property is a plain attribute read where a pydantic private attribute is a slow lookup.
    @cached_property
    def _topics_pattern(self) -> re.Pattern[str] | None:
        # One pass over the text: one named group per topic (a keyword listed under two topics
        # counts for the first).
        groups = []
        every: list[str] = []
        for topic, words in self.question_topics.items():
            cleaned = _cleaned_keywords(words)
            if cleaned:
                groups.append(f"(?P<{topic.value}>{keyword_alternation(cleaned)})")
                every += cleaned
        if not groups:
            return None
        return re.compile(whole_words(every, "(?:" + "|".join(groups) + ")"), re.IGNORECASE)

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

    @cached_property  # read on every reply: see NegotiationPolicy._topics_pattern
    def _patterns(self) -> dict[TriggerCategory, re.Pattern[str]]:
        patterns = {}
        for category in TriggerCategory:
            trigger: KeywordTrigger = getattr(self, category.value)
            pattern = keyword_pattern(trigger.keywords) if trigger.enabled else None
            if pattern is not None:
                patterns[category] = pattern
        return patterns

    @cached_property
    def _required_words(self) -> dict[TriggerCategory, tuple[str, ...] | None]:
        """Per category, one word of each keyword (its longest, lowercased): a match holds it.
        None when a keyword is not plain ASCII (case-insensitive matching then goes beyond
        what `lower()` shows)."""
        required: dict[TriggerCategory, tuple[str, ...] | None] = {}
        for category in self._patterns:
            trigger: KeywordTrigger = getattr(self, category.value)
            keywords = _cleaned_keywords(trigger.keywords)
            if all(keyword.isascii() for keyword in keywords):
                words = (max(keyword.lower().split(), key=len) for keyword in keywords)
                required[category] = tuple(dict.fromkeys(words))
            else:
                required[category] = None
        return required

    def keyword_hits(self, text: str) -> tuple[TriggerHit, ...]:
        """Every enabled category whose keywords appear in `text` (first match per category)."""
        hits = []
        lowered = lowered_for_lookup(text)
        for category, pattern in self._patterns.items():
            words = self._required_words[category]
            if words is not None and not may_hold_any(lowered, words):
                continue  # no keyword of this category can match
            match = pattern.search(text)
            if match:
                hits.append(TriggerHit(category, match.group(0)))
        return tuple(hits)


# --- levers state ---------------------------------------------------------------------------------
def hard_cap(ceiling_rate: Decimal, policy: NegotiationPolicy) -> Decimal | None:
    """The ask above which a human decides; None when neither cap is configured."""
    caps = []
    if policy.hard_cap.ceiling_multiple is not None:
        caps.append(quantize_cents(ceiling_rate * policy.hard_cap.ceiling_multiple))
    if policy.hard_cap.absolute is not None:
        caps.append(policy.hard_cap.absolute)
    return min(caps) if caps else None


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
        return record_codec.to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LeverState:
        return record_codec.from_dict(cls, data)


def lever_available(lever: Lever, state: LeverState, campaign: Campaign) -> bool:
    """Whether the campaign offers the lever and it still lowers what we ask for (a scenario
    lever never goes back to a richer scenario than the one on the table)."""
    if lever in state.used:
        return False
    if lever is Lever.SCENARIO_2:
        return bool(campaign.scenarios.scenario_2) and state.scenario < 2
    if lever is Lever.SCENARIO_3:
        return bool(campaign.scenarios.scenario_3) and state.scenario < 3
    if lever is Lever.USAGE_RIGHTS:
        return campaign.usage_rights.minimum.rank < state.usage(campaign).rank
    return campaign.product.available and not state.product_offered


def next_lever(
    state: LeverState, campaign: Campaign, order: tuple[Lever, ...] = DEFAULT_LEVER_ORDER
) -> Lever | None:
    """The first lever in `order` that the campaign offers and we have not used yet."""
    for lever in order:
        if lever_available(lever, state, campaign):
            return lever
    return None


def apply_lever(state: LeverState, lever: Lever, campaign: Campaign) -> LeverState:
    # Built field by field rather than with dataclasses.replace: every plan tries each lever.
    scenario, usage, product = state.scenario, state.usage_rights, state.product_offered
    if lever is Lever.SCENARIO_2:
        scenario = 2
    elif lever is Lever.SCENARIO_3:
        scenario = 3
    elif lever is Lever.USAGE_RIGHTS:
        usage = campaign.usage_rights.minimum
    else:
        product = True
    return LeverState(scenario, usage, product, (*state.used, lever))
