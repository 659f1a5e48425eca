"""Audit entries written by the workflow services, built from engine outcomes.

Every state change writes one `state_transition` entry holding the transitions applied, the
action, the engine's reason and the Message-ID of the email it queued (if any), so the audit
trail alone explains each row of `negotiation_state`.
"""

from __future__ import annotations

from typing import Any

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.negotiation.emails import usage_rights_text
from negotiation_pipeline.domain.negotiation.engine import AgreedPackage, Outcome
from negotiation_pipeline.workflow.events import Escalated


def _rates(outcome: Outcome) -> str | None:
    negotiation = outcome.negotiation
    parts = []
    if negotiation.our_last_offer is not None:
        parts.append(f"our offer {format_usd(negotiation.our_last_offer)}")
    if negotiation.their_last_ask is not None:
        parts.append(f"their ask {format_usd(negotiation.their_last_ask)}")
    terms = negotiation.terms
    parts.append(f"floor {format_usd(terms.floor_rate)}")
    parts.append(f"ceiling {format_usd(terms.ceiling_rate)}")
    return "; ".join(parts)


def transition_audit(
    outcome: Outcome, queued_message_id: str | None, extra: dict[str, Any] | None = None
) -> AuditEntry:
    negotiation = outcome.negotiation
    metadata: dict[str, Any] = {
        "action": outcome.action.value,
        "reason": outcome.reason,
        "transitions": [[f.value, e, t.value] for f, e, t in outcome.transitions],
        "round_count": negotiation.round_count,
        "queued_message_id": queued_message_id,
    }
    if outcome.lever is not None:
        metadata["lever"] = outcome.lever.value
    if outcome.facts:
        metadata["strategy"] = dict(outcome.facts)
    if extra:
        metadata.update(extra)
    return AuditEntry(
        event_type=EventType.STATE_TRANSITION,
        campaign_id=negotiation.campaign_id,
        influencer_name=negotiation.terms.name,
        thread_id=negotiation.thread_id,
        direction="outbound" if queued_message_id else None,
        email_body=None if outcome.email is None or not queued_message_id else outcome.email.body,
        negotiation_state=negotiation.state,
        rates_used=_rates(outcome),
        metadata=metadata,
    )


def escalation_audit(outcome: Outcome) -> AuditEntry:
    negotiation = outcome.negotiation
    escalation = outcome.escalation
    assert escalation is not None
    return AuditEntry(
        event_type=EventType.ESCALATION,
        campaign_id=negotiation.campaign_id,
        influencer_name=negotiation.terms.name,
        thread_id=negotiation.thread_id,
        email_body=None if escalation.draft is None else escalation.draft.body,
        negotiation_state=negotiation.state,
        rates_used=_rates(outcome),
        metadata={
            "reason": escalation.reason.value,
            "detail": escalation.detail,
            "suggested_action": escalation.suggested_action,
            "evidence": list(escalation.evidence),
            "their_rate": None if escalation.their_rate is None else str(escalation.their_rate),
            "our_rate": None if escalation.our_rate is None else str(escalation.our_rate),
        },
    )


def agreement_audit(outcome: Outcome, target_cpm: Any) -> AuditEntry:
    negotiation = outcome.negotiation
    return AuditEntry(
        event_type=EventType.AGREEMENT,
        campaign_id=negotiation.campaign_id,
        influencer_name=negotiation.terms.name,
        thread_id=negotiation.thread_id,
        negotiation_state=negotiation.state,
        rates_used=_rates(outcome),
        metadata={
            "rate": str(outcome.agreed_rate),
            "cpm": str(outcome.agreed_cpm),
            "target_max_cpm": str(target_cpm),
            "rounds": negotiation.round_count,
            "package": None if outcome.agreed_package is None else outcome.agreed_package.to_dict(),
        },
    )


def escalated_event(outcome: Outcome) -> Escalated:
    """The pipeline event of an outcome that escalated (for Slack: reason, rates, the draft)."""
    negotiation = outcome.negotiation
    escalation = outcome.escalation
    assert escalation is not None
    return Escalated(
        thread_id=negotiation.thread_id,
        campaign_id=negotiation.campaign_id,
        influencer_name=negotiation.terms.name,
        reason=escalation.reason.value,
        detail=escalation.detail,
        their_rate=escalation.their_rate,
        our_rate=escalation.our_rate,
        draft_body=None if escalation.draft is None else escalation.draft.body,
    )


def agreed_deliverables(package: AgreedPackage | None) -> tuple[str, ...]:
    """The agreed package as Slack lists it: each deliverable, the usage rights, the product."""
    if package is None:
        return ()
    extra = ("Product included",) if package.product else ()
    usage = f"Usage rights: {usage_rights_text(package.usage_rights)}"
    return (*package.deliverables, usage, *extra)
