"""How their asks answer our concessions: do they match what we give (tit for tat)?

Some creators concede on a schedule of their own; others answer each of our raises with a
matching cut: they come down, as a share of their ask, by about the share we came up. Against
such a mirror a small step only buys a small step back, and the two prices meet where our offer
times their ask stays constant: raising our offer from o to x brings their ask a down to a·o/x,
which is at or below x from x = √(a·o) on. That meeting point is worth offering at once.

A mirror that stops matching (it comes down by clearly less than our raise) has reached its
floor for that package: the ask is firm.

Moves are compared per 1,000 value-weighted views, so a change of package at the same price per
view is no raise (and a mirror does not move for it). Each ask is compared with the one before
it and each move with the offers they answered; an unknown offer makes no evidence either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Protocol

from negotiation_pipeline.domain.negotiation.pricing import PriceGrid


class Ask(Protocol):
    """An ask, its price per 1,000 value-weighted views, the offer of ours it answered (None:
    not known), and how many levers we had used (asks with the same count are for the same
    package)."""

    @property
    def amount(self) -> Decimal: ...

    @property
    def per_1k(self) -> Decimal: ...

    @property
    def answered(self) -> Decimal | None: ...

    @property
    def levers_used(self) -> int: ...


class Response(StrEnum):
    """How their ask moved after we had raised our price per view."""

    MATCHED = "matched"  # they came down by about the share we came up (tit for tat)
    STALLED = "stalled"  # they did not move (beyond their rounding): their floor


# A cut within these shares of the matching cut counts as matching it: people round their asks
# and mirror loosely, but a cut of twice the matching one follows a schedule of their own.
MATCH_LOW = Decimal("0.75")
MATCH_HIGH = Decimal("1.5")

# A raise is read only when a matching cut would be at least this many of their rounding steps:
# people ask in round numbers, and a smaller raise is one their rounding may simply swallow (a
# creator conceding on a schedule of their own would then look like a mirror by chance).
READABLE_STEPS = Decimal("1.5")

# People ask in round numbers: a move that rounding alone explains says nothing.
_ASK_STEPS = tuple(Decimal(step) for step in (1000, 500, 250, 100, 50, 25, 10, 5, 1))


def ask_step(asks: Sequence[Ask]) -> Decimal:
    """The roundest step all their asks are multiples of (a cent when they are not whole)."""
    for step in _ASK_STEPS:
        if all(a.amount % step == 0 for a in asks):
            return step
    return Decimal("0.01")


def _offer_per_1k(ask: Ask) -> Decimal | None:
    """The offer `ask` answered, per 1,000 value-weighted views of the same package."""
    if ask.answered is None or ask.amount <= 0:
        return None
    return ask.answered * ask.per_1k / ask.amount


def _response(before: Ask, after: Ask, step: Decimal) -> Response | None:
    ours_before, ours_after = _offer_per_1k(before), _offer_per_1k(after)
    if ours_before is None or ours_after is None or ours_after <= ours_before:
        return None  # we did not raise our price per view: no evidence
    matching = before.per_1k * (1 - ours_before / ours_after)
    step_per_1k = step * before.per_1k / before.amount  # their rounding, per 1,000 views
    slack = step_per_1k / 2
    cut = before.per_1k - after.per_1k
    if matching < step_per_1k * READABLE_STEPS:
        return None  # a raise their rounding could swallow: no evidence
    if cut > 0 and matching * MATCH_LOW - slack <= cut <= matching * MATCH_HIGH + slack:
        return Response.MATCHED
    if cut <= slack:
        return Response.STALLED
    return None  # a cut well beyond the matching one: a schedule of their own


def responses(asks: Sequence[Ask]) -> list[Response | None]:
    """For each ask after the first (oldest first): how it answered our raise; None when we
    had not raised our price per view or the move fits neither."""
    step = ask_step(asks)
    return [_response(before, after, step) for before, after in pairwise(asks)]


@dataclass(frozen=True)
class Reading:
    """What their asks so far say about how they concede."""

    mirror: bool  # they match our raises, and have not stalled on the package on the table
    firm: bool  # they had matched, then did not move for our last raise: the ask is their floor


def read_asks(asks: Sequence[Ask]) -> Reading:
    """How the asks (oldest first, the last one just in) answered our raises. A mirror is
    someone who matched a readable raise of ours; a stall ends that for the package it happened
    on (their floor there), not for the next package (its floor is another)."""
    found = responses(asks)
    if Response.MATCHED not in found:
        return Reading(mirror=False, firm=False)
    current = asks[-1].levers_used
    here = [f for f, after in zip(found, asks[1:], strict=True) if after.levers_used == current]
    stalled_here = Response.STALLED in here
    firm = bool(found) and found[-1] is Response.STALLED
    return Reading(mirror=not stalled_here, firm=firm)


def meeting_point(ask: Decimal, offer: Decimal) -> Decimal:
    """Where a mirror's ask meets our offer: √(ask · offer), unrounded."""
    return (ask * offer).sqrt()


def meeting_offer(ask: Decimal, offer: Decimal, grid: PriceGrid, high: Decimal) -> Decimal | None:
    """The meeting point as an offer: rounded up to the grid, at most `high` (our ceiling on
    the grid); None when their ask is not above our offer."""
    if ask <= offer:
        return None
    return min(grid.up(meeting_point(ask, offer)), high)
