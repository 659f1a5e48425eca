"""What the engine returns (Outcome, Escalation), its configuration, and the escalation checks
that run before any answer is decided (keywords, currency, unclear intent, approval limit and
hard cap), with the human suggestion for each reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import Intent, NegotiationEvent
from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.negotiation.email_gate import GateResult
from negotiation_pipeline.domain.negotiation.emails import (
    EmailDecision,
    EmailTemplates,
    OutgoingEmail,
)
from negotiation_pipeline.domain.negotiation.held import DraftPurpose, EscalationNote, HeldDraft
from negotiation_pipeline.domain.negotiation.policy import (
    EscalationTriggers,
    Lever,
    NegotiationPolicy,
    hard_cap,
)
from negotiation_pipeline.domain.negotiation.record import (
    Action,
    AgreedPackage,
    EscalationReason,
    Negotiation,
    machine_fields,
    revised,
)
from negotiation_pipeline.domain.negotiation.state_machine import (
    HistoryEntry,
    NegotiationStateMachine,
)
from negotiation_pipeline.domain.reading.reader import ReplyReading
from negotiation_pipeline.domain.reading.vocabulary import CompiledVocabulary


@dataclass(frozen=True)
class Escalation:
    reason: EscalationReason
    detail: str  # one human sentence: what fired and why
    their_rate: Decimal | None
    our_rate: Decimal | None
    suggested_action: str
    draft: OutgoingEmail | None = None  # what we would have sent; a human may send it
    evidence: tuple[str, ...] = ()  # matched keywords or gate failures


@dataclass(frozen=True)
class Outcome:
    action: Action
    negotiation: Negotiation  # the updated record to store
    transitions: tuple[HistoryEntry, ...]  # applied by this call, in order
    reason: str  # why, for the audit trail
    email: OutgoingEmail | None = None  # to send now (never set together with escalation)
    escalation: Escalation | None = None
    gate: GateResult | None = None
    lever: Lever | None = None
    agreed_rate: Decimal | None = None
    agreed_cpm: Decimal | None = None  # on the agreed package's expected views
    agreed_package: AgreedPackage | None = None
    facts: dict[str, str] = field(default_factory=dict)  # the numbers behind the move (audit)
    # What `email` was rendered from: an email held for approval is checked against it again.
    decision: EmailDecision | None = None


@dataclass(frozen=True)
class EngineConfig:
    """Everything editable the engine needs, already parsed (loaded by settings/engine.py)."""

    policy: NegotiationPolicy
    triggers: EscalationTriggers
    templates: EmailTemplates
    vocabulary: CompiledVocabulary


class ReplyNotExpectedError(ValueError):
    """handle_reply was called for a negotiation that is not waiting for a reply."""


@dataclass(frozen=True)
class Trigger:
    reason: EscalationReason
    detail: str
    evidence: tuple[str, ...] = ()


def pre_checks(
    negotiation: Negotiation,
    reading: ReplyReading,
    campaign: Campaign,
    config: EngineConfig,
) -> Trigger | None:
    """Escalation triggers that do not depend on what we would answer, most serious first."""
    policy, triggers = config.policy, config.triggers
    for hit in triggers.keyword_hits(reading.new_text):
        reason = EscalationReason(hit.category.value)
        return Trigger(
            reason, f"{hit.category.value.replace('_', ' ')}: {hit.matched!r}", (hit.matched,)
        )
    if (
        triggers.currency_mismatch.enabled
        and reading.currency is not None
        and reading.currency.upper() != policy.currency
    ):
        shown = f"{reading.proposed_rate} {reading.currency}"
        return Trigger(EscalationReason.CURRENCY, f"amount in {reading.currency}: {shown}")
    unclear = reading.intent is Intent.UNCLEAR or reading.confidence < policy.confidence_threshold
    if unclear and (triggers.ambiguous_intent.enabled or reading.proposed_rate is None):
        detail = f"intent unclear (confidence {reading.confidence:.2f})"
        return Trigger(EscalationReason.UNCLEAR_INTENT, detail)
    ask = reading.proposed_rate
    if ask is None:
        return None
    limit = campaign.budget_constraints.max_cost_without_approval
    if limit is not None and ask > limit:
        detail = f"ask {format_usd(ask)} is above max cost without approval {format_usd(limit)}"
        return Trigger(EscalationReason.OVER_APPROVAL_LIMIT, detail)
    cap = hard_cap(negotiation.terms.ceiling_rate, policy)
    if cap is not None and ask > cap:
        return Trigger(
            EscalationReason.OVER_HARD_CAP,
            f"ask {format_usd(ask)} is above the hard cap {format_usd(cap)}",
        )
    return None


SUGGESTIONS: dict[EscalationReason, str] = {
    EscalationReason.OVER_APPROVAL_LIMIT: "approve their ask, or send the draft counter",
    EscalationReason.OVER_HARD_CAP: "decide whether this creator is worth it, or send the draft",
    EscalationReason.UNCLEAR_INTENT: "read the reply and answer it yourself",
    EscalationReason.LEGAL_LANGUAGE: "review the legal points before anything is sent",
    EscalationReason.HOSTILE_TONE: "take over the thread personally",
    EscalationReason.UNUSUAL_DELIVERABLES: "check whether the client wants the extra deliverables",
    EscalationReason.CURRENCY: "convert their ask to USD and reply with a USD figure",
    EscalationReason.MAX_ROUNDS: "make the final call: accept their ask, send the draft, or exit",
    EscalationReason.UNANSWERABLE_QUESTION: "answer the question (the draft covers what we know)",
    EscalationReason.VALIDATION_FAILED: "fix the draft (see evidence) and send it by hand",
    EscalationReason.NO_FEASIBLE_PRICE: "raise the ceiling or lower the campaign's minimum cost",
}


@dataclass(frozen=True)
class Planned:
    """The answer the engine had in mind when it escalated: a human may still send it."""

    action: Action
    decision: EmailDecision
    after: Negotiation  # the record once that answer is sent


def escalate(
    negotiation: Negotiation,
    machine: NegotiationStateMachine,
    start: int,
    trigger: Trigger,
    their_rate: Decimal | None,
    draft: OutgoingEmail | None,
    gate: GateResult | None = None,
    *,
    planned: Planned | None = None,
    ask_currency: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Escalate: the negotiation waits for a human, holding the draft (when there is one)
    together with what sending it would change."""
    machine.trigger(NegotiationEvent.ESCALATE)
    note = EscalationNote(
        reason=trigger.reason.value,
        detail=trigger.detail,
        suggested_action=SUGGESTIONS[trigger.reason],
        their_ask=their_rate,
        ask_currency=ask_currency,
        our_offer=negotiation.our_last_offer,
    )
    with_email = planned is not None and draft is not None
    held = HeldDraft(
        purpose=DraftPurpose.ESCALATION,
        action=planned.action.value if with_email and planned is not None else None,
        email=draft if with_email else None,
        decision=planned.decision if with_email and planned is not None else None,
        after=planned.after if with_email and planned is not None else None,
        reason=trigger.detail,
        held_at=now or negotiation.last_activity or datetime.now(UTC),
        escalation=note,
    )
    updated = revised(negotiation, **machine_fields(machine), held=held)
    escalation = Escalation(
        reason=trigger.reason,
        detail=trigger.detail,
        their_rate=their_rate,
        our_rate=negotiation.our_last_offer,
        suggested_action=SUGGESTIONS[trigger.reason],
        draft=draft,
        evidence=trigger.evidence,
    )
    return Outcome(
        action=Action.ESCALATE,
        negotiation=updated,
        transitions=tuple(machine.history[start:]),
        reason=trigger.detail,
        escalation=escalation,
        gate=gate,
    )
