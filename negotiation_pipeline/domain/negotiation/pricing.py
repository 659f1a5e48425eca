"""Prices per package: what each deliverable scenario (with its usage-rights term) may cost.

A package is a scenario (1 = the richest), a usage-rights term and whether the product is
included. Its value is its expected views × the usage factor (1 at the campaign's target term);
its bounds are that value priced at the floor CPM (raised to the campaign's minimum cost) and at
the influencer's max allowed CPM (capped by the campaign's max cost without approval). Offers are
compared per value: `price_per_1k` is what we pay per 1,000 value-weighted views.

`ScenarioPrice` is one scenario's row data from `cpm_flexibility` (expected views, opening and
ceiling rate at the target term). Stored negotiations from before per-scenario columns existed
have none: `scenario_prices` derives them from the campaign's scenario texts, scaled so scenario 1
keeps the stored floor and ceiling.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from negotiation_pipeline.domain import record_codec
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import UsageRightsDuration
from negotiation_pipeline.domain.money import CENTS, THOUSAND, quantize_cents
from negotiation_pipeline.domain.negotiation.valuation import PackageValuation, split_items

SCENARIOS = (1, 2, 3)


@dataclass(frozen=True)
class ScenarioPrice:
    scenario: int
    expected_views: int
    opening_rate: Decimal  # at the floor CPM (raised to the minimum cost), target usage term
    ceiling_rate: Decimal  # at the max allowed CPM, target usage term

    def to_dict(self) -> dict[str, Any]:
        return record_codec.to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScenarioPrice:
        return record_codec.from_dict(cls, data)


@dataclass(frozen=True, order=True)
class Package:
    """What we ask for: a scenario, a usage-rights term, and whether the product is included."""

    scenario: int
    usage_rights: UsageRightsDuration
    product: bool = False

    def describe(self) -> str:
        extra = " + product" if self.product else ""
        return f"scenario {self.scenario}, usage {self.usage_rights.value}{extra}"


@dataclass(frozen=True)
class PackageBounds:
    package: Package
    expected_views: int
    value_views: Decimal  # expected views × usage factor (1 at the campaign's target term)
    floor: Decimal
    ceiling: Decimal
    # expected views × the usage term's configured value, exact (finite decimals): the ratio of
    # two packages' weights is exactly the ratio of their values, with no division rounding.
    value_weight: Decimal = Decimal(0)

    @property
    def is_feasible(self) -> bool:
        return self.floor <= self.ceiling

    def price_per_1k(self, price: Decimal) -> Decimal:
        """Unrounded price per 1,000 value-weighted views (compare offers exactly)."""
        return price * THOUSAND / self.value_views

    def at_fraction(self, fraction: Decimal) -> Decimal:
        """floor + (ceiling − floor) × fraction, unrounded."""
        return self.floor + (self.ceiling - self.floor) * fraction


def offered_items(campaign: Campaign, scenario: int) -> tuple[tuple[int, str], ...]:
    """The deliverables of a scenario as (quantity, item) pairs: what a price per deliverable
    in a reply is totalled over. Empty when the campaign wrote none."""
    return tuple(split_items(scenario_text(campaign, scenario) or ""))


def scenario_text(campaign: Campaign, scenario: int) -> str | None:
    """The deliverables of a scenario as the campaign wrote them; None when it has none."""
    if scenario == 1:
        return campaign.opening_package()
    return campaign.scenarios.package(scenario) or None


def scenario_prices(
    stored: tuple[ScenarioPrice, ...],
    *,
    campaign: Campaign,
    valuation: PackageValuation,
    average_views: int,
    floor_rate: Decimal,
    ceiling_rate: Decimal,
) -> dict[int, ScenarioPrice]:
    """Scenario → its prices: the stored row data, or (for records without it) prices scaled from
    scenario 1's floor and ceiling by each scenario's share of scenario 1's expected views."""
    if stored:
        return {
            price.scenario: price for price in stored if scenario_text(campaign, price.scenario)
        }
    texts = tuple(scenario_text(campaign, scenario) for scenario in SCENARIOS)
    # The amounts travel as text so the remembered prices keep their exact digits.
    derived = _derived_prices(texts, valuation, average_views, str(floor_rate), str(ceiling_rate))
    return dict(derived)


@lru_cache(maxsize=4096)
def _derived_prices(
    texts: tuple[str | None, ...],
    valuation: PackageValuation,
    average_views: int,
    floor_text: str,
    ceiling_text: str,
) -> tuple[tuple[int, ScenarioPrice], ...]:
    floor_rate, ceiling_rate = Decimal(floor_text), Decimal(ceiling_text)
    base = valuation.expected_views(texts[0] or "", average_views)
    prices = [(1, ScenarioPrice(1, average_views, floor_rate, ceiling_rate))]
    for scenario, text in zip(SCENARIOS[1:], texts[1:], strict=True):
        if not text or base <= 0:
            continue
        share = Decimal(valuation.expected_views(text, average_views)) / base
        views = int((average_views * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if views <= 0:
            continue
        price = ScenarioPrice(
            scenario,
            views,
            quantize_cents(floor_rate * share),
            quantize_cents(ceiling_rate * share),
        )
        prices.append((scenario, price))
    return tuple(prices)


def package_bounds(
    package: Package,
    price: ScenarioPrice,
    campaign: Campaign,
    valuation: PackageValuation,
) -> PackageBounds:
    """Floor and ceiling of one package (see module docstring)."""
    constraints = campaign.budget_constraints
    return _bounds(
        package,
        price,
        campaign.usage_rights.target,
        constraints.min_cost,
        constraints.max_cost_without_approval,
        valuation,
    )


# Every reply prices the same few packages of the same influencer again (the package on the
# table and each lever's). The bounds depend only on these values; inputs that are equal but
# written with other digits ("900" and "900.00") give bounds of equal value.
@lru_cache(maxsize=4096)
def _bounds(
    package: Package,
    price: ScenarioPrice,
    target_usage: UsageRightsDuration,
    min_cost: Decimal | None,
    max_cost: Decimal | None,
    valuation: PackageValuation,
) -> PackageBounds:
    factor = valuation.usage_factor(package.usage_rights, target_usage)
    floor = price.opening_rate * factor
    if min_cost is not None:
        floor = max(floor, min_cost)
    ceiling = price.ceiling_rate * factor
    if max_cost is not None:
        ceiling = min(ceiling, max_cost)
    return PackageBounds(
        package=package,
        expected_views=price.expected_views,
        value_views=Decimal(price.expected_views) * factor,
        floor=quantize_cents(floor),
        # Down to the cent: a ceiling of $709.995 must not let us offer $710.00.
        ceiling=ceiling.quantize(CENTS, rounding=ROUND_FLOOR),
        value_weight=price.expected_views * valuation.usage_rights_value[package.usage_rights],
    )


def same_price_per_view(amount: Decimal, before: PackageBounds, after: PackageBounds) -> Fraction:
    """`amount` for `before`, scaled to `after` at exactly the same price per value-weighted
    view (a Fraction, so rounding it down can never end above that price)."""
    return Fraction(amount) * Fraction(after.value_weight) / Fraction(before.value_weight)


@dataclass(frozen=True)
class PriceGrid:
    """The amounts we may state as our own offer: multiples of `step` dollars."""

    step: Decimal

    def down(self, amount: Decimal) -> Decimal:
        return quantize_cents((amount / self.step).to_integral_value(ROUND_FLOOR) * self.step)

    def down_exact(self, amount: Fraction) -> Decimal:
        """The largest grid amount at or below an exact `amount`."""
        return quantize_cents(Decimal(math.floor(amount / Fraction(self.step))) * self.step)

    def up(self, amount: Decimal) -> Decimal:
        return quantize_cents((amount / self.step).to_integral_value(ROUND_CEILING) * self.step)

    def nearest(self, amount: Decimal) -> Decimal:
        return quantize_cents((amount / self.step).to_integral_value(ROUND_HALF_UP) * self.step)

    def on_grid(self, amount: Decimal) -> bool:
        return (amount / self.step) == (amount / self.step).to_integral_value()

    def span(self, bounds: PackageBounds) -> tuple[Decimal, Decimal] | None:
        """Lowest and highest grid amounts inside the package's bounds (None: no grid amount
        fits, the range is narrower than one step)."""
        low, high = self.up(bounds.floor), self.down(bounds.ceiling)
        return (low, high) if low <= high else None
