"""Today's simulated personas: early accepters, hard bargainers, talent managers, ghosts,
decliners, question askers and euro askers, each with a hidden reservation price.

A persona's reservation is for the full scenario-1 package with the campaign's target usage
rights; less work or fewer rights lower what they need (by fixed factors), the product counts
at half its value. They answer our emails in prose with our email quoted underneath.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.money import format_usd, quantize_cents
from negotiation_pipeline.domain.negotiation.emails import EmailKind, OutgoingEmail
from negotiation_pipeline.domain.negotiation.engine import Negotiation
from negotiation_pipeline.domain.negotiation.policy import LeverState
from negotiation_pipeline.sandbox.simulation.phrasing import (
    ACCEPTS,
    ANCHORED_COUNTERS,
    COUNTERS,
    DECLINES,
    MANAGER_COUNTERS,
    QUESTIONS,
    pct,
    round_ask,
    wrap,
    write_amount,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NO_REPLY_KINDS = frozenset({EmailKind.AGREEMENT, EmailKind.EXIT, EmailKind.DECLINE})


class Persona(StrEnum):
    EARLY_ACCEPTER = "early_accepter"
    HARD_BARGAINER = "hard_bargainer"
    TALENT_MANAGER = "talent_manager"
    GHOST = "ghost"
    DECLINER = "decliner"
    QUESTION_ASKER = "question_asker"
    EURO_ASKER = "euro_asker"


PERSONA_WEIGHTS: dict[Persona, int] = {
    Persona.EARLY_ACCEPTER: 20,
    Persona.HARD_BARGAINER: 20,
    Persona.TALENT_MANAGER: 15,
    Persona.GHOST: 10,
    Persona.DECLINER: 10,
    Persona.QUESTION_ASKER: 15,
    Persona.EURO_ASKER: 10,
}

# Hidden reservation (percent of the influencer's ceiling rate, full package), per persona.
RESERVATION_PCT: dict[Persona, tuple[int, int]] = {
    Persona.EARLY_ACCEPTER: (55, 95),
    Persona.HARD_BARGAINER: (95, 135),
    Persona.TALENT_MANAGER: (80, 115),
    Persona.GHOST: (80, 100),
    Persona.DECLINER: (80, 100),
    Persona.QUESTION_ASKER: (65, 105),
    Persona.EURO_ASKER: (80, 110),
}
# First ask, percent above the reservation.
_OPENING_MARKUP_PCT: dict[Persona, tuple[int, int]] = {
    Persona.HARD_BARGAINER: (30, 70),
    Persona.TALENT_MANAGER: (15, 40),
}
_DEFAULT_MARKUP = (5, 25)
_SCOPE_FACTOR = {1: Decimal(1), 2: Decimal("0.8"), 3: Decimal("0.65")}
_SHORTER_USAGE_FACTOR = Decimal("0.93")


@dataclass
class SimulatedInfluencer:
    """One persona, its hidden reservation and what it has said so far."""

    persona: Persona
    name: str
    email: str
    reservation: Decimal  # for the full scenario-1 package with target usage rights
    followers: int
    manager_name: str | None = None
    manager_email: str | None = None
    agency: str | None = None
    last_ask: Decimal | None = None
    asked_question: bool = False
    replies: int = 0
    rng: random.Random = field(default_factory=random.Random)

    @property
    def kind(self) -> str:
        return self.persona.value

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def sender(self) -> str:
        if self.manager_email:
            return f"{self.manager_name} <{self.manager_email}>"
        return f"{self.name} <{self.email}>"

    def reservation_for(self, levers: LeverState, campaign: Campaign) -> Decimal:
        """Less work or fewer rights lower the price they need; product counts at half value."""
        value = self.reservation * _SCOPE_FACTOR.get(levers.scenario, Decimal(1))
        if levers.usage_rights is not None and levers.usage_rights != campaign.usage_rights.target:
            value *= _SHORTER_USAGE_FACTOR
        if levers.product_offered and campaign.product.value:
            value -= campaign.product.value / 2
        return quantize_cents(max(value, Decimal(1)))

    def effective_reservation(self, negotiation: Negotiation, campaign: Campaign) -> Decimal:
        return self.reservation_for(negotiation.levers, campaign)

    def answer(
        self, email: OutgoingEmail, negotiation: Negotiation, campaign: Campaign
    ) -> str | None:
        """Our email in, their reply text out (None: no reply)."""
        if self.persona is Persona.GHOST or email.kind in NO_REPLY_KINDS:
            return None
        self.replies += 1
        rng = self.rng
        offer = negotiation.our_last_offer or Decimal(0)
        if self.persona is Persona.DECLINER:
            return self._wrap(rng.choice(DECLINES), email)
        if self.persona is Persona.QUESTION_ASKER and not self.asked_question:
            self.asked_question = True
            return self._wrap(rng.choice(QUESTIONS), email)
        need = self.effective_reservation(negotiation, campaign)
        if offer >= need:
            return self._wrap(rng.choice(ACCEPTS).format(offer=format_usd(offer)), email)
        ask = self._next_ask(need, offer)
        written = write_amount(rng, ask, euro=self.persona is Persona.EURO_ASKER)
        if self.persona is Persona.TALENT_MANAGER:
            text = rng.choice(MANAGER_COUNTERS).format(
                ask=written, first=self.first_name, followers=f"{self.followers:,}"
            )
        elif self.persona is Persona.HARD_BARGAINER and self.replies == 1:
            usual = write_amount(rng, round_ask(ask * Decimal("1.2")))
            text = rng.choice(ANCHORED_COUNTERS).format(ask=written, usual=usual)
        else:
            text = rng.choice(COUNTERS).format(ask=written, followers=f"{self.followers // 1000}K")
        return self._wrap(text, email)

    def _next_ask(self, need: Decimal, offer: Decimal) -> Decimal:
        if self.last_ask is None:
            markup = _OPENING_MARKUP_PCT.get(self.persona, _DEFAULT_MARKUP)
            ask = need * (1 + pct(self.rng, markup))
        else:
            ask = self.last_ask - (self.last_ask - need) * pct(self.rng, (30, 60))
        ask = round_ask(max(ask, need))
        if ask <= offer:  # never ask for less than is already on the table
            ask = round_ask(offer * Decimal("1.1"))
        self.last_ask = ask
        return ask

    def _wrap(self, text: str, ours: OutgoingEmail) -> str:
        return wrap(
            self.rng,
            text,
            ours,
            START + timedelta(days=self.replies),
            name=self.name,
            manager_name=self.manager_name,
            agency=self.agency,
        )
