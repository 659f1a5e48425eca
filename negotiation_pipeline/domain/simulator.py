"""Simulated influencers: run whole negotiations in-process against seeded personas.

Each persona has a hidden reservation price (relative to the influencer's ceiling rate, for the
full scenario-1 package) and answers our emails in prose, with our email quoted underneath
Gmail-style, so the real reply reader (quote stripping, money parsing, intent) is exercised.
The engine only ever sees the text, exactly as in production.

Pure and deterministic for a given seed: randomness comes from one `random.Random(seed)`; time
is simulated. A `clock` may be passed to measure throughput (the CLI and bench do that).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from negotiation_pipeline.domain.campaign import (
    BudgetConstraints,
    Campaign,
    CPMRange,
    DeliverableScenarios,
    ProductLever,
    Requirements,
    UsageRights,
)
from negotiation_pipeline.domain.cpm import CampaignCPMTracker
from negotiation_pipeline.domain.emails import EmailKind, OutgoingEmail
from negotiation_pipeline.domain.money import format_usd, quantize_cents, rate_for_cpm
from negotiation_pipeline.domain.negotiation import (
    Action,
    EngineConfig,
    InfluencerTerms,
    Negotiation,
    Outcome,
    follow_up_due,
    handle_reply,
    open_negotiation,
)
from negotiation_pipeline.domain.reply_reader import read_reply
from negotiation_pipeline.domain.types import Platform, UsageRightsDuration

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HUNDRED = Decimal(100)


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
_RESERVATION_PCT: dict[Persona, tuple[int, int]] = {
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

_FIRST_NAMES = [
    "Jane",
    "Maya",
    "Liam",
    "Noah",
    "Ava",
    "Zoe",
    "Eli",
    "Nina",
    "Omar",
    "Lena",
    "Theo",
    "Iris",
    "Kai",
    "Sofia",
    "Ruby",
    "Leo",
    "Mila",
    "Jonah",
    "Priya",
    "Dev",
    "Chloe",
    "Marco",
    "Hana",
    "Felix",
    "Tara",
    "Ezra",
    "Luz",
    "Ines",
    "Owen",
    "Yara",
]
_LAST_NAMES = [
    "Doe",
    "Park",
    "Rivera",
    "Chen",
    "Okafor",
    "Novak",
    "Silva",
    "Haddad",
    "Kim",
    "Larsen",
    "Moreau",
    "Patel",
    "Rossi",
    "Berg",
    "Tanaka",
    "Costa",
    "Ahmed",
    "Fischer",
    "Walsh",
    "Nguyen",
]
_CLIENTS = (
    "Glow Labs",
    "Summit Outdoor",
    "Bytewise",
    "Oat & Honey",
    "Stride Athletics",
    "Lumen Skincare",
    "Tidewater Coffee",
    "Pixel Forge",
)
_AGENCIES = ("Brightline Talent", "Northstar Management", "Crescent Creator Agency")
_PACKAGES: dict[Platform, tuple[str, str, str]] = {
    Platform.INSTAGRAM: (
        "1 Instagram Reel, 3 Instagram Stories, 1 link in bio for 7 days",
        "1 Instagram Reel, 1 Instagram Story",
        "1 Instagram Reel",
    ),
    Platform.TIKTOK: (
        "2 TikTok videos, 1 TikTok story",
        "1 TikTok video, 1 TikTok story",
        "1 TikTok video",
    ),
    Platform.YOUTUBE: (
        "1 YouTube integration (60-90 seconds), 1 YouTube Short",
        "1 YouTube integration (60 seconds)",
        "1 YouTube Short",
    ),
}
_SCOPE_FACTOR = {1: Decimal(1), 2: Decimal("0.8"), 3: Decimal("0.65")}


def _pct(rng: random.Random, bounds: tuple[int, int]) -> Decimal:
    return Decimal(rng.randint(*bounds)) / HUNDRED


def _round_ask(amount: Decimal) -> Decimal:
    """People ask in round numbers."""
    step = Decimal(50) if amount >= 1000 else Decimal(10)
    return max(step, (amount / step).quantize(Decimal(1)) * step)


def _write_amount(rng: random.Random, amount: Decimal, euro: bool = False) -> str:
    if euro:
        return rng.choice((f"€{amount:,.0f}", f"{amount:,.0f} EUR", f"EUR {amount:,.0f}"))
    forms = [f"${amount:,.0f}", f"USD {amount:,.0f}", f"{amount:.0f} dollars"]
    if amount >= 1000 and amount % 100 == 0:
        forms.append(f"{(amount / 1000).normalize():f}k")
    return rng.choice(forms)


def _quoted(email: OutgoingEmail, sent_at: datetime) -> str:
    """Our email under the reply, the way Gmail quotes it."""
    header = (
        f"On {sent_at:%a, %b %-d, %Y at %-I:%M %p} Alex Morgan <partnerships@northbeam.test> wrote:"
    )
    lines = "\n".join(f"> {line}" if line else ">" for line in email.body.splitlines())
    return f"\n\n{header}\n{lines}\n"


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
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def sender(self) -> str:
        if self.manager_email:
            return f"{self.manager_name} <{self.manager_email}>"
        return f"{self.name} <{self.email}>"

    def effective_reservation(self, negotiation: Negotiation, campaign: Campaign) -> Decimal:
        """Less work or fewer rights lower the price they need; product counts at half value."""
        levers = negotiation.levers
        value = self.reservation * _SCOPE_FACTOR.get(levers.scenario, Decimal(1))
        if levers.usage_rights is not None and levers.usage_rights != campaign.usage_rights.target:
            value *= Decimal("0.93")
        if levers.product_offered and campaign.product.value:
            value -= campaign.product.value / 2
        return quantize_cents(max(value, Decimal(1)))

    def answer(
        self, email: OutgoingEmail, negotiation: Negotiation, campaign: Campaign
    ) -> str | None:
        """Our email in, their reply text out (None: no reply)."""
        if self.persona is Persona.GHOST or email.kind in (EmailKind.AGREEMENT, EmailKind.EXIT):
            return None
        self.replies += 1
        rng = self.rng
        offer = negotiation.our_last_offer or Decimal(0)
        if self.persona is Persona.DECLINER:
            return self._wrap(rng.choice(_DECLINES), email)
        if self.persona is Persona.QUESTION_ASKER and not self.asked_question:
            self.asked_question = True
            return self._wrap(rng.choice(_QUESTIONS), email)
        need = self.effective_reservation(negotiation, campaign)
        if offer >= need:
            return self._wrap(rng.choice(_ACCEPTS).format(offer=format_usd(offer)), email)
        ask = self._next_ask(need, offer)
        written = _write_amount(rng, ask, euro=self.persona is Persona.EURO_ASKER)
        if self.persona is Persona.TALENT_MANAGER:
            text = rng.choice(_MANAGER_COUNTERS).format(
                ask=written, first=self.first_name, followers=f"{self.followers:,}"
            )
        elif self.persona is Persona.HARD_BARGAINER and self.replies == 1:
            usual = _write_amount(rng, _round_ask(ask * Decimal("1.2")))
            text = rng.choice(_ANCHORED_COUNTERS).format(ask=written, usual=usual)
        else:
            text = rng.choice(_COUNTERS).format(ask=written, followers=f"{self.followers // 1000}K")
        return self._wrap(text, email)

    def _next_ask(self, need: Decimal, offer: Decimal) -> Decimal:
        if self.last_ask is None:
            markup = _OPENING_MARKUP_PCT.get(self.persona, _DEFAULT_MARKUP)
            ask = need * (1 + _pct(self.rng, markup))
        else:
            ask = self.last_ask - (self.last_ask - need) * _pct(self.rng, (30, 60))
        ask = _round_ask(max(ask, need))
        if ask <= offer:  # never ask for less than is already on the table
            ask = _round_ask(offer * Decimal("1.1"))
        self.last_ask = ask
        return ask

    def _wrap(self, text: str, ours: OutgoingEmail) -> str:
        greeting = self.rng.choice(("Hi Alex,", "Hey Alex!", "Hello Alex,"))
        if self.manager_name:
            signature = (
                f"Best regards,\n{self.manager_name}\nTalent Manager | {self.agency}\n"
                f"+1 (310) 555-0{self.rng.randint(100, 199)}\n"
                f"{self.agency.lower().replace(' ', '') if self.agency else ''}.com"
            )
            greeting = "Hi Alex,"
        else:
            signature = self.rng.choice(
                (f"Thanks!\n{self.first_name}", f"xx {self.first_name}", f"Best,\n{self.name}")
            )
        sent_at = START + timedelta(days=self.replies)
        return f"{greeting}\n\n{text}\n\n{signature}{_quoted(ours, sent_at)}"


_ACCEPTS = (
    "That works for me, let's do it! Excited to work with you.",
    "Sounds good, happy to move forward at {offer}. What are the next steps?",
    "Deal! Send over the agreement whenever you're ready.",
    "Perfect, {offer} works for me. Count me in.",
)
_COUNTERS = (
    "Thanks for reaching out, I love the brand! For this scope my rate would be {ask} though.",
    "Appreciate the offer. Could you do {ask}? My audience is {followers} followers "
    "and they engage a lot.",
    "I'd love to do this but I'd need {ask} to make it work.",
    "Thanks! Honestly my rate for this package is {ask}. Let me know if that's doable.",
)
_ANCHORED_COUNTERS = (
    "Thanks for the offer. I usually get {usual} for a package like this, "
    "but I could do {ask} for you.",
    "My standard rate is {usual}. For this campaign I can come down to {ask}, "
    "that's the best I can do.",
)
_MANAGER_COUNTERS = (
    "Thank you for the offer for {first}. Given her {followers} followers and recent performance, "
    "we would need {ask} for this package.",
    "Thanks for reaching out about {first}. Her rate for this scope is {ask}; with {followers} "
    "followers the numbers speak for themselves. Happy to discuss.",
)
_DECLINES = (
    "Thanks so much for thinking of me, but I'm going to pass on this one.",
    "Appreciate it, but no thank you. I'm not taking on new partnerships right now.",
    "Thank you, but this isn't a fit for my channel, so I'll have to decline.",
)
_QUESTIONS = (
    "Thanks for this! Quick question before I decide: what are the payment terms?",
    "Sounds interesting. How long would you need the usage rights for?",
    "Thanks! When would the content need to go live?",
    "Before I commit, can you tell me whether the content needs approval and how many revisions?",
)


# --- generating campaigns and influencers --------------------------------------------------------
def _campaign(rng: random.Random, index: int, influencers: int) -> Campaign:
    platform = rng.choice(list(Platform))
    min_cpm = Decimal(rng.randint(15, 30))
    max_cpm = min_cpm * (1 + _pct(rng, (10, 40)))
    packages = _PACKAGES[platform]
    target, minimum = rng.choice(
        (
            (UsageRightsDuration.DAYS_90, UsageRightsDuration.DAYS_30),
            (UsageRightsDuration.MONTHS_6, UsageRightsDuration.DAYS_60),
            (UsageRightsDuration.DAYS_30, UsageRightsDuration.DAYS_30),
            (UsageRightsDuration.NOT_REQUIRED, UsageRightsDuration.NOT_REQUIRED),
        )
    )
    has_product = rng.random() < 0.6
    return Campaign(
        campaign_id=f"sim-{index:04d}",
        client_name=rng.choice(_CLIENTS),
        budget=Decimal(influencers) * Decimal(3000),
        platform=platform,
        cpm_range=CPMRange(min_cpm=min_cpm, max_cpm=quantize_cents(max_cpm)),
        timeline=rng.choice((None, "Content live in the second half of April")),
        publish_date=date(2026, 4, rng.randint(10, 28)) if rng.random() < 0.6 else None,
        scenarios=DeliverableScenarios(
            scenario_1=packages[0], scenario_2=packages[1], scenario_3=packages[2]
        ),
        usage_rights=UsageRights(target=target, minimum=minimum),
        budget_constraints=BudgetConstraints(
            min_cost=Decimal(rng.choice((150, 250))) if rng.random() < 0.4 else None,
            max_cost_without_approval=Decimal(rng.choice((6000, 10000)))
            if rng.random() < 0.5
            else None,
        ),
        product=ProductLever(
            available=has_product,
            description="a full product bundle" if has_product else None,
            value=Decimal(rng.choice((60, 120, 250))) if has_product else None,
        ),
        requirements=Requirements(
            content_approval_required=rng.random() < 0.5, revision_rounds=rng.choice((0, 1, 2))
        ),
    )


def _influencer(
    rng: random.Random, index: int, campaign: Campaign, tracker: CampaignCPMTracker
) -> tuple[InfluencerTerms, SimulatedInfluencer]:
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    name = f"{first} {last}"
    address = f"{first.lower()}.{last.lower()}{index}@{rng.choice(('gmail.com', 'icloud.com'))}"
    views = rng.randint(5, 200) * 1000
    engagement = Decimal(rng.randint(10, 80)) / 10
    flex = tracker.get_flexibility(engagement)
    floor = rate_for_cpm(views, campaign.cpm_range.min_cpm)
    ceiling = max(rate_for_cpm(views, flex.max_allowed_cpm), floor)
    terms = InfluencerTerms(
        name=name,
        email=address,
        platform=campaign.platform,
        average_views=views,
        engagement_rate=engagement,
        floor_rate=floor,
        ceiling_rate=ceiling,
        max_allowed_cpm=flex.max_allowed_cpm,
    )
    persona = rng.choices(list(PERSONA_WEIGHTS), weights=list(PERSONA_WEIGHTS.values()))[0]
    reservation = quantize_cents(ceiling * _pct(rng, _RESERVATION_PCT[persona]))
    person = SimulatedInfluencer(
        persona=persona,
        name=name,
        email=address,
        reservation=reservation,
        followers=views * rng.randint(3, 12),
        rng=random.Random(rng.random()),
    )
    if persona is Persona.TALENT_MANAGER:
        agency = rng.choice(_AGENCIES)
        manager_first = rng.choice(("Jordan", "Casey", "Morgan", "Riley"))
        person.manager_name = f"{manager_first} Miles"
        person.agency = agency
        person.manager_email = f"{manager_first.lower()}@{agency.lower().replace(' ', '')}.com"
    return terms, person


# --- running ------------------------------------------------------------------------------------
@dataclass
class _Tally:
    final_states: Counter[str] = field(default_factory=Counter)
    escalations: Counter[str] = field(default_factory=Counter)
    by_persona: dict[str, Counter[str]] = field(default_factory=dict)
    rounds: list[int] = field(default_factory=list)
    agreed_cpms: list[Decimal] = field(default_factory=list)
    target_min: list[Decimal] = field(default_factory=list)
    target_max: list[Decimal] = field(default_factory=list)
    within_target: int = 0
    budget_used: Decimal = Decimal(0)
    budget_total: Decimal = Decimal(0)
    replies: int = 0
    emails_sent: int = 0
    engine_seconds: float = 0.0


def _negotiate(
    campaign: Campaign,
    terms: InfluencerTerms,
    person: SimulatedInfluencer,
    config: EngineConfig,
    thread_id: str,
    tally: _Tally,
    clock: Callable[[], float] | None,
) -> Outcome:
    now = START
    outcome = open_negotiation(thread_id, campaign, terms, config, now)
    tally.emails_sent += outcome.email is not None
    last_email = outcome.email
    while outcome.negotiation.is_waiting and last_email is not None:
        negotiation = outcome.negotiation
        text = person.answer(last_email, negotiation, campaign)
        if text is None:
            now += timedelta(days=config.policy.follow_up.first_after_days)
            nudge = follow_up_due(negotiation, now, campaign, config)
            if nudge is None:
                now += timedelta(days=config.policy.follow_up.stale_after_days)
                nudge = follow_up_due(negotiation, now, campaign, config)
            if nudge is None:  # nothing due: cannot happen while waiting; stop defensively
                break
            outcome = nudge
            tally.emails_sent += outcome.email is not None
            if outcome.action is not Action.FOLLOW_UP:
                break  # marked stale (or the follow-up failed the gate and escalated)
            last_email = outcome.email
            continue
        now += timedelta(hours=20)
        started = clock() if clock else 0.0
        reading = read_reply(
            text,
            confidence_threshold=config.policy.confidence_threshold,
            our_offer=negotiation.our_last_offer,
        )
        outcome = handle_reply(negotiation, reading, text, person.sender, campaign, config, now)
        if clock:
            tally.engine_seconds += clock() - started
        tally.replies += 1
        tally.emails_sent += outcome.email is not None and outcome.action is not Action.ESCALATE
        last_email = outcome.email
    return outcome


def _record(
    tally: _Tally, outcome: Outcome, campaign: Campaign, person: SimulatedInfluencer
) -> None:
    negotiation = outcome.negotiation
    state = negotiation.state.value
    tally.final_states[state] += 1
    tally.by_persona.setdefault(person.persona.value, Counter())[state] += 1
    tally.rounds.append(negotiation.round_count)
    if outcome.escalation is not None:
        tally.escalations[outcome.escalation.reason.value] += 1
    if negotiation.agreed_cpm is not None and negotiation.agreed_rate is not None:
        tally.agreed_cpms.append(negotiation.agreed_cpm)
        tally.target_min.append(campaign.cpm_range.min_cpm)
        tally.target_max.append(campaign.cpm_range.max_cpm)
        tally.within_target += negotiation.agreed_cpm <= campaign.cpm_range.max_cpm
        tally.budget_used += negotiation.agreed_rate


def _mean(values: list[Decimal]) -> str | None:
    if not values:
        return None
    return str(quantize_cents(sum(values, Decimal(0)) / len(values)))


def simulate(
    campaigns: int,
    influencers: int,
    seed: int,
    config: EngineConfig,
    clock: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Negotiate with `influencers` simulated influencers on each of `campaigns` campaigns.

    Returns a JSON-ready summary (Decimals as strings). Timing fields appear only with a clock."""
    if campaigns < 1 or influencers < 1:
        raise ValueError("campaigns and influencers must be at least 1")
    rng = random.Random(seed)
    tally = _Tally()
    started = clock() if clock else 0.0
    for c in range(campaigns):
        campaign = _campaign(rng, c, influencers)
        tally.budget_total += campaign.budget
        tracker = CampaignCPMTracker(
            campaign.campaign_id,
            campaign.cpm_range.min_cpm,
            campaign.cpm_range.max_cpm,
            influencers,
        )
        for i in range(influencers):
            terms, person = _influencer(rng, c * influencers + i, campaign, tracker)
            thread_id = f"{campaign.campaign_id}-{i:04d}"
            outcome = _negotiate(campaign, terms, person, config, thread_id, tally, clock)
            _record(tally, outcome, campaign, person)
            if outcome.negotiation.agreed_cpm is not None:
                tracker.record_agreement(outcome.negotiation.agreed_cpm, terms.engagement_rate)
    total = campaigns * influencers
    summary: dict[str, Any] = {
        "seed": seed,
        "campaigns": campaigns,
        "influencers_per_campaign": influencers,
        "negotiations": total,
        "final_states": dict(sorted(tally.final_states.items())),
        "escalation_reasons": dict(sorted(tally.escalations.items())),
        "final_states_by_persona": {
            persona: dict(sorted(states.items()))
            for persona, states in sorted(tally.by_persona.items())
        },
        "rounds": {
            "mean": str((Decimal(sum(tally.rounds)) / len(tally.rounds)).quantize(Decimal("0.01"))),
            "max": max(tally.rounds),
        },
        "close_rate": str((Decimal(len(tally.agreed_cpms)) / total).quantize(Decimal("0.001"))),
        "average_cpm_achieved": _mean(tally.agreed_cpms),
        "average_target_cpm_min": _mean(tally.target_min),
        "average_target_cpm_max": _mean(tally.target_max),
        "agreements_within_target_max": tally.within_target,
        "budget_used": str(tally.budget_used),
        "budget_total": str(tally.budget_total),
        "replies_processed": tally.replies,
        "emails_sent": tally.emails_sent,
    }
    if clock:
        elapsed = clock() - started
        summary["elapsed_seconds"] = round(elapsed, 3)
        summary["engine_seconds"] = round(tally.engine_seconds, 3)
        summary["replies_per_second"] = (
            round(tally.replies / tally.engine_seconds, 1) if tally.engine_seconds else None
        )
    return summary


# --- the sandbox: one simulated influencer per real thread ---------------------------------------
def influencer_for_thread(negotiation: Negotiation) -> SimulatedInfluencer:
    """The simulated person behind a stored negotiation (the Dagster sandbox answers our real
    emails with it). Persona and hidden reservation are seeded by the thread id, so every turn
    of a thread talks to the same person; what they said so far is restored from the record,
    and each turn gets its own seeded randomness (a re-run of a turn writes the same reply)."""
    terms = negotiation.terms
    rng = random.Random(f"sandbox-persona:{negotiation.thread_id}")
    persona = rng.choices(list(PERSONA_WEIGHTS), weights=list(PERSONA_WEIGHTS.values()))[0]
    person = SimulatedInfluencer(
        persona=persona,
        name=terms.name,
        email=terms.email,
        reservation=quantize_cents(terms.ceiling_rate * _pct(rng, _RESERVATION_PCT[persona])),
        followers=terms.average_views * rng.randint(3, 12),
        last_ask=negotiation.their_last_ask,
        asked_question=negotiation.replies_received > 0,
        replies=negotiation.replies_received,
        rng=random.Random(f"sandbox-turn:{negotiation.thread_id}:{negotiation.replies_received}"),
    )
    if persona is Persona.TALENT_MANAGER:
        agency = rng.choice(_AGENCIES)
        manager_first = rng.choice(("Jordan", "Casey", "Morgan", "Riley"))
        person.manager_name = f"{manager_first} Miles"
        person.agency = agency
        # The pipeline only listens to addresses the roster names for this influencer: the
        # manager writes from a listed manager address, else from the creator's own inbox.
        person.manager_email = terms.manager_emails[0] if terms.manager_emails else terms.email
    return person
