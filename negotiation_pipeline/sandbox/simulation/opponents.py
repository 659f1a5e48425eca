"""Standard opponents from the automated-negotiation literature, as simulated creators.

Each has a hidden reservation price: the least it accepts for scenario 1 with the campaign's
target usage rights. Its price for another package scales by its own cost of that package
(`scope_cost`: a creator's effort is not our value, so some find a smaller package relatively
cheap and some relatively dear), by its own premium for shorter usage rights (`usage_cost`),
and it counts the product at `product_share` of its value.

Tactics (n = their reply number, 1 = the first):
- time-dependent (Faratin et al.): ask(n) = r + (a0 − r)·(1 − ((n − 1)/D)^(1/β)), a0 the
  opening ask, D their deadline in replies, β < 1 Boulware, β = 1 Linear, β > 1 Conceder;
  after the deadline they ask r;
- relative tit-for-tat: lower the ask (per unit of our value) by the share we just raised our
  offer by;
- hardliner: states its reservation and never moves;
- anchoring-then-folding: opens far above its reservation, holds it, then drops to it.
All accept our offer once it is at least what they would ask now (AC_next from their side).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.money import format_usd, quantize_cents
from negotiation_pipeline.domain.negotiation.emails import OutgoingEmail
from negotiation_pipeline.domain.negotiation.engine import Negotiation
from negotiation_pipeline.domain.negotiation.policy import LeverState
from negotiation_pipeline.sandbox.simulation.personas import NO_REPLY_KINDS, START
from negotiation_pipeline.sandbox.simulation.phrasing import ACCEPTS, wrap, write_amount


class OpponentType(StrEnum):
    BOULWARE = "boulware"
    CONCEDER = "conceder"
    LINEAR = "linear"
    TIT_FOR_TAT = "tit_for_tat"
    HARDLINER = "hardliner"
    ANCHOR_THEN_FOLD = "anchor_then_fold"


BETA: dict[OpponentType, Decimal] = {
    OpponentType.BOULWARE: Decimal("0.3"),
    OpponentType.LINEAR: Decimal(1),
    OpponentType.CONCEDER: Decimal(3),
}

_TIME_COUNTERS = (
    "Thanks for the offer. For this package I could do {ask}.",
    "I appreciate it, but I'd need {ask} to make this work.",
    "Could you do {ask}? That's where I can land for this scope.",
    "Thanks! Honestly my rate for this package is {ask}. Let me know if that's doable.",
)
_MIRROR_COUNTERS = (
    "Thanks for moving. I can meet you partway: {ask}.",
    "Okay, I can come down to {ask} for this.",
)
_FIRM_COUNTERS = (
    "My rate for this package is {ask}, and that's firm.",
    "As I said, {ask} is my rate for this. I don't go lower.",
)
_ANCHORS = (
    "My rate for a package like this is {ask}.",
    "For this scope I charge {ask}. That's my standard rate.",
)
_FOLDS = (
    "Okay, I've thought about it and I really want to work with the brand. I can do {ask}.",
    "Fine, let's make it happen: {ask} and we have a deal.",
)


def _ask_rounding(amount: Decimal, reservation: Decimal) -> Decimal:
    """People ask in round numbers (to the nearest $50, or $10 below $1,000), never below what
    they need."""
    step = Decimal(50) if amount >= 1000 else Decimal(10)
    nearest = (amount / step).to_integral_value(rounding="ROUND_HALF_UP") * step
    lowest = (reservation / step).to_integral_value(rounding="ROUND_CEILING") * step
    return max(step, nearest, lowest)


@dataclass
class Opponent:
    kind: OpponentType
    name: str
    email: str
    reservation: Decimal  # scenario 1, target usage rights, no product
    scope_cost: dict[int, Decimal]  # their price of each scenario relative to scenario 1
    usage_cost: Decimal  # their price with the minimum usage rights relative to the target
    product_share: Decimal  # how much of the product's value they count
    markup: Decimal  # opening ask = reservation × (1 + markup)
    deadline: int  # replies until they settle at their reservation
    hold: int = 1  # anchoring: replies they hold the anchor
    rng: random.Random = field(default_factory=random.Random)
    replies: int = 0
    last_ask_per_value: Decimal | None = None
    our_last_per_value: Decimal | None = None

    @property
    def sender(self) -> str:
        return f"{self.name} <{self.email}>"

    def reservation_for(self, levers: LeverState, campaign: Campaign) -> Decimal:
        value = self.reservation * self.scope_cost.get(levers.scenario, Decimal(1))
        usage = levers.usage(campaign)
        if usage != campaign.usage_rights.target:
            value *= self.usage_cost
        if levers.product_offered and campaign.product.value:
            value -= campaign.product.value * self.product_share
        return quantize_cents(max(value, Decimal(1)))

    def _time_ask(self, reservation: Decimal, beta: Decimal) -> Decimal:
        opening = reservation * (1 + self.markup)
        progress = min(Decimal(self.replies - 1) / Decimal(self.deadline), Decimal(1))
        conceded = progress ** (1 / beta) if progress > 0 else Decimal(0)
        return reservation + (opening - reservation) * (1 - conceded)

    def _ask(self, reservation: Decimal, value: Decimal, offer: Decimal) -> Decimal:
        """What they would ask now for the package on the table (`value`: its weight)."""
        if self.kind in BETA:
            return self._time_ask(reservation, BETA[self.kind])
        if self.kind is OpponentType.HARDLINER:
            return reservation
        if self.kind is OpponentType.ANCHOR_THEN_FOLD:
            return reservation * (1 + self.markup) if self.replies <= self.hold else reservation
        # Relative tit-for-tat: lower the ask (per unit of value) by the share we just raised
        # our offer by, never below the reservation.
        our_per_value = offer / value
        if self.last_ask_per_value is None or self.our_last_per_value is None:
            return reservation * (1 + self.markup)
        ratio = min(self.our_last_per_value / our_per_value, Decimal(1))
        return max(reservation, self.last_ask_per_value * ratio * value)

    def answer(
        self,
        email: OutgoingEmail,
        negotiation: Negotiation,
        campaign: Campaign,
        value: Decimal,
    ) -> str | None:
        """Our email in, their reply out. `value` is the value weight of the package on the
        table (expected views × usage factor), so tit-for-tat can compare across packages."""
        if email.kind in NO_REPLY_KINDS:
            return None
        self.replies += 1
        offer = negotiation.our_last_offer or Decimal(0)
        reservation = self.reservation_for(negotiation.levers, campaign)
        wanted = self._ask(reservation, value, offer)
        self.our_last_per_value = offer / value
        ask = _ask_rounding(max(wanted, reservation), reservation)
        settles = self.replies > self.deadline and offer >= reservation
        if offer >= wanted or ask <= offer or settles:
            text = self.rng.choice(ACCEPTS).format(offer=format_usd(offer))
            return self._wrap(text, email)
        self.last_ask_per_value = ask / value
        written = write_amount(self.rng, ask)
        return self._wrap(self.rng.choice(self._phrases()).format(ask=written), email)

    def _phrases(self) -> tuple[str, ...]:
        if self.kind is OpponentType.HARDLINER:
            return _FIRM_COUNTERS
        if self.kind is OpponentType.TIT_FOR_TAT:
            return _MIRROR_COUNTERS if self.replies > 1 else _TIME_COUNTERS
        if self.kind is OpponentType.ANCHOR_THEN_FOLD:
            return _ANCHORS if self.replies <= self.hold else _FOLDS
        return _TIME_COUNTERS

    def _wrap(self, text: str, ours: OutgoingEmail) -> str:
        sent_at = START + timedelta(days=self.replies)
        return wrap(self.rng, text, ours, sent_at, name=self.name)


def make_opponent(
    kind: OpponentType,
    rng: random.Random,
    *,
    name: str,
    email: str,
    reservation: Decimal,
    value_shares: dict[int, Decimal],
) -> Opponent:
    """An opponent of `kind` with randomised (seeded) traits. `value_shares`: each scenario's
    expected views relative to scenario 1 (their costs scatter around it)."""
    scope_cost = {
        s: share * Decimal(rng.randint(85, 125)) / 100 for s, share in value_shares.items()
    }
    scope_cost[1] = Decimal(1)
    markup = Decimal(rng.randint(20, 60)) / 100
    hold = 1
    if kind is OpponentType.ANCHOR_THEN_FOLD:
        markup = Decimal(rng.randint(60, 90)) / 100
        hold = rng.randint(1, 2)
    if kind is OpponentType.HARDLINER:
        markup = Decimal(0)
    return Opponent(
        kind=kind,
        name=name,
        email=email,
        reservation=reservation,
        scope_cost=scope_cost,
        usage_cost=Decimal(rng.randint(80, 95)) / 100,
        product_share=Decimal(rng.randint(30, 90)) / 100,
        markup=markup,
        deadline=rng.randint(4, 6),
        hold=hold,
        rng=random.Random(rng.random()),
    )
