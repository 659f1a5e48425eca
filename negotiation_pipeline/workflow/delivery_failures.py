"""Giving up on an email: the outbox row becomes `failed` and its thread escalates, together.

One transaction: the row's status (conditional on `pending`, so two runs never give up twice),
the thread's move to `escalated` through its state machine with its `state_transition` entry,
and an `escalation` audit entry with the reason (an `error` entry when the thread's state allows
no escalation: an agreement confirmation or a polite exit that could not be delivered leaves the
thread agreed or rejected, and a human has to tell the influencer another way). The returned
`DeliveryFailed` event is what Slack hears, once.
"""

from __future__ import annotations

from datetime import datetime

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType, NegotiationEvent, NegotiationState
from negotiation_pipeline.domain.negotiation.engine import apply_event
from negotiation_pipeline.store.base import Lockable, NegotiationStore, UnitOfWork
from negotiation_pipeline.store.records import OutboxEmail
from negotiation_pipeline.workflow.events import DeliveryFailed
from negotiation_pipeline.workflow.notify import queue_alerts
from negotiation_pipeline.workflow.persistence import load_negotiation, save_negotiation

DELIVERY_FAILED_REASON = "delivery_failed"
SUGGESTED_ACTION = (
    "check the address with the influencer (or their manager) by another channel, then send "
    "the draft from the mailbox by hand or stop the negotiation"
)


def give_up(
    store: NegotiationStore,
    email: OutboxEmail,
    reason: str,
    attempts: int,
    now: datetime,
    influencer_name: str | None = None,
) -> DeliveryFailed | None:
    """Mark the email failed and escalate its thread; None if it was no longer pending."""
    with store.transaction(exclusive=False) as uow:
        if email.thread_id is not None:
            uow.lock(Lockable.THREAD, email.thread_id)  # its state is read and rewritten below
        if not uow.outbox.mark_failed(email.message_id, reason):
            return None
        state, escalated, name = _escalate_thread(uow, email, reason, now)
        uow.audit.insert(_failure_audit(email, reason, attempts, state, escalated, name))
        event = DeliveryFailed(
            thread_id=email.thread_id or "",
            campaign_id=email.campaign_id or "",
            influencer_name=name or influencer_name or email.to_addr,
            to_addr=email.to_addr,
            message_id=email.message_id,
            error=reason,
            attempts=attempts,
            escalated=escalated,
            state=state,
        )
        queue_alerts(uow, [event])  # the alert commits with the failure it reports
    return event


def _escalate_thread(
    uow: UnitOfWork, email: OutboxEmail, reason: str, now: datetime
) -> tuple[NegotiationState | None, bool, str | None]:
    """(state afterwards, whether it escalated now, influencer name) of the email's thread."""
    stored = None if email.thread_id is None else uow.states.load(email.thread_id)
    if stored is None:
        return None, False, None
    negotiation = load_negotiation(stored)
    if not negotiation.machine().can(NegotiationEvent.ESCALATE):
        return stored.state, False, stored.influencer_name
    after = apply_event(negotiation, NegotiationEvent.ESCALATE, now)
    save_negotiation(uow, after, stored.campaign, stored.cpm_tracker_data)
    uow.audit.insert(
        AuditEntry(
            event_type=EventType.STATE_TRANSITION,
            campaign_id=after.campaign_id,
            influencer_name=after.terms.name,
            thread_id=after.thread_id,
            negotiation_state=after.state,
            metadata={
                "event": NegotiationEvent.ESCALATE.value,
                "from": negotiation.state.value,
                "to": after.state.value,
                "transitions": [
                    [negotiation.state.value, NegotiationEvent.ESCALATE.value, after.state.value]
                ],
                "reason": f"email {email.message_id} could not be delivered: {reason}",
                "source": "delivery",
            },
        )
    )
    return after.state, True, stored.influencer_name


def _failure_audit(
    email: OutboxEmail,
    reason: str,
    attempts: int,
    state: NegotiationState | None,
    escalated: bool,
    name: str | None,
) -> AuditEntry:
    return AuditEntry(
        event_type=EventType.ESCALATION if escalated else EventType.ERROR,
        campaign_id=email.campaign_id,
        influencer_name=name,
        thread_id=email.thread_id,
        direction="outbound",
        email_body=email.body,
        negotiation_state=state,
        metadata={
            "reason": DELIVERY_FAILED_REASON,
            "detail": reason,
            "message_id": email.message_id,
            "to": email.to_addr,
            "attempts": attempts,
            "outbox_status": "failed",
            "suggested_action": SUGGESTED_ACTION,
        },
    )
