"""The follow-up path: one nudge after a silence, then marking a silent thread stale.

`follow_up_due(negotiation, now, campaign, config)` returns the follow-up email's `Outcome`, the
`mark_stale` outcome, an escalation when the follow-up email fails the gate, or None when nothing
is due. Pure and deterministic; nothing is mutated.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import NegotiationEvent, NegotiationState
from negotiation_pipeline.domain.negotiation.decisions import email_decision
from negotiation_pipeline.domain.negotiation.email_gate import validate_email
from negotiation_pipeline.domain.negotiation.emails import EmailKind
from negotiation_pipeline.domain.negotiation.outcome import (
    EngineConfig,
    Outcome,
    Trigger,
    escalate,
)
from negotiation_pipeline.domain.negotiation.record import Action, EscalationReason, Negotiation


def follow_up_due(
    negotiation: Negotiation,
    now: datetime,
    campaign: Campaign,
    config: EngineConfig,
) -> Outcome | None:
    """After `first_after_days` of silence: one follow-up email (no state change). After a further
    `stale_after_days` of silence: transition timeout → stale (no email; the pipeline posts a Slack
    note). None when nothing is due."""
    if (
        negotiation.state not in (NegotiationState.AWAITING_REPLY, NegotiationState.COUNTER_SENT)
        or negotiation.last_activity is None
    ):
        return None
    silent = now - negotiation.last_activity
    timing = config.policy.follow_up
    machine = negotiation.machine()
    if negotiation.followups_sent == 0 and silent >= timedelta(days=timing.first_after_days):
        decision = email_decision(
            EmailKind.FOLLOW_UP,
            negotiation,
            campaign,
            config.policy,
            rate=negotiation.our_last_offer,
        )
        email = config.templates.render(decision)
        gate = validate_email(email, decision)
        if not gate.passed:
            trigger = Trigger(
                EscalationReason.VALIDATION_FAILED, "follow-up email failed the gate", gate.failures
            )
            return escalate(
                negotiation, machine, len(machine.history), trigger, None, email, gate, now=now
            )
        updated = replace(
            negotiation, followups_sent=1, last_activity=now, said=negotiation.said + email.said
        )
        days = silent.days
        return Outcome(
            Action.FOLLOW_UP,
            updated,
            (),
            f"no reply for {days} days",
            email,
            gate=gate,
            decision=decision,
        )
    if negotiation.followups_sent >= 1 and silent >= timedelta(days=timing.stale_after_days):
        machine.trigger(NegotiationEvent.TIMEOUT)
        updated = replace(negotiation.with_machine(machine), last_activity=now)
        reason = f"no reply for {silent.days} days after a follow-up"
        return Outcome(Action.MARK_STALE, updated, tuple(machine.history[-1:]), reason)
    return None
