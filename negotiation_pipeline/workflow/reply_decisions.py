"""One `ReplyDecision` per incoming message: what the run's log says about it.

An answered reply is described from the engine's outcome in its own transaction (what was
read, the move, the amount, the package, what was queued). Every other message (skipped, held,
duplicate, unmatched, unreadable) is described afterwards from its inbound row, whose detail
already says why it was not answered, so each place that disposes of a message does not have
to say it twice.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from decimal import Decimal

from negotiation_pipeline.domain.negotiation.engine import Action, Outcome
from negotiation_pipeline.domain.reading.reader import ReplyReading
from negotiation_pipeline.integrations.mail.mime import ParsedMessage
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.records import InboundMessage, StoredNegotiation
from negotiation_pipeline.workflow.events import ReplyDecision


@dataclass(frozen=True)
class _Names:
    campaign_id: str
    client_name: str
    influencer_name: str


def processed_decision(
    parsed: ParsedMessage,
    key: str,
    stored: StoredNegotiation,
    reading: ReplyReading,
    outcome: Outcome,
    queued_message_id: str | None,
) -> ReplyDecision:
    """A reply the engine answered (or escalated): what it read and what it did."""
    negotiation = outcome.negotiation
    escalation = outcome.escalation
    return ReplyDecision(
        message_id=key,
        disposition="processed",
        sender=parsed.from_addr,
        subject=parsed.subject,
        thread_id=stored.thread_id,
        campaign_id=stored.campaign_id,
        client_name=stored.campaign.client_name,
        influencer_name=negotiation.terms.name,
        reason=outcome.reason,
        intent=reading.intent.value,
        amount=reading.proposed_rate,
        currency=reading.currency,
        confidence=reading.confidence,
        action=outcome.action.value,
        our_rate=_our_rate(outcome),
        scenario=negotiation.levers.scenario,
        lever=None if outcome.lever is None else outcome.lever.value,
        escalation_reason=None if escalation is None else escalation.reason.value,
        escalation_detail=None if escalation is None else escalation.detail,
        queued_message_id=queued_message_id,
        state=negotiation.state.value,
    )


def _our_rate(outcome: Outcome) -> Decimal | None:
    if outcome.agreed_rate is not None:
        return outcome.agreed_rate
    if outcome.action is Action.SEND_COUNTER:
        return outcome.negotiation.our_last_offer
    return None


def described_decision(
    store: NegotiationStore,
    key: str,
    sender: str,
    disposition: str,
    names: MutableMapping[str, _Names | None],
) -> ReplyDecision:
    """A message that was not answered, from its inbound row (`names` caches each thread's
    client and influencer across one run)."""
    row = _inbound_row(store, key, sender)
    if row is None:
        return ReplyDecision(message_id=key, disposition=disposition, sender=sender)
    thread_id = row.thread_id or ""
    found = _names(store, thread_id, names) if thread_id else None
    return ReplyDecision(
        message_id=key,
        disposition=disposition,
        sender=row.from_addr or sender,
        subject=row.subject or "",
        thread_id=thread_id,
        campaign_id=found.campaign_id if found else (row.campaign_id or ""),
        client_name=found.client_name if found else "",
        influencer_name=found.influencer_name if found else "",
        reason=_reason(row, disposition),
    )


def _reason(row: InboundMessage, disposition: str) -> str:
    detail = row.detail or row.status.value
    if disposition == "duplicate":
        return f"already handled before ({row.status.value}: {detail})"
    return detail


def _inbound_row(store: NegotiationStore, key: str, sender: str) -> InboundMessage | None:
    row = store.inbound.get(key, sender or None)
    return row if row is not None or not sender else store.inbound.get(key)


def _names(
    store: NegotiationStore, thread_id: str, names: MutableMapping[str, _Names | None]
) -> _Names | None:
    if thread_id not in names:
        stored = store.states.load(thread_id)
        names[thread_id] = (
            None
            if stored is None
            else _Names(
                stored.campaign_id, stored.campaign.client_name, stored.influencer_name or ""
            )
        )
    return names[thread_id]


NameCache = MutableMapping[str, _Names | None]

__all__ = ["NameCache", "described_decision", "processed_decision"]
