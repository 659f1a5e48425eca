"""The negotiation engine: open a negotiation and answer a reply. Pure and deterministic.

Entry points (each returns an `Outcome` holding the updated `Negotiation`; nothing is mutated):
- `open_negotiation(thread_id, campaign, terms, config, now)`
- `handle_reply(negotiation, reading, reply_text, sender, campaign, config, now)`
- `apply_event(negotiation, event, now)` for pause / resume / stop and human resolutions
The follow-up path lives in follow_up.py, the counterparty detection in counterparty.py.

Every state change goes through NegotiationStateMachine (rebuilt from the stored snapshot). A
reply is always first recorded with `receive_reply` (waiting state → counter_received), then
exactly one of send_counter / accept / reject / escalate follows, so the history shows both
that a reply came in and what we did about it. The move itself comes from planning.py (the
strategy in concession.py); the records are in negotiation_record.py, the escalation checks
and outcome types in outcome.py.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import NegotiationEvent
from negotiation_pipeline.domain.money import format_usd, quantize_cents
from negotiation_pipeline.domain.negotiation.concession import grid_for, opening_offer
from negotiation_pipeline.domain.negotiation.counterparty import (
    classify_counterparty,
    counterparty_changes,
    recipient_name,
)
from negotiation_pipeline.domain.negotiation.decisions import email_decision
from negotiation_pipeline.domain.negotiation.email_gate import GateResult, validate_email
from negotiation_pipeline.domain.negotiation.emails import EmailKind, OutgoingEmail
from negotiation_pipeline.domain.negotiation.outcome import (
    EngineConfig,
    Escalation,
    Outcome,
    Planned,
    ReplyNotExpectedError,
    Trigger,
    escalate,
    pre_checks,
)
from negotiation_pipeline.domain.negotiation.planning import (
    Plan,
    agreed_terms,
    bounds_for,
    plan_reply,
)
from negotiation_pipeline.domain.negotiation.policy import (
    LeverState,
    NegotiationPolicy,
    apply_lever,
    next_lever,
)
from negotiation_pipeline.domain.negotiation.pricing import PackageBounds
from negotiation_pipeline.domain.negotiation.record import (
    Action,
    AgreedPackage,
    EscalationReason,
    InfluencerTerms,
    Negotiation,
    machine_fields,
    revised,
)
from negotiation_pipeline.domain.negotiation.state_machine import NegotiationStateMachine
from negotiation_pipeline.domain.reading.reader import ReplyReading

__all__ = [
    "Action",
    "AgreedPackage",
    "EngineConfig",
    "Escalation",
    "EscalationReason",
    "InfluencerTerms",
    "Negotiation",
    "Outcome",
    "ReplyNotExpectedError",
    "apply_event",
    "handle_reply",
    "open_negotiation",
]


# --- entry points --------------------------------------------------------------------------------
def open_negotiation(
    thread_id: str,
    campaign: Campaign,
    terms: InfluencerTerms,
    config: EngineConfig,
    now: datetime,
) -> Outcome:
    """Opening offer at the floor of scenario 1, rounded up to the policy's step (transition
    send_offer). When scenario 1 cannot be bought within its ceiling (its floor or the minimum
    cost is above the ceiling or the approval cap), the offer is for the first smaller package
    the lever order reaches that can (see `opening_package`). An escalation when no package
    fits, or when the email fails the gate."""
    negotiation = Negotiation(
        thread_id=thread_id,
        campaign_id=campaign.campaign_id,
        terms=terms,
        counterparty_email=terms.email,
        last_activity=now,
    )
    machine = negotiation.machine()
    policy = config.policy
    levers, bounds = opening_package(negotiation, campaign, policy)
    if not bounds.is_feasible:
        detail = (
            f"opening rate {format_usd(bounds.floor)} (floor or minimum cost) is above the "
            f"ceiling {format_usd(bounds.ceiling)}, and no smaller package fits its own"
        )
        trigger = Trigger(EscalationReason.NO_FEASIBLE_PRICE, detail)
        return escalate(negotiation, machine, 0, trigger, None, None, now=now)
    negotiation = revised(negotiation, levers=levers)
    rate = opening_offer(bounds, policy.concession)
    step = grid_for(bounds, policy.concession).step
    decision = email_decision(
        EmailKind.OPENING, negotiation, campaign, policy, rate=rate, rounding_step=step
    )
    email = config.templates.render(decision)
    gate = validate_email(email, decision)
    if not gate.passed:
        trigger = Trigger(
            EscalationReason.VALIDATION_FAILED, "opening email failed the gate", gate.failures
        )
        planned = Planned(Action.SEND_OFFER, decision, _opened(negotiation, rate, email))
        return escalate(
            negotiation, machine, 0, trigger, None, email, gate, planned=planned, now=now
        )
    machine.trigger(NegotiationEvent.SEND_OFFER)
    updated = _opened(negotiation.with_machine(machine), rate, email)
    facts = {
        "rule": _opening_rule(levers),
        "package": bounds.package.describe(),
        "expected_views": f"{bounds.expected_views:,}",
        "floor": format_usd(bounds.floor),
        "ceiling": format_usd(bounds.ceiling),
        "offer": format_usd(rate),
    }
    return Outcome(
        action=Action.SEND_OFFER,
        negotiation=updated,
        transitions=tuple(machine.history),
        reason=f"open at the floor {format_usd(rate)} with scenario 1",
        email=email,
        gate=gate,
        facts=facts,
        decision=decision,
    )


def opening_package(
    negotiation: Negotiation, campaign: Campaign, policy: NegotiationPolicy
) -> tuple[LeverState, PackageBounds]:
    """The package the first offer is for: scenario 1 when it can be bought within its ceiling,
    else the first package the configured lever order reaches that can, those levers spent (an
    influencer whose scenario 1 is beyond the approval cap is offered less work for less money,
    never a price above a ceiling). Scenario 1 and its bounds when no package fits."""
    first = bounds_for(negotiation, LeverState(), campaign, policy)
    levers, bounds = LeverState(), first
    order = policy.concession.lever_order
    while not bounds.is_feasible:
        lever = next_lever(levers, campaign, order)
        if lever is None:
            return LeverState(), first
        levers = apply_lever(levers, lever, campaign)
        bounds = bounds_for(negotiation, levers, campaign, policy)
    return levers, bounds


def _opening_rule(levers: LeverState) -> str:
    if not levers.used:
        return "open at the floor of scenario 1 (curve point 0)"
    spent = ", ".join(lever.value for lever in levers.used)
    return (
        "open at the floor of the first package that fits its ceiling (curve point 0): "
        f"scenario 1 does not, so the opening already uses {spent}"
    )


def _opened(negotiation: Negotiation, rate: Decimal, email: OutgoingEmail) -> Negotiation:
    """The record once the opening offer at `rate` is sent (its state set by the caller)."""
    return revised(negotiation, our_last_offer=rate, offers=(rate,), said=email.said)


def _carried_out(
    negotiation: Negotiation,
    plan: Plan,
    email: OutgoingEmail | None,
    campaign: Campaign,
    config: EngineConfig,
) -> Negotiation:
    """The record once `plan` went through from `negotiation` (a reply just received): the
    plan's transition, its email's effects, the agreed terms when it agrees."""
    machine = negotiation.machine()
    machine.trigger(plan.event)
    changes = _applied(negotiation, plan, email)
    if plan.agreed_rate is not None:
        package, agreed_cpm = agreed_terms(negotiation, campaign, config.policy, plan.agreed_rate)
        changes.update(agreed_rate=plan.agreed_rate, agreed_cpm=agreed_cpm, agreed_package=package)
    return revised(negotiation, **machine_fields(machine), **changes)


def _planned(
    negotiation: Negotiation,
    machine: NegotiationStateMachine,
    plan: Plan | None,
    email: OutgoingEmail | None,
    campaign: Campaign,
    config: EngineConfig,
) -> Planned | None:
    """What the plan would have done, kept with an escalation so a human can send it."""
    if plan is None or plan.decision is None or email is None:
        return None
    if plan.event not in (
        NegotiationEvent.SEND_COUNTER,
        NegotiationEvent.ACCEPT,
        NegotiationEvent.REJECT,
    ):
        return None
    after = _carried_out(negotiation.with_machine(machine), plan, email, campaign, config)
    return Planned(plan.action, plan.decision, after)


def _applied(negotiation: Negotiation, plan: Plan, email: OutgoingEmail | None) -> dict[str, Any]:
    """The record's fields that change once a plan went through (its email, if any, is sent)."""
    said = negotiation.said + (email.said if email is not None else ())
    if plan.event is NegotiationEvent.SEND_COUNTER:
        assert plan.offer is not None
        return {
            "round_count": negotiation.round_count + 1,
            "our_last_offer": plan.offer,
            "offers": (*negotiation.offers, plan.offer),
            "levers": plan.levers or negotiation.levers,
            "followups_sent": 0,
            "said": said,
        }
    return {"said": said}


def handle_reply(
    negotiation: Negotiation,
    reading: ReplyReading,
    reply_text: str,
    sender: str,
    campaign: Campaign,
    config: EngineConfig,
    now: datetime,
) -> Outcome:
    """Decide and render our answer to one reply. Raises ReplyNotExpectedError unless the
    negotiation waits for a reply (awaiting_reply, counter_sent, stale)."""
    if not negotiation.is_waiting:
        raise ReplyNotExpectedError(
            f"negotiation {negotiation.thread_id} is {negotiation.state.value}, "
            "not waiting for a reply"
        )
    policy = config.policy
    usd_ask = (
        reading.proposed_rate if (reading.currency or policy.currency) == policy.currency else None
    )
    ask = None if usd_ask is None else quantize_cents(usd_ask)
    party = classify_counterparty(sender, reply_text, negotiation.terms)
    changes = counterparty_changes(negotiation, party)
    answering = changes.get("counterparty_email", negotiation.counterparty_email)
    negotiation = revised(
        negotiation,
        **changes,
        replies_received=negotiation.replies_received + 1,
        their_last_ask=ask if ask is not None else negotiation.their_last_ask,
        last_activity=now,
        recipient_name=recipient_name(sender, answering, negotiation.recipient_name),
    )
    machine = negotiation.machine()
    start = len(machine.history)
    machine.trigger(NegotiationEvent.RECEIVE_REPLY)

    trigger = pre_checks(negotiation, reading, campaign, config)
    plan = None
    if trigger is None or trigger.reason is not EscalationReason.UNCLEAR_INTENT:
        plan = plan_reply(negotiation, reading, ask, campaign, policy)
        if ask is not None and plan.ask_per_1k is not None:
            asked = (ask, plan.ask_per_1k, len(negotiation.levers.used))
            negotiation = revised(negotiation, asks=(*negotiation.asks, asked))
    email = (
        None if plan is None or plan.decision is None else config.templates.render(plan.decision)
    )

    def held_back(
        trigger: Trigger, their_rate: Decimal | None, gate: GateResult | None = None
    ) -> Outcome:
        # What the plan would have done matters only to a human taking over, so the record
        # after it is built here, on the escalation path alone (nothing has moved since).
        planned = _planned(negotiation, machine, plan, email, campaign, config)
        return escalate(
            negotiation,
            machine,
            start,
            trigger,
            their_rate,
            email,
            gate,
            planned=planned,
            ask_currency=reading.currency,
            now=now,
        )

    if trigger is not None:
        return held_back(trigger, reading.proposed_rate)
    assert plan is not None
    if plan.escalation is not None:
        return held_back(Trigger(plan.escalation, plan.reason), ask)
    sends_counter = plan.event is NegotiationEvent.SEND_COUNTER
    if sends_counter and negotiation.round_count >= policy.max_rounds:
        detail = f"more than {policy.max_rounds} rounds: a human makes the final call"
        return held_back(Trigger(EscalationReason.MAX_ROUNDS, detail), ask)
    gate = None
    if email is not None and plan.decision is not None:
        gate = validate_email(email, plan.decision)
        if not gate.passed:
            trigger = Trigger(
                EscalationReason.VALIDATION_FAILED,
                f"{plan.action.value} email failed the gate",
                gate.failures,
            )
            return held_back(trigger, ask, gate)
    machine.trigger(plan.event)
    changes = _applied(negotiation, plan, email)
    agreed_cpm = package = None
    if plan.agreed_rate is not None:
        package, agreed_cpm = agreed_terms(negotiation, campaign, policy, plan.agreed_rate)
        changes.update(agreed_rate=plan.agreed_rate, agreed_cpm=agreed_cpm, agreed_package=package)
    updated = revised(negotiation, **machine_fields(machine), **changes)
    return Outcome(
        action=plan.action,
        negotiation=updated,
        transitions=tuple(machine.history[start:]),
        reason=plan.reason,
        email=email,
        gate=gate,
        lever=plan.lever,
        agreed_rate=plan.agreed_rate,
        agreed_cpm=agreed_cpm,
        agreed_package=package,
        facts=plan.facts,
        decision=plan.decision if email is not None else None,
    )


def apply_event(negotiation: Negotiation, event: NegotiationEvent, now: datetime) -> Negotiation:
    """Apply a control event (pause, resume, stop) or a human resolution of an escalation
    (resume_counter, accept, reject) through the state machine. Raises InvalidTransitionError."""
    machine = negotiation.machine()
    machine.trigger(event)
    return revised(negotiation, **machine_fields(machine), last_activity=now)
