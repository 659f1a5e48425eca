"""Our negotiation strategy: a concession curve, an acceptance rule and the levers.

Concession curve (time-dependent, from the automated-negotiation literature). After k of our
counters, with T = max_rounds, our offer for the package on the table is

    offer(k) = floor + (ceiling − floor) · (k / T) ^ (1 / e)

rounded to the policy's step. e < 1 is Boulware (hold near the floor, concede late), e = 1
linear, e > 1 Conceder. k = 0 is the opening (the floor); k = T is our best offer (the ceiling).
The curve never moves backwards: an offer for the same package is never below the last one.

Acceptance (AC_next): we accept their ask when it is at or below what we would offer next; on
our last allowed round we accept any ask within the package's ceiling.

Levers (order from the policy) answer an ask above the package's ceiling when conceding on price
alone will not get there: our offer is already at the ceiling, their ask did not come down over
their last two replies, or at the pace they concede (per 1,000 value-weighted views, between asks
for the same package; steady, slowing down, or mirroring ours) their ask would still be above
the ceiling when our rounds run out. A creator who is only starting to move or speeding up is
given the time. A scope or usage lever keeps our price per 1,000 value-weighted views (rounded
down, exactly), so the money falls with the work: never more money for less. The product lever
keeps the scope and adds the product at the curve's next offer; on our last round it is the only
lever, joining our best offer. Close to the ceiling (`keep_package_within_pct`), the levers that
keep the deliverables come first.

Mirrors (reciprocity.py): someone who answers a readable raise of ours with a matching cut is
offered the meeting point √(ask · offer) at once (at most the ceiling), since each small step
of ours would only buy a small step back. When a mirror then stops moving while we raise, the
ask is their floor: within the ceiling we accept it; above it the levers follow at once
(the product last when it is worth less than the gap).

Every move carries a reason and the numbers behind it (`facts`) for the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise

from negotiation_pipeline.domain.money import format_usd, quantize_cents
from negotiation_pipeline.domain.negotiation.policy import ConcessionPolicy, Lever, LeverState
from negotiation_pipeline.domain.negotiation.pricing import (
    PackageBounds,
    PriceGrid,
    same_price_per_view,
)
from negotiation_pipeline.domain.negotiation.reciprocity import meeting_offer, read_asks

CENT_GRID = PriceGrid(Decimal("0.01"))


class MoveKind(StrEnum):
    ACCEPT = "accept"  # agree at their ask
    COUNTER = "counter"  # a new offer for the package on the table
    LEVER = "lever"  # a new package (less scope or usage, or the product) and its price
    EXIT = "exit"  # their ask is above every package we can offer


@dataclass(frozen=True)
class PricedTerm:
    """An ask, its price per 1,000 value-weighted views, and how many levers we had used by
    then (asks with the same count were for the same package)."""

    amount: Decimal
    per_1k: Decimal
    levers_used: int = 0
    answered: Decimal | None = None  # our offer this ask answered (None: not known)


@dataclass(frozen=True)
class LeverOption:
    lever: Lever
    levers_after: LeverState
    bounds: PackageBounds  # the package once the lever is applied
    product_value: Decimal | None = None  # the product lever: what the product is worth


@dataclass(frozen=True)
class Situation:
    """What the strategy knows when a reply comes in."""

    bounds: PackageBounds  # the package on the table
    last_offer: Decimal  # our offer for it
    round: int  # our counters so far (k)
    max_rounds: int  # T
    asks: tuple[PricedTerm, ...] = ()  # their earlier asks, oldest first
    lever_options: tuple[LeverOption, ...] = ()  # usable levers, in the configured order
    levers_used: int = 0  # for the package on the table
    previous_offer: Decimal | None = None  # our offer before last_offer, for the same package


@dataclass(frozen=True)
class Move:
    kind: MoveKind
    rate: Decimal | None
    reason: str
    facts: dict[str, str] = field(default_factory=dict)
    lever: LeverOption | None = None
    final: bool = False  # our best offer for this package

    @property
    def bounds_after(self) -> PackageBounds | None:
        return None if self.lever is None else self.lever.bounds


def grid_for(bounds: PackageBounds, policy: ConcessionPolicy) -> PriceGrid:
    """The policy's step, or cents when no step amount fits between floor and ceiling."""
    grid = PriceGrid(policy.round_to)
    return grid if grid.span(bounds) is not None else CENT_GRID


@lru_cache(maxsize=1024)
def curve_fraction(k: int, max_rounds: int, exponent: Decimal) -> Decimal:
    """(k / T) ^ (1 / e), clamped to [0, 1] (cached: a fractional power of a Decimal is slow,
    and only a handful of (k, T, e) exist)."""
    if max_rounds <= 0 or k >= max_rounds:
        return Decimal(1)
    if k <= 0:
        return Decimal(0)
    fraction: Decimal = (Decimal(k) / Decimal(max_rounds)) ** (Decimal(1) / exponent)
    return min(max(fraction, Decimal(0)), Decimal(1))


def opening_offer(bounds: PackageBounds, policy: ConcessionPolicy) -> Decimal:
    """The floor, rounded up to the step (never below the floor)."""
    grid = grid_for(bounds, policy)
    span = grid.span(bounds)
    assert span is not None, "grid_for always leaves a grid amount inside feasible bounds"
    return span[0]


def curve_offer(
    bounds: PackageBounds, k: int, max_rounds: int, last_offer: Decimal, policy: ConcessionPolicy
) -> Decimal:
    """Our offer after k counters: the curve point, rounded, inside the bounds, at least one
    step above `last_offer` while the ceiling allows (a counter that does not move is no
    counter), never below it."""
    grid = grid_for(bounds, policy)
    span = grid.span(bounds)
    assert span is not None
    low, high = span
    target = bounds.at_fraction(curve_fraction(k, max_rounds, policy.exponent))
    offer = min(max(grid.nearest(target), low), high)
    if offer <= last_offer:
        offer = min(grid.down(last_offer) + grid.step, high)
    return max(offer, last_offer) if last_offer <= high else last_offer


def _money(amount: Decimal) -> str:
    return format_usd(amount)


def _base_facts(s: Situation, ask: Decimal | None, policy: ConcessionPolicy) -> dict[str, str]:
    b = s.bounds
    facts = {
        "round": f"{s.round + 1} of {s.max_rounds}",
        "curve": f"exponent {policy.exponent.normalize():f}",
        "package": b.package.describe(),
        "expected_views": f"{b.expected_views:,}",
        "value_views": f"{quantize_cents(b.value_views):,}",
        "floor": _money(b.floor),
        "ceiling": _money(b.ceiling),
        "our_last_offer": _money(s.last_offer),
    }
    if ask is not None:
        facts["their_ask"] = _money(ask)
    return facts


def _projected_concession(paces: list[Decimal], rounds_left: int) -> Decimal | None:
    """How much more (per 1,000 value-weighted views) they will concede in `rounds_left`
    replies at the pattern of their concessions so far: the same again each round when steady,
    shrinking by the same ratio when slowing down. None when they are speeding up (a Boulware
    creator concedes late, so its early pace says nothing about its last rounds)."""
    last = paces[-1]
    if last <= 0:
        return Decimal(0)
    if len(paces) < 2:
        return last * rounds_left
    if paces[-2] <= 0:
        return None  # a first step after standing still: they are only starting to move
    ratio = last / paces[-2]
    if ratio > Decimal("1.2"):
        return None
    if ratio >= 1:
        return last * rounds_left
    return sum((last * ratio**i for i in range(1, rounds_left + 1)), Decimal(0))


def _time_paces(s: Situation, ask: Decimal) -> list[Decimal]:
    """Their concessions per 1,000 value-weighted views between consecutive asks for the same
    package, oldest first (a change of package moves their price for another reason)."""
    asks = [*s.asks, PricedTerm(ask, s.bounds.price_per_1k(ask), s.levers_used)]
    return [
        before.per_1k - after.per_1k
        for before, after in pairwise(asks)
        if before.levers_used == after.levers_used
    ]


def _reciprocal_concession(s: Situation, ask: Decimal, high: Decimal) -> Decimal | None:
    """When their last concession mirrored ours (they came down, as a share of their ask, by
    about the share we came up), what they would still concede per 1,000 value-weighted views
    if they keep mirroring while we go to our ceiling; None when they are not mirroring."""
    same_package = [a for a in s.asks if a.levers_used == s.levers_used]
    if not same_package or s.previous_offer is None or s.previous_offer <= 0:
        return None
    ours = s.last_offer / s.previous_offer - 1
    theirs = same_package[-1].amount / ask - 1
    if ours <= 0 or not (ours / 2 <= theirs <= ours * 3 / 2):
        return None
    return s.bounds.price_per_1k(ask) * (1 - s.last_offer / high)


def _lever_trigger(
    s: Situation,
    ask: Decimal,
    high: Decimal,
    keep_within_pct: Decimal,
    firm: bool,
) -> str | None:
    """Why conceding on price alone cannot close the gap, or None when it still may. `firm`:
    their ask is their floor for this package (a mirror that stopped moving).

    Concessions are measured per 1,000 value-weighted views between asks for the same package.
    One unchanged ask is not yet firm (people repeat a number once), and a creator whose
    concessions are speeding up is given the time to finish."""
    b = s.bounds
    if s.last_offer >= high:
        return f"our offer is already at this package's ceiling ({_money(high)})"
    paces = _time_paces(s, ask)
    if not paces:
        return None
    if firm:
        return (
            "they had matched our concessions and then stopped moving while we raised: their "
            "floor for this package is above its ceiling"
        )
    if len(paces) >= 2 and paces[-1] <= 0 and paces[-2] <= 0:
        return "their ask has not come down over their last two replies"
    if paces[-1] <= 0 and len(paces) < 2:
        return None
    rounds_left = max(s.max_rounds - (s.round + 1), 0)
    more = _projected_concession(paces, rounds_left)
    if more is not None and ask <= b.ceiling * (1 + keep_within_pct / 100):
        more *= 2  # close to the ceiling: give them the benefit of the doubt
    mirrored = _reciprocal_concession(s, ask, high)
    if more is not None and mirrored is not None:
        more = max(more, mirrored)
    if more is not None and b.price_per_1k(ask) - more > b.price_per_1k(b.ceiling):
        return (
            f"at the pace they concede ({_money(paces[-1])} per 1,000 views last round) their "
            "ask would still be above the ceiling after our last round"
        )
    return None


def _all_asks(s: Situation, ask: Decimal) -> list[PricedTerm]:
    """Their asks so far, oldest first, with the one just in (it answers our last offer)."""
    return [*s.asks, PricedTerm(ask, s.bounds.price_per_1k(ask), s.levers_used, s.last_offer)]


def _lever_price(option: LeverOption, s: Situation, policy: ConcessionPolicy) -> Decimal | None:
    """Price of the package after the lever, or None when it cannot keep our price per view
    (the campaign's minimum cost would make the smaller package dearer per view)."""
    after = option.bounds
    grid = grid_for(after, policy)
    span = grid.span(after)
    if span is None:
        return None
    low, high = span
    if option.lever is Lever.PRODUCT:
        return curve_offer(after, s.round + 1, s.max_rounds, s.last_offer, policy)
    price = min(grid.down_exact(same_price_per_view(s.last_offer, s.bounds, after)), high)
    return price if price >= low else None


KEEPS_SCOPE = (Lever.USAGE_RIGHTS, Lever.PRODUCT)


def _ordered_options(
    s: Situation, ask: Decimal, keep_within_pct: Decimal, firm: bool
) -> tuple[LeverOption, ...]:
    """The usable levers in the configured order, except that when their ask is close to the
    ceiling the levers that keep the deliverables (usage rights, product) come first: a small
    gap is closed without cutting content. Against a firm ask the product comes last when it is
    worth less than the gap: adding it cannot close that gap on its own."""
    options = s.lever_options
    if ask <= s.bounds.ceiling * (1 + keep_within_pct / 100):
        keeps = tuple(o for o in options if o.lever in KEEPS_SCOPE)
        options = keeps + tuple(o for o in options if o.lever not in KEEPS_SCOPE)
    if firm:
        gap = ask - s.bounds.ceiling
        short = tuple(o for o in options if o.product_value is not None and o.product_value < gap)
        options = tuple(o for o in options if o not in short) + short
    return options


def _accept(ask: Decimal, reason: str, facts: dict[str, str]) -> Move:
    return Move(MoveKind.ACCEPT, ask, reason, {**facts, "rule": reason})


def _counter(rate: Decimal, high: Decimal, reason: str, facts: dict[str, str]) -> Move:
    final = rate >= high
    facts = {**facts, "offer": _money(rate), "rule": reason, "final": str(final).lower()}
    return Move(MoveKind.COUNTER, rate, reason, facts, final=final)


_MEET = (
    "they match our concessions: we go to where matching ends (the root of their ask times our "
    "offer, at most our ceiling) instead of a step that only buys a step back"
)
_FLOOR_WITHIN = (
    "they had matched our concessions and then stopped moving: their ask is their floor, and it "
    "is within this package's ceiling"
)


def decide(s: Situation, ask: Decimal | None, policy: ConcessionPolicy) -> Move:
    """Our move on a reply that names `ask` (None: no amount) for the package on the table."""
    facts = _base_facts(s, ask, policy)
    k_next = s.round + 1
    grid = grid_for(s.bounds, policy)
    span = grid.span(s.bounds)
    assert span is not None
    high = span[1]
    nxt = curve_offer(s.bounds, k_next, s.max_rounds, s.last_offer, policy)
    facts["curve_fraction"] = f"{curve_fraction(k_next, s.max_rounds, policy.exponent):.3f}"
    facts["next_offer"] = _money(nxt)
    last_round = k_next >= s.max_rounds
    if ask is None:
        reason = "no amount named: our next point on the concession curve"
        if nxt <= s.last_offer:
            reason = "no amount named and we are at this package's ceiling: our offer stands"
        return _counter(nxt, high, reason, facts)
    if ask <= s.last_offer:
        return _accept(ask, "their ask is at or below our offer", facts)
    if ask <= nxt:
        return _accept(
            ask, f"AC_next: their ask is at or below our next offer {_money(nxt)}", facts
        )
    reading = read_asks(_all_asks(s, ask))
    if reading.mirror or reading.firm:
        facts["their_concessions"] = "at their floor" if reading.firm else "match ours"
    meeting = None
    if reading.mirror and not last_round:
        meeting = meeting_offer(ask, s.last_offer, grid, high)
    if ask <= s.bounds.ceiling:
        if reading.firm:
            return _accept(ask, _FLOOR_WITHIN, facts)
        if last_round and policy.accept_within_ceiling_on_last_round:
            return _accept(ask, "our last round and their ask is within the ceiling", facts)
        if meeting is not None and meeting > nxt:
            return _counter(meeting, high, _MEET, {**facts, "meeting_offer": _money(meeting)})
        return _counter(nxt, high, "concede along the curve toward their ask", facts)
    # Their ask is above this package's ceiling.
    if meeting is not None and meeting > nxt:
        return _counter(meeting, high, _MEET, {**facts, "meeting_offer": _money(meeting)})
    trigger = _lever_trigger(s, ask, high, policy.keep_package_within_pct, reading.firm)
    options = _ordered_options(s, ask, policy.keep_package_within_pct, reading.firm)
    if k_next > s.max_rounds:
        options = ()  # our rounds are spent: accept within the ceiling or step back
    elif last_round and s.last_offer < high:
        # No round is left to concede after a lever; only the product can join our final offer.
        options = tuple(o for o in options if o.lever is Lever.PRODUCT)
        trigger = trigger or "this is our last round"
    if trigger is not None:
        skipped = []
        for option in options:
            price = _lever_price(option, s, policy)
            if price is None:
                skipped.append(option.lever.value)
                continue
            reason = f"their ask is above the ceiling and {trigger}: lever {option.lever.value}"
            lever_facts = {
                **facts,
                "rule": reason,
                "lever": option.lever.value,
                "package_after": option.bounds.package.describe(),
                "ceiling_after": _money(option.bounds.ceiling),
                "offer": _money(price),
                "price_per_1k_value_views": _money(option.bounds.price_per_1k(price)),
            }
            if skipped:
                lever_facts["levers_skipped"] = ", ".join(skipped)
            return Move(MoveKind.LEVER, price, reason, lever_facts, lever=option)
    if s.last_offer >= high:
        reason = "their ask is above the ceiling of every package we can still offer"
        return Move(MoveKind.EXIT, s.last_offer, reason, {**facts, "rule": reason})
    reason = "their ask is above the ceiling: concede along the curve"
    if trigger is not None:
        reason = f"their ask is above the ceiling and {trigger}; no lever left: concede"
    return _counter(nxt, high, reason, facts)
