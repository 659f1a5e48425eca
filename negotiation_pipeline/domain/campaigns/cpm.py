"""Campaign CPM tracking and per-influencer flexibility.

Rules for `CampaignCPMTracker.get_flexibility`:
- base = the campaign's target max CPM;
- budget premium: while the running average of agreed CPMs is below the target max and some
  influencers remain, the savings so far are spread over the remaining influencers:
  (target_max − average) × agreements / remaining;
- engagement premium (percent units, strict thresholds): above 5 → +15 % of target max,
  above 3 → +8 %, otherwise none;
- hard cap: 120 % of target max.
The reason string explains each part; it is written to the audit trail.

The `cpm_flexibility` rows also price every deliverable scenario: its expected views (valuation.py)
at the floor CPM (opening, raised to the minimum cost) and at the max allowed CPM (ceiling), so a
smaller package is worth less and the ceiling bounds the offer for the package being offered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from negotiation_pipeline.domain import record_codec
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.domain.money import (
    MoneyError,
    format_usd,
    parse_decimal,
    quantize_cents,
    rate_for_cpm,
)
from negotiation_pipeline.domain.negotiation.pricing import SCENARIOS, ScenarioPrice, scenario_text
from negotiation_pipeline.domain.negotiation.valuation import PackageValuation, package_views

HIGH_ENGAGEMENT_PCT = Decimal(5)
MODERATE_ENGAGEMENT_PCT = Decimal(3)
HIGH_ENGAGEMENT_PREMIUM = Decimal("0.15")
MODERATE_ENGAGEMENT_PREMIUM = Decimal("0.08")
HARD_CAP_FACTOR = Decimal("1.20")


@dataclass(frozen=True)
class CPMFlexibility:
    """`target_cpm` is the campaign's target max CPM; `max_allowed_cpm` (cents) is the most this
    influencer may be paid per 1,000 views; `reason` explains how it was reached."""

    target_cpm: Decimal
    max_allowed_cpm: Decimal
    reason: str


@dataclass(frozen=True)
class _Agreement:
    cpm: Decimal
    engagement_rate: Decimal | None


def _decimal(value: object, what: str) -> Decimal:
    """Decimal from str/int/Decimal; floats are rejected (money must not pass through float)."""
    try:
        return parse_decimal(value)
    except MoneyError as exc:
        raise MoneyError(f"{what}: {exc}") from exc


def _optional_decimal(value: object, what: str) -> Decimal | None:
    return None if value is None else _decimal(value, what)


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


class CampaignCPMTracker:
    """Running CPM of one campaign's agreements, and the flexibility it leaves for the rest."""

    def __init__(
        self,
        campaign_id: str,
        target_min_cpm: Decimal,
        target_max_cpm: Decimal,
        total_influencers: int,
    ) -> None:
        self.campaign_id = campaign_id
        self.target_min_cpm = _decimal(target_min_cpm, "target_min_cpm")
        self.target_max_cpm = _decimal(target_max_cpm, "target_max_cpm")
        if self.target_min_cpm <= 0 or self.target_max_cpm <= 0:
            raise ValueError("target CPMs must be positive")
        if self.target_min_cpm > self.target_max_cpm:
            raise ValueError(
                f"target_min_cpm {self.target_min_cpm} is above target_max_cpm "
                f"{self.target_max_cpm}"
            )
        if isinstance(total_influencers, bool) or not isinstance(total_influencers, int):
            raise TypeError("total_influencers must be an int")
        if total_influencers < 0:
            raise ValueError("total_influencers must not be negative")
        self.total_influencers = total_influencers
        self._agreements: list[_Agreement] = []

    # --- agreements ----------------------------------------------------------------------------
    def record_agreement(self, cpm: Decimal, engagement_rate: Decimal | None = None) -> None:
        agreed = _decimal(cpm, "agreed cpm")
        if agreed <= 0:
            raise ValueError(f"agreed cpm must be positive, got {agreed}")
        self._agreements.append(
            _Agreement(agreed, _optional_decimal(engagement_rate, "engagement_rate"))
        )

    @property
    def agreement_count(self) -> int:
        return len(self._agreements)

    @property
    def agreements(self) -> list[tuple[Decimal, Decimal | None]]:
        return [(a.cpm, a.engagement_rate) for a in self._agreements]

    @property
    def running_average_cpm(self) -> Decimal | None:
        """Exact mean of the agreed CPMs (not rounded), or None before the first agreement."""
        if not self._agreements:
            return None
        return sum((a.cpm for a in self._agreements), Decimal(0)) / len(self._agreements)

    @property
    def remaining_influencers(self) -> int:
        return max(self.total_influencers - len(self._agreements), 0)

    # --- flexibility ---------------------------------------------------------------------------
    def _budget_premium(self) -> tuple[Decimal, str | None]:
        average = self.running_average_cpm
        remaining = self.remaining_influencers
        if average is None:
            return Decimal(0), None
        if average >= self.target_max_cpm:
            return Decimal(0), (
                f"running average {format_usd(average)} is not below target max: no budget savings"
            )
        if remaining == 0:
            return Decimal(0), "no influencers remain: no budget savings to spread"
        premium = (self.target_max_cpm - average) * len(self._agreements) / remaining
        return premium, (
            f"budget savings: +{format_usd(premium)} (running average {format_usd(average)} "
            f"over {len(self._agreements)} agreement(s), spread over {remaining} remaining)"
        )

    def _engagement_premium(self, engagement_rate: Decimal | None) -> tuple[Decimal, str]:
        if engagement_rate is None:
            return Decimal(0), "no engagement data: no premium"
        if engagement_rate > HIGH_ENGAGEMENT_PCT:
            premium = self.target_max_cpm * HIGH_ENGAGEMENT_PREMIUM
            return premium, (
                f"high engagement ({_pct(engagement_rate)} > 5%): +15% of target max "
                f"(+{format_usd(premium)})"
            )
        if engagement_rate > MODERATE_ENGAGEMENT_PCT:
            premium = self.target_max_cpm * MODERATE_ENGAGEMENT_PREMIUM
            return premium, (
                f"moderate engagement ({_pct(engagement_rate)} > 3%): +8% of target max "
                f"(+{format_usd(premium)})"
            )
        return Decimal(0), f"low engagement ({_pct(engagement_rate)}): no premium"

    def get_flexibility(self, engagement_rate: Decimal | None = None) -> CPMFlexibility:
        rate = _optional_decimal(engagement_rate, "engagement_rate")
        parts = [f"base: target max CPM {format_usd(self.target_max_cpm)}"]
        budget, budget_text = self._budget_premium()
        if budget_text:
            parts.append(budget_text)
        engagement, engagement_text = self._engagement_premium(rate)
        parts.append(engagement_text)

        cap = self.target_max_cpm * HARD_CAP_FACTOR
        total = self.target_max_cpm + budget + engagement
        if total > cap:
            parts.append(f"capped at 120% of target max ({format_usd(cap)})")
            total = cap
        max_allowed = quantize_cents(total)
        parts.append(f"max allowed: {format_usd(max_allowed)} CPM")
        return CPMFlexibility(self.target_max_cpm, max_allowed, "; ".join(parts))

    # --- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready and lossless: every Decimal is written as its exact string."""
        return record_codec.to_dict(CampaignCPMTrackerData.of(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CampaignCPMTracker:
        return record_codec.from_dict(CampaignCPMTrackerData, data).tracker()

    def __repr__(self) -> str:
        return (
            f"CampaignCPMTracker({self.campaign_id!r}, {self.target_min_cpm}, "
            f"{self.target_max_cpm}, total={self.total_influencers}, "
            f"agreements={len(self._agreements)})"
        )


@dataclass(frozen=True)
class CampaignCPMTrackerData:
    """A tracker as stored: the campaign's targets and size, and the agreements so far. Reading
    one back records each agreement again, so the tracker's own checks apply to stored data."""

    campaign_id: str
    target_min_cpm: Decimal
    target_max_cpm: Decimal
    total_influencers: int
    agreements: tuple[_Agreement, ...] = ()

    @classmethod
    def of(cls, tracker: CampaignCPMTracker) -> CampaignCPMTrackerData:
        return cls(
            tracker.campaign_id,
            tracker.target_min_cpm,
            tracker.target_max_cpm,
            tracker.total_influencers,
            tuple(tracker._agreements),
        )

    def tracker(self) -> CampaignCPMTracker:
        tracker = CampaignCPMTracker(
            self.campaign_id, self.target_min_cpm, self.target_max_cpm, self.total_influencers
        )
        for agreement in self.agreements:
            tracker.record_agreement(agreement.cpm, agreement.engagement_rate)
        return tracker


# --- the cpm_flexibility table -----------------------------------------------------------------
@dataclass(frozen=True)
class FlexibilityRow:
    """One row of the `cpm_flexibility` table. Money and CPM columns are Decimal (cents).
    `opening_rate` / `ceiling_rate` are scenario 1's (what we open with); the scenario columns
    are None for a scenario the campaign does not define (or a row built before they existed)."""

    name: str
    email: str
    platform: Platform
    average_views: int
    engagement_rate: Decimal | None
    floor_cpm: Decimal
    max_allowed_cpm: Decimal
    opening_rate: Decimal
    ceiling_rate: Decimal
    reason: str
    manager_emails: tuple[str, ...] = ()  # who else may answer for the influencer
    scenario_1_expected_views: int | None = None
    scenario_1_opening_rate: Decimal | None = None
    scenario_1_ceiling_rate: Decimal | None = None
    scenario_2_expected_views: int | None = None
    scenario_2_opening_rate: Decimal | None = None
    scenario_2_ceiling_rate: Decimal | None = None
    scenario_3_expected_views: int | None = None
    scenario_3_opening_rate: Decimal | None = None
    scenario_3_ceiling_rate: Decimal | None = None

    def as_record(self) -> dict[str, Any]:
        """Plain dict for pandas/JSON; platform as its string value, Decimals kept."""
        record = {name: getattr(self, name) for name in FLEXIBILITY_COLUMNS}
        record["platform"] = self.platform.value
        record["manager_emails"] = "; ".join(self.manager_emails)
        return record

    def scenario_prices(self) -> tuple[ScenarioPrice, ...]:
        """The scenarios this row prices (all three columns set), in scenario order."""
        prices = []
        for number in SCENARIOS:
            views = getattr(self, f"scenario_{number}_expected_views")
            opening = getattr(self, f"scenario_{number}_opening_rate")
            ceiling = getattr(self, f"scenario_{number}_ceiling_rate")
            if views is not None and opening is not None and ceiling is not None:
                prices.append(ScenarioPrice(number, int(views), opening, ceiling))
        return tuple(prices)


FLEXIBILITY_COLUMNS: tuple[str, ...] = tuple(FlexibilityRow.__dataclass_fields__)
SCENARIO_COLUMNS: tuple[str, ...] = tuple(
    c for c in FLEXIBILITY_COLUMNS if c.startswith("scenario_")
)


def _scenario_columns(
    campaign: Campaign,
    person: InfluencerProfile,
    valuation: PackageValuation,
    floor_cpm: Decimal,
    max_allowed_cpm: Decimal,
) -> tuple[dict[str, Any], list[str]]:
    """Per-scenario columns and one reason part per scenario (how its views were reached)."""
    columns: dict[str, Any] = {}
    notes = []
    min_cost = campaign.budget_constraints.min_cost
    overrides = dict(person.view_overrides)
    for number in SCENARIOS:
        text = scenario_text(campaign, number)
        if not text:
            continue
        views = package_views(text, person.average_views, valuation, overrides)
        if views.total <= 0:
            notes.append(f"scenario {number}: no expected views ({views.explain()})")
            continue
        opening = rate_for_cpm(views.total, floor_cpm)
        if min_cost is not None and opening < min_cost:
            opening = quantize_cents(min_cost)
        columns[f"scenario_{number}_expected_views"] = views.total
        columns[f"scenario_{number}_opening_rate"] = opening
        columns[f"scenario_{number}_ceiling_rate"] = rate_for_cpm(views.total, max_allowed_cpm)
        unknown = (
            f" (not recognised: {', '.join(views.unrecognised)})" if views.unrecognised else ""
        )
        notes.append(f"scenario {number}: {views.explain()}{unknown}")
    return columns, notes


def build_flexibility_rows(
    campaign: Campaign,
    influencers: Iterable[InfluencerProfile],
    tracker: CampaignCPMTracker,
    valuation: PackageValuation,
) -> list[FlexibilityRow]:
    """Per-influencer floor, ceiling and opening offer, for every scenario.

    opening_rate = scenario 1's expected views at the campaign's min CPM, raised to the
    campaign's minimum cost per influencer when below it; ceiling_rate = those views at the
    tracker's max allowed CPM. When the minimum cost is above that ceiling, the ceiling is raised
    to the minimum cost (the only offer the campaign allows) and the reason says so. Scenarios 2
    and 3 get the same columns from their own expected views (never raised: a smaller package
    the minimum cost prices above its ceiling is simply not offered).
    """
    floor_cpm = campaign.cpm_range.min_cpm
    min_cost = campaign.budget_constraints.min_cost
    # Flexibility depends only on the engagement rate: compute once per distinct rate.
    flex_by_engagement: dict[Decimal | None, CPMFlexibility] = {}
    rows: list[FlexibilityRow] = []
    for person in influencers:
        flex = flex_by_engagement.get(person.engagement_rate)
        if flex is None:
            flex = tracker.get_flexibility(person.engagement_rate)
            flex_by_engagement[person.engagement_rate] = flex
        columns, notes = _scenario_columns(
            campaign, person, valuation, floor_cpm, flex.max_allowed_cpm
        )
        first_views = columns.get("scenario_1_expected_views", person.average_views)
        reason = "; ".join([flex.reason, *notes])
        opening = rate_for_cpm(first_views, floor_cpm)
        if min_cost is not None and opening < min_cost:
            opening = quantize_cents(min_cost)
            reason += f"; opening raised to the campaign minimum cost {format_usd(opening)}"
        ceiling = rate_for_cpm(first_views, flex.max_allowed_cpm)
        if ceiling < opening:
            ceiling = opening
            reason += "; ceiling raised to the opening rate (minimum cost is above the CPM cap)"
        if "scenario_1_expected_views" in columns:
            columns["scenario_1_opening_rate"] = opening
            columns["scenario_1_ceiling_rate"] = ceiling
        rows.append(
            FlexibilityRow(
                name=person.name,
                email=person.email,
                platform=person.platform,
                average_views=person.average_views,
                engagement_rate=person.engagement_rate,
                floor_cpm=floor_cpm,
                max_allowed_cpm=flex.max_allowed_cpm,
                opening_rate=opening,
                ceiling_rate=ceiling,
                reason=reason,
                manager_emails=person.manager_emails,
                **columns,
            )
        )
    return rows
