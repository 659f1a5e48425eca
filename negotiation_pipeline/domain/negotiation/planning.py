"""The plan for one reply: which move the strategy makes and which email says it.

Pure: the package on the table and its bounds come from the negotiation record and the campaign
(pricing.py), the move from concession.py, the email content from decisions.py. negotiation.py
runs the escalation checks and the gate around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import Intent, NegotiationEvent
from negotiation_pipeline.domain.money import cpm_for_rate
from negotiation_pipeline.domain.negotiation.concession import (
    LeverOption,
    Move,
    MoveKind,
    PricedTerm,
    Situation,
    decide,
    grid_for,
)
from negotiation_pipeline.domain.negotiation.decisions import (
    answerable,
    asked_topics,
    deliverables,
    email_decision,
)
from negotiation_pipeline.domain.negotiation.emails import EmailDecision, EmailKind
from negotiation_pipeline.domain.negotiation.policy import (
    Lever,
    LeverState,
    NegotiationPolicy,
    QuestionTopic,
    apply_lever,
    lever_available,
)
from negotiation_pipeline.domain.negotiation.pricing import (
    Package,
    PackageBounds,
    ScenarioPrice,
    package_bounds,
    scenario_prices,
)
from negotiation_pipeline.domain.negotiation.record import (
    Action,
    AgreedPackage,
    EscalationReason,
    Negotiation,
)
from negotiation_pipeline.domain.reading.reader import ReplyReading


def package_of(levers: LeverState, campaign: Campaign) -> Package:
    return Package(levers.scenario, levers.usage(campaign), levers.product_offered)


def bounds_for(
    negotiation: Negotiation, levers: LeverState, campaign: Campaign, policy: NegotiationPolicy
) -> PackageBounds:
    """Floor and ceiling of the package `levers` describe, for this influencer."""
    return _bounds_in(_prices(negotiation, campaign, policy), levers, campaign, policy)


def _prices(
    negotiation: Negotiation, campaign: Campaign, policy: NegotiationPolicy
) -> dict[int, ScenarioPrice]:
    terms = negotiation.terms
    return scenario_prices(
        terms.scenarios,
        campaign=campaign,
        valuation=policy.package_value,
        average_views=terms.average_views,
        floor_rate=terms.floor_rate,
        ceiling_rate=terms.ceiling_rate,
    )


def _bounds_in(
    prices: dict[int, ScenarioPrice],
    levers: LeverState,
    campaign: Campaign,
    policy: NegotiationPolicy,
) -> PackageBounds:
    price = prices.get(levers.scenario) or prices[min(prices)]
    return package_bounds(package_of(levers, campaign), price, campaign, policy.package_value)


def lever_options(
    negotiation: Negotiation, campaign: Campaign, policy: NegotiationPolicy
) -> tuple[LeverOption, ...]:
    """Every lever still usable, in the configured order, with the package it leads to."""
    prices = _prices(negotiation, campaign, policy)
    options = []
    for lever in policy.concession.lever_order:
        if not lever_available(lever, negotiation.levers, campaign):
            continue
        after = apply_lever(negotiation.levers, lever, campaign)
        bounds = _bounds_in(prices, after, campaign, policy)
        if bounds.is_feasible:
            worth = campaign.product.value if lever is Lever.PRODUCT else None
            options.append(LeverOption(lever, after, bounds, product_value=worth))
    return tuple(options)


def agreed_terms(
    negotiation: Negotiation, campaign: Campaign, policy: NegotiationPolicy, rate: Decimal
) -> tuple[AgreedPackage, Decimal]:
    """The package an agreement at `rate` buys, and the CPM achieved on its expected views."""
    levers = negotiation.levers
    bounds = bounds_for(negotiation, levers, campaign, policy)
    package = AgreedPackage(
        scenario=levers.scenario,
        deliverables=deliverables(campaign, levers.scenario),
        usage_rights=levers.usage(campaign),
        product=levers.product_offered,
        expected_views=bounds.expected_views,
    )
    return package, cpm_for_rate(rate, bounds.expected_views)


@dataclass(frozen=True)
class Plan:
    """What we would do about a reply before escalation checks and the gate."""

    action: Action
    event: NegotiationEvent  # after receive_reply
    reason: str
    decision: EmailDecision | None = None
    offer: Decimal | None = None  # new offer when we send one
    levers: LeverState | None = None
    lever: Lever | None = None
    agreed_rate: Decimal | None = None
    escalation: EscalationReason | None = None  # the plan itself needs a human
    facts: dict[str, str] = field(default_factory=dict)  # the numbers behind the move
    ask_per_1k: Decimal | None = None  # their ask per 1,000 value-weighted views


def _agreement(
    negotiation: Negotiation,
    campaign: Campaign,
    policy: NegotiationPolicy,
    rate: Decimal,
    reason: str,
    facts: dict[str, str] | None = None,
) -> Plan:
    decision = email_decision(EmailKind.AGREEMENT, negotiation, campaign, policy, rate=rate)
    return Plan(
        Action.ACCEPT,
        NegotiationEvent.ACCEPT,
        reason,
        decision,
        agreed_rate=rate,
        facts=facts or {},
    )


def _decline(negotiation: Negotiation, campaign: Campaign, policy: NegotiationPolicy) -> Plan:
    decision = None
    if policy.decline.send_close:
        decision = email_decision(EmailKind.DECLINE, negotiation, campaign, policy, rate=None)
    return Plan(Action.REJECT, NegotiationEvent.REJECT, "the influencer declined", decision)


def _questions(
    negotiation: Negotiation,
    campaign: Campaign,
    policy: NegotiationPolicy,
    topics: tuple[QuestionTopic, ...],
    last_offer: Decimal,
) -> Plan:
    answered = tuple(t for t in topics if answerable(t, campaign, policy))
    decision = email_decision(
        EmailKind.ANSWER, negotiation, campaign, policy, rate=last_offer, topics=answered
    )
    if not topics or len(answered) < len(topics):
        missing = [t.value for t in topics if t not in answered] or ["(topic not recognised)"]
        reason = f"question we cannot answer from campaign facts: {', '.join(missing)}"
        return Plan(
            Action.ESCALATE,
            NegotiationEvent.ESCALATE,
            reason,
            decision if answered else None,
            escalation=EscalationReason.UNANSWERABLE_QUESTION,
        )
    reason = f"answer questions about {', '.join(t.value for t in topics)}"
    return Plan(
        Action.ANSWER_QUESTION, NegotiationEvent.SEND_COUNTER, reason, decision, offer=last_offer
    )


def _from_move(
    move: Move,
    negotiation: Negotiation,
    campaign: Campaign,
    policy: NegotiationPolicy,
    ask: Decimal | None,
    topics: tuple[QuestionTopic, ...],
    bounds: PackageBounds,
) -> Plan:
    """The plan carrying out `move`; `bounds`: the package on the table."""
    last_offer = negotiation.our_last_offer
    assert last_offer is not None and move.rate is not None
    if move.kind is MoveKind.ACCEPT:
        return _agreement(negotiation, campaign, policy, move.rate, move.reason, move.facts)
    if move.kind is MoveKind.EXIT:
        decision = email_decision(EmailKind.EXIT, negotiation, campaign, policy, rate=last_offer)
        return Plan(Action.EXIT, NegotiationEvent.REJECT, move.reason, decision, facts=move.facts)
    if move.kind is MoveKind.LEVER:
        assert move.lever is not None
        decision = email_decision(
            EmailKind.LEVER,
            negotiation,
            campaign,
            policy,
            rate=move.rate,
            their_ask=ask,
            levers=move.lever.levers_after,
            lever=move.lever.lever,
            topics=topics,
            rounding_step=grid_for(move.lever.bounds, policy.concession).step,
        )
        return Plan(
            Action.SEND_COUNTER,
            NegotiationEvent.SEND_COUNTER,
            move.reason,
            decision,
            offer=move.rate,
            levers=move.lever.levers_after,
            lever=move.lever.lever,
            facts=move.facts,
        )
    decision = email_decision(
        EmailKind.COUNTER,
        negotiation,
        campaign,
        policy,
        rate=move.rate,
        their_ask=ask,
        topics=topics,
        final_offer=move.final,
        offer_moved=move.rate > last_offer,
        rounding_step=grid_for(bounds, policy.concession).step,
    )
    return Plan(
        Action.SEND_COUNTER,
        NegotiationEvent.SEND_COUNTER,
        move.reason,
        decision,
        offer=move.rate,
        facts=move.facts,
    )


def _previous_offer(negotiation: Negotiation) -> Decimal | None:
    """Our offer before the last one when both were for the package on the table (two of their
    asks for it mean we made two offers for it)."""
    generation = len(negotiation.levers.used)
    same = sum(1 for *_, used in negotiation.asks if used == generation)
    return negotiation.offers[-2] if same >= 1 and len(negotiation.offers) >= 2 else None


def answered_offers(negotiation: Negotiation) -> tuple[Decimal | None, ...]:
    """The offer each of their recorded asks answered, when the record tells: every reply so far
    (the one being handled included) named an amount and got exactly one offer from us, so ask
    i answered offer i. A question, an escalation or a human's turn in between leaves each one
    unknown (None)."""
    asked = len(negotiation.asks)
    aligned = negotiation.replies_received == asked + 1 and len(negotiation.offers) == asked + 1
    return negotiation.offers[:asked] if aligned else (None,) * asked


def plan_reply(
    negotiation: Negotiation,
    reading: ReplyReading,
    ask: Decimal | None,
    campaign: Campaign,
    policy: NegotiationPolicy,
) -> Plan:
    last_offer = negotiation.our_last_offer
    assert last_offer is not None, "a waiting negotiation always has an offer"
    intent = reading.intent
    if intent is Intent.REJECT:
        return _decline(negotiation, campaign, policy)
    if intent is Intent.ACCEPT and (ask is None or ask <= last_offer):
        agreed = last_offer if ask is None else min(ask, last_offer)
        return _agreement(negotiation, campaign, policy, agreed, "the influencer accepted")
    topics = asked_topics(reading.new_text, policy)
    if intent is Intent.QUESTION and ask is None:
        return _questions(
            negotiation, campaign, policy, topics or policy.topics_in(reading.new_text), last_offer
        )
    bounds = bounds_for(negotiation, negotiation.levers, campaign, policy)
    situation = Situation(
        bounds=bounds,
        last_offer=last_offer,
        round=negotiation.round_count,
        max_rounds=policy.max_rounds,
        asks=tuple(
            PricedTerm(amount, per_1k, levers, answered)
            for (amount, per_1k, levers), answered in zip(
                negotiation.asks, answered_offers(negotiation), strict=True
            )
        ),
        levers_used=len(negotiation.levers.used),
        previous_offer=_previous_offer(negotiation),
        # The levers answer only an ask above the package's ceiling; pricing them is skipped
        # for every other reply.
        lever_options=lever_options(negotiation, campaign, policy)
        if ask is not None and ask > bounds.ceiling
        else (),
    )
    move = decide(situation, ask, policy.concession)
    answered = tuple(t for t in topics if answerable(t, campaign, policy))
    plan = _from_move(move, negotiation, campaign, policy, ask, answered, bounds)
    return replace(plan, ask_per_1k=None if ask is None else bounds.price_per_1k(ask))
