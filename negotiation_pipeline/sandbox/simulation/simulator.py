"""Simulated influencers: run whole negotiations in-process against seeded counterparts.

Half the population are today's personas (sim_personas.py), half the standard opponents of the
automated-negotiation literature (opponents.py: time-dependent Boulware, Conceder and Linear
tacticians, tit-for-tat, hardliner, anchoring-then-folding), each with a hidden reservation
price. They answer our emails in prose, with our email quoted underneath Gmail-style, and the
real engine handles every reply: the reply reader, handle_reply (strategy, email rendering,
validation gate) and follow-ups. The engine only ever sees the text, exactly as in production.
Each influencer's terms come from the real `cpm_flexibility` row builder.

Pure and deterministic for a given seed: randomness comes from one `random.Random(seed)`; time
is simulated. A `clock` may be passed to measure throughput (the CLI and bench do that).
Campaigns may run in several processes (parallel.py) with the same summary as in one.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from negotiation_pipeline.domain.campaigns.campaign import (
    Campaign,
)
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker
from negotiation_pipeline.domain.money import quantize_cents
from negotiation_pipeline.domain.negotiation.emails import OutgoingEmail
from negotiation_pipeline.domain.negotiation.engine import (
    Action,
    EngineConfig,
    InfluencerTerms,
    Negotiation,
    Outcome,
    handle_reply,
    open_negotiation,
)
from negotiation_pipeline.domain.negotiation.follow_up import follow_up_due
from negotiation_pipeline.domain.negotiation.pricing import offered_items
from negotiation_pipeline.domain.reading.reader import read_reply
from negotiation_pipeline.sandbox.simulation.metrics import (
    OfferPoint,
    TypeTally,
    lever_path,
    package_limit,
    record_negotiation,
)
from negotiation_pipeline.sandbox.simulation.opponents import OpponentType
from negotiation_pipeline.sandbox.simulation.parallel import can_fork, inherited, map_in_order
from negotiation_pipeline.sandbox.simulation.personas import (
    PERSONA_WEIGHTS,
    RESERVATION_PCT,
    START,
    Persona,
    SimulatedInfluencer,
)
from negotiation_pipeline.sandbox.simulation.phrasing import (
    ACCEPTS as _ACCEPTS,  # noqa: F401  (the reply reader's tests read the accept phrases here)
)
from negotiation_pipeline.sandbox.simulation.phrasing import pct
from negotiation_pipeline.sandbox.simulation.population import (
    OPPONENT_SHARE,
    Counterpart,
    generate_campaign,
    generate_opponent,
    generate_persona,
    generate_terms,
    give_manager,
    kind_of,
)
from negotiation_pipeline.sandbox.simulation.tally import Tally, summary_of

__all__ = [
    "PERSONA_WEIGHTS",
    "OpponentType",
    "Persona",
    "Run",
    "SimulatedInfluencer",
    "closeable",
    "influencer_for_thread",
    "simulate",
]


# --- running ------------------------------------------------------------------------------------
@dataclass
class Run:
    """One negotiation: the counterpart and every amount we put on the table (with the ask each
    answered), as the metrics and `simulate(observe=...)` analyses see it."""

    campaign: Campaign
    terms: InfluencerTerms
    person: Counterpart
    config: EngineConfig
    points: list[OfferPoint] = field(default_factory=list)

    def limit(self, negotiation: Negotiation) -> tuple[Decimal, Decimal]:
        limit = package_limit(self.terms, self.campaign, negotiation.levers, self.config.policy)
        return limit.value_views, limit.ceiling

    def note(self, outcome: Outcome, ask: Decimal | None) -> None:
        negotiation = outcome.negotiation
        if outcome.action in (Action.SEND_OFFER, Action.SEND_COUNTER):
            amount, agreement = negotiation.our_last_offer, False
        elif outcome.action is Action.ACCEPT:
            amount, agreement = outcome.agreed_rate, True
        else:
            return
        assert amount is not None
        value, ceiling = self.limit(negotiation)
        self.points.append(OfferPoint(amount, value, ceiling, ask, agreement))

    def answer(self, email: OutgoingEmail, negotiation: Negotiation) -> str | None:
        if isinstance(self.person, SimulatedInfluencer):
            return self.person.answer(email, negotiation, self.campaign)
        value, _ = self.limit(negotiation)
        return self.person.answer(email, negotiation, self.campaign, value)


def _follow_up(run: Run, negotiation: Negotiation, now: Any) -> tuple[Outcome | None, Any]:
    timing = run.config.policy.follow_up
    now += timedelta(days=timing.first_after_days)
    nudge = follow_up_due(negotiation, now, run.campaign, run.config)
    if nudge is None:
        now += timedelta(days=timing.stale_after_days)
        nudge = follow_up_due(negotiation, now, run.campaign, run.config)
    return nudge, now


def _negotiate(
    run: Run, thread_id: str, tally: Tally, clock: Callable[[], float] | None
) -> Outcome:
    config, campaign = run.config, run.campaign
    now = START
    outcome = open_negotiation(thread_id, campaign, run.terms, config, now)
    run.note(outcome, None)
    tally.emails_sent += outcome.email is not None
    last_email = outcome.email
    while outcome.negotiation.is_waiting and last_email is not None:
        negotiation = outcome.negotiation
        text = run.answer(last_email, negotiation)
        if text is None:
            nudge, now = _follow_up(run, negotiation, now)
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
            vocabulary=config.vocabulary,
            package=offered_items(campaign, negotiation.levers.scenario),
        )
        outcome = handle_reply(negotiation, reading, text, run.person.sender, campaign, config, now)
        if clock:
            tally.engine_seconds += clock() - started
        usd = reading.currency in (None, config.policy.currency)
        run.note(outcome, reading.proposed_rate if usd else None)
        tally.replies += 1
        tally.emails_sent += outcome.email is not None and outcome.action is not Action.ESCALATE
        last_email = outcome.email
    return outcome


def closeable(run: Run) -> bool:
    """Their hidden reservation is at or below our ceiling for some package on our lever path."""
    policy = run.config.policy
    for levers in lever_path(run.campaign, policy):
        limit = package_limit(run.terms, run.campaign, levers, policy)
        if run.person.reservation_for(levers, run.campaign) <= limit.ceiling:
            return True
    return False


def _surplus(run: Run, negotiation: Negotiation) -> Decimal | None:
    assert negotiation.agreed_rate is not None
    levers = negotiation.levers
    ceiling = package_limit(run.terms, run.campaign, levers, run.config.policy).ceiling
    reservation = run.person.reservation_for(levers, run.campaign)
    if ceiling <= reservation:
        return None
    return (ceiling - negotiation.agreed_rate) / (ceiling - reservation)


def _record(tally: Tally, outcome: Outcome, run: Run) -> None:
    negotiation, campaign = outcome.negotiation, run.campaign
    state = negotiation.state.value
    tally.final_states[state] += 1
    if isinstance(run.person, SimulatedInfluencer):
        tally.by_persona.setdefault(run.person.persona.value, Counter())[state] += 1
    tally.rounds.append(negotiation.round_count)
    if outcome.escalation is not None:
        tally.escalations[outcome.escalation.reason.value] += 1
    agreed = negotiation.agreed_cpm is not None and negotiation.agreed_rate is not None
    record_negotiation(
        tally.by_type.setdefault(kind_of(run.person), TypeTally()),
        points=run.points,
        step=run.config.policy.concession.round_to,
        rounds=negotiation.round_count,
        closeable=closeable(run),
        agreed_surplus=(lambda: _surplus(run, negotiation)) if agreed else None,
    )
    if agreed:
        assert negotiation.agreed_cpm is not None and negotiation.agreed_rate is not None
        tally.agreed_cpms.append(negotiation.agreed_cpm)
        tally.target_min.append(campaign.cpm_range.min_cpm)
        tally.target_max.append(campaign.cpm_range.max_cpm)
        tally.within_target += negotiation.agreed_cpm <= campaign.cpm_range.max_cpm
        tally.budget_used += negotiation.agreed_rate


def _new_tracker(campaign: Campaign, influencers: int) -> CampaignCPMTracker:
    cpm = campaign.cpm_range
    return CampaignCPMTracker(campaign.campaign_id, cpm.min_cpm, cpm.max_cpm, influencers)


def _cast(
    rng: random.Random,
    index: int,
    campaign: Campaign,
    tracker: CampaignCPMTracker,
    config: EngineConfig,
) -> tuple[InfluencerTerms, Counterpart]:
    """The next influencer's terms and who answers for them (a persona or an opponent)."""
    terms = generate_terms(rng, index, campaign, tracker, config)
    standard = rng.random() < OPPONENT_SHARE
    person = generate_opponent(rng, terms) if standard else generate_persona(rng, terms)
    return terms, person


def _run_campaign(
    c: int,
    influencers: int,
    rng: random.Random,
    config: EngineConfig,
    clock: Callable[[], float] | None,
    observe: Callable[[Run, Outcome], None] | None,
) -> Tally:
    """Campaign `c`, drawn from `rng` (which it advances), negotiated with every influencer."""
    tally = Tally()
    campaign = generate_campaign(rng, c, influencers)
    tally.budget_total += campaign.budget
    tracker = _new_tracker(campaign, influencers)
    for i in range(influencers):
        terms, person = _cast(rng, c * influencers + i, campaign, tracker, config)
        run = Run(campaign, terms, person, config)
        outcome = _negotiate(run, f"{campaign.campaign_id}-{i:04d}", tally, clock)
        _record(tally, outcome, run)
        if observe is not None:
            observe(run, outcome)
        if outcome.negotiation.agreed_cpm is not None:
            tracker.record_agreement(outcome.negotiation.agreed_cpm, terms.engagement_rate)
    return tally


def _skip_campaign(c: int, influencers: int, rng: random.Random, config: EngineConfig) -> None:
    """Advance `rng` past campaign `c` without negotiating: the same draws, in the same order
    (a fresh tracker stands in for the agreements, which change no draw)."""
    campaign = generate_campaign(rng, c, influencers)
    tracker = _new_tracker(campaign, influencers)
    for i in range(influencers):
        _cast(rng, c * influencers + i, campaign, tracker, config)


def _campaign_in_worker(job: tuple[int, int, Any]) -> tuple[Tally, Any]:
    c, influencers, state = job
    rng = random.Random()
    rng.setstate(state)
    tally = _run_campaign(c, influencers, rng, inherited("config"), inherited("clock"), None)
    return tally, rng.getstate()


def _run_in_workers(
    tally: Tally,
    campaigns: int,
    influencers: int,
    rng: random.Random,
    config: EngineConfig,
    clock: Callable[[], float] | None,
    workers: int,
) -> None:
    starts = []
    for c in range(campaigns):
        starts.append(rng.getstate())
        _skip_campaign(c, influencers, rng, config)
    ends = [*starts[1:], rng.getstate()]
    jobs = [(c, influencers, state) for c, state in enumerate(starts)]
    shared = {"config": config, "clock": clock}
    for c, (done, end) in enumerate(map_in_order(_campaign_in_worker, jobs, workers, shared)):
        if end != ends[c]:
            raise RuntimeError(
                f"campaign {c} drew differently once negotiated than when replayed: its draws "
                "depend on its negotiations, so it cannot run apart (use one worker)"
            )
        tally.add(done)


def simulate(
    campaigns: int,
    influencers: int,
    seed: int,
    config: EngineConfig,
    clock: Callable[[], float] | None = None,
    observe: Callable[[Run, Outcome], None] | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Negotiate with `influencers` simulated influencers on each of `campaigns` campaigns.

    Returns a JSON-ready summary (Decimals as strings), with `by_opponent` (the per-type table,
    see metrics.py) and `by_opponent_markdown`. Timing fields appear only with a clock.
    `observe` is called with each finished negotiation (its run and last outcome). With
    `workers` > 1 the campaigns run in that many forked processes (see parallel.py); the
    summary is the same as with one, only the timings differ."""
    if campaigns < 1 or influencers < 1:
        raise ValueError("campaigns and influencers must be at least 1")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if observe is not None and workers > 1:
        raise ValueError("observe needs the negotiations in this process (workers=1)")
    rng = random.Random(seed)
    started = clock() if clock else 0.0
    tally = Tally()
    if workers == 1 or not can_fork():
        for c in range(campaigns):
            tally.add(_run_campaign(c, influencers, rng, config, clock, observe))
    else:
        _run_in_workers(tally, campaigns, influencers, rng, config, clock, workers)
    summary = summary_of(tally, seed, campaigns, influencers)
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
        reservation=quantize_cents(terms.ceiling_rate * pct(rng, RESERVATION_PCT[persona])),
        followers=terms.average_views * rng.randint(3, 12),
        last_ask=negotiation.their_last_ask,
        asked_question=negotiation.replies_received > 0,
        replies=negotiation.replies_received,
        rng=random.Random(f"sandbox-turn:{negotiation.thread_id}:{negotiation.replies_received}"),
    )
    if persona is Persona.TALENT_MANAGER:
        give_manager(rng, person, terms)
    return person
