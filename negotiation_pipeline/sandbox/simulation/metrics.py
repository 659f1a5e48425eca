"""What the simulator measures per opponent type, from our emails and the hidden reservations.

Checked on every offer we sent (and the agreement), independently of the engine's own bounds:
- ceiling breach: an amount above the package's ceiling (its scenario's ceiling rate × usage
  factor, capped by the campaign's max cost without approval);
- non-monotone offer: for the same value, less money than before; for less value, a price per
  value-weighted view lower than before by more than one rounding step; more value than before;
- more money for less: less value (scope or usage) at a higher price per value-weighted view.
Closeable: the reservation is at or below our ceiling for some package on our lever path.
Surplus captured on a closeable deal: (ceiling − price) / (ceiling − reservation), both for the
agreed package (1 = we paid their reservation, 0 = we paid our ceiling).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.negotiation.engine import InfluencerTerms
from negotiation_pipeline.domain.negotiation.policy import (
    LeverState,
    NegotiationPolicy,
    apply_lever,
    lever_available,
)

TABLE_COLUMNS = (
    "negotiations",
    "closeable",
    "agreed",
    "deal_rate_closeable",
    "surplus_captured",
    "ceiling_breaches",
    "non_monotone_offers",
    "more_money_for_less",
    "mean_rounds",
)


@dataclass(frozen=True)
class OfferPoint:
    amount: Decimal
    value_views: Decimal  # expected views × the usage term's configured value (exact)
    ceiling: Decimal
    their_ask: Decimal | None = None  # the ask this offer answered
    agreement: bool = False


@dataclass(frozen=True)
class PackageLimit:
    value_views: Decimal  # expected views × the usage term's configured value (exact)
    ceiling: Decimal


def package_limit(
    terms: InfluencerTerms, campaign: Campaign, levers: LeverState, policy: NegotiationPolicy
) -> PackageLimit:
    """The package's value weight and ceiling, straight from the table's scenario columns."""
    price = next(p for p in terms.scenarios if p.scenario == levers.scenario)
    usage, target = levers.usage(campaign), campaign.usage_rights.target
    worth = policy.package_value.usage_rights_value
    ceiling = price.ceiling_rate * worth[usage] / worth[target]
    limit = campaign.budget_constraints.max_cost_without_approval
    if limit is not None:
        ceiling = min(ceiling, limit)
    return PackageLimit(price.expected_views * worth[usage], ceiling)


def lever_path(campaign: Campaign, policy: NegotiationPolicy) -> list[LeverState]:
    """Every package our lever order can put on the table, starting with scenario 1."""
    states = [LeverState()]
    for lever in policy.concession.lever_order:
        if lever_available(lever, states[-1], campaign):
            states.append(apply_lever(states[-1], lever, campaign))
    return states


@dataclass(frozen=True)
class TraceCheck:
    ceiling_breaches: int = 0
    non_monotone: int = 0
    more_for_less: int = 0
    above_their_ask: int = 0


def _kept(prev: OfferPoint, cur: OfferPoint) -> Fraction:
    """`prev`'s amount at exactly the same price per value-weighted view for `cur`'s package."""
    return Fraction(prev.amount) * Fraction(cur.value_views) / Fraction(prev.value_views)


def check_trace(points: list[OfferPoint], step: Decimal) -> TraceCheck:
    breaches = sum(p.amount > p.ceiling for p in points)
    above_ask = sum(
        p.their_ask is not None and not p.agreement and p.amount > p.their_ask for p in points
    )
    non_monotone = more_for_less = 0
    for prev, cur in pairwise(points):
        if cur.value_views < prev.value_views:
            more_for_less += Fraction(cur.amount) > _kept(prev, cur)
    # Monotone concessions concern our offers; agreeing at an ask below our offer is fine.
    offers = [p for p in points if not p.agreement]
    for prev, cur in pairwise(offers):
        if cur.value_views == prev.value_views:
            non_monotone += cur.amount < prev.amount
        elif cur.value_views > prev.value_views:
            non_monotone += 1
        else:
            non_monotone += _kept(prev, cur) - Fraction(cur.amount) >= Fraction(step)
    return TraceCheck(breaches, non_monotone, more_for_less, above_ask)


@dataclass
class TypeTally:
    negotiations: int = 0
    closeable: int = 0
    agreed: int = 0
    agreed_closeable: int = 0
    surplus: list[Decimal] = field(default_factory=list)
    breaches: int = 0
    non_monotone: int = 0
    more_for_less: int = 0
    above_their_ask: int = 0
    rounds: int = 0

    def add(self, other: TypeTally) -> None:
        for name in (
            "negotiations",
            "closeable",
            "agreed",
            "agreed_closeable",
            "breaches",
            "non_monotone",
            "more_for_less",
            "above_their_ask",
            "rounds",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.surplus.extend(other.surplus)

    def row(self) -> dict[str, str | int]:
        rate = Decimal(self.agreed_closeable) / self.closeable if self.closeable else None
        surplus = sum(self.surplus, Decimal(0)) / len(self.surplus) if self.surplus else None
        rounds = Decimal(self.rounds) / self.negotiations if self.negotiations else Decimal(0)
        return {
            "negotiations": self.negotiations,
            "closeable": self.closeable,
            "agreed": self.agreed,
            "deal_rate_closeable": "" if rate is None else str(rate.quantize(Decimal("0.001"))),
            "surplus_captured": "" if surplus is None else str(surplus.quantize(Decimal("0.001"))),
            "ceiling_breaches": self.breaches,
            "non_monotone_offers": self.non_monotone,
            "more_money_for_less": self.more_for_less,
            "mean_rounds": str(rounds.quantize(Decimal("0.01"))),
            "offers_above_their_ask": self.above_their_ask,
        }


def record_negotiation(
    tally: TypeTally,
    *,
    points: list[OfferPoint],
    step: Decimal,
    rounds: int,
    closeable: bool,
    agreed_surplus: Callable[[], Decimal | None] | None,
) -> None:
    """One finished negotiation. `agreed_surplus` is set when it ended in an agreement and
    returns the surplus captured (None when the agreed package leaves no room to measure)."""
    check = check_trace(points, step)
    tally.negotiations += 1
    tally.closeable += closeable
    tally.breaches += check.ceiling_breaches
    tally.non_monotone += check.non_monotone
    tally.more_for_less += check.more_for_less
    tally.above_their_ask += check.above_their_ask
    tally.rounds += rounds
    if agreed_surplus is None:
        return
    tally.agreed += 1
    if closeable:
        tally.agreed_closeable += 1
        surplus = agreed_surplus()
        if surplus is not None:
            tally.surplus.append(surplus)


def markdown_table(rows: dict[str, dict[str, str | int]]) -> str:
    """The per-opponent table (rows in the order given) as GitHub markdown."""
    header = "| opponent | " + " | ".join(TABLE_COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(TABLE_COLUMNS)
    lines = [
        f"| {name} | " + " | ".join(str(row[c]) for c in TABLE_COLUMNS) + " |"
        for name, row in rows.items()
    ]
    return "\n".join([header, rule, *lines])
