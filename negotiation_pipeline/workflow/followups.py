"""Follow-ups for silent negotiations: one reminder email, then `stale` and a Slack note.

For every active negotiation the agent controls, the engine's `follow_up_due` decides (timing in
config/negotiation_policy.yaml, `follow_up`):
- a follow-up email: queued in the outbox in the SAME transaction as the negotiation update
  (followups_sent, last_activity) and its audit entry, as a reply to our last email (In-Reply-To,
  References, "Re:" subject) with the thread's next deterministic Message-ID;
- stale: the state machine's `timeout` transition, audited, reported as MarkedStale + FinalState;
- an escalation when the follow-up email fails the validation gate (nothing is sent).
Each thread is re-read inside its own transaction, so a reply processed meanwhile wins, and a
second run at the same `now` finds nothing due: it queues nothing and marks nothing again.
After the commits, `deliver_pending` sends what was queued.

Paused, escalated, stale, human-controlled and finished negotiations are never followed up.
A thread whose influencer sent an out-of-office notice with a return date is held until the
row's `followup_not_before` (workflow/absence.py): no follow-up and no stale mark before it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.domain.negotiation.engine import (
    Action,
    EngineConfig,
    Negotiation,
    Outcome,
)
from negotiation_pipeline.domain.negotiation.follow_up import (
    follow_up_due as engine_follow_up_due,
)
from negotiation_pipeline.integrations.mail.base import Mailbox, SenderIdentity
from negotiation_pipeline.integrations.mail.thread_headers import references_for, reply_subject
from negotiation_pipeline.store.base import Lockable, NegotiationStore, UnitOfWork
from negotiation_pipeline.store.records import Controller, OutboxEmail, StoredNegotiation
from negotiation_pipeline.workflow.approval import hold_if_required, waiting_draft_action
from negotiation_pipeline.workflow.audit_entries import escalation_audit, transition_audit
from negotiation_pipeline.workflow.events import (
    Escalated,
    FinalState,
    MarkedStale,
    PipelineEvent,
)
from negotiation_pipeline.workflow.notify import queue_alerts
from negotiation_pipeline.workflow.outbox import DeliveryResult, deliver_pending
from negotiation_pipeline.workflow.persistence import (
    load_negotiation,
    next_message_id,
    save_negotiation,
)

log = logging.getLogger(__name__)

# Only these states wait on the other side with a clock running (engine: follow_up_due).
FOLLOW_UP_STATES = frozenset({NegotiationState.AWAITING_REPLY, NegotiationState.COUNTER_SENT})


@dataclass(frozen=True)
class FollowUpResult:
    followed_up: tuple[str, ...]  # thread ids that got a follow-up email queued
    marked_stale: tuple[str, ...]
    escalated: tuple[str, ...]  # the follow-up email failed the gate: a human decides
    checked: int  # agent-controlled negotiations that were waiting for a reply
    events: tuple[PipelineEvent, ...]
    delivery: DeliveryResult
    held: tuple[str, ...] = ()  # waiting for an out-of-office return date
    awaiting_approval: tuple[str, ...] = ()  # follow-up written, held for a person's approval


def _candidates(store: NegotiationStore) -> list[str]:
    """Thread ids worth a transaction: waiting for a reply and controlled by the agent."""
    return [
        stored.thread_id
        for stored in store.states.load_active()
        if stored.state in FOLLOW_UP_STATES and stored.controlled_by is Controller.AGENT
    ]


def _queue_follow_up(
    uow: UnitOfWork, outcome: Outcome, sender: SenderIdentity
) -> tuple[str, OutboxEmail]:
    """The follow-up as a reply to our last email on the thread."""
    negotiation = outcome.negotiation
    email = outcome.email
    assert email is not None
    thread_id = negotiation.thread_id
    earlier = uow.outbox.for_thread(thread_id)
    parent = earlier[-1] if earlier else None
    references: tuple[str, ...] = ()
    subject = email.subject
    if parent is not None:
        references = references_for((parent.references or "").split(), parent.message_id)
        subject = reply_subject(parent.subject)
    message_id = next_message_id(uow, thread_id, sender.domain)
    queued = OutboxEmail(
        message_id=message_id,
        to_addr=email.to,
        to_name=email.to_name,
        subject=subject,
        body=email.body,
        thread_id=thread_id,
        campaign_id=negotiation.campaign_id,
        in_reply_to=None if parent is None else parent.message_id,
        references=" ".join(references) or None,
    )
    uow.outbox.add(queued)
    return message_id, queued


def _events(outcome: Outcome, before: Negotiation, now: datetime) -> list[PipelineEvent]:
    negotiation = outcome.negotiation
    name = negotiation.terms.name
    final = FinalState(negotiation.thread_id, negotiation.campaign_id, name, negotiation.state)
    if outcome.action is Action.MARK_STALE:
        assert before.last_activity is not None
        days = (now - before.last_activity).days
        return [MarkedStale(negotiation.thread_id, negotiation.campaign_id, name, days), final]
    if outcome.escalation is not None:
        escalation = outcome.escalation
        escalated = Escalated(
            thread_id=negotiation.thread_id,
            campaign_id=negotiation.campaign_id,
            influencer_name=name,
            reason=escalation.reason.value,
            detail=escalation.detail,
            their_rate=escalation.their_rate,
            our_rate=escalation.our_rate,
            draft_body=None if escalation.draft is None else escalation.draft.body,
        )
        return [escalated, final]
    return []


def held_for_absence(stored: StoredNegotiation, now: datetime) -> bool:
    """True while the influencer's out-of-office return date (plus grace) is still ahead."""
    return stored.followup_not_before is not None and now < stored.followup_not_before


def _follow_up_thread(
    uow: UnitOfWork,
    stored: StoredNegotiation,
    config: EngineConfig,
    sender: SenderIdentity,
    now: datetime,
) -> tuple[Outcome, list[PipelineEvent]] | None:
    """Decide and store one thread's follow-up inside the caller's transaction."""
    if stored.controlled_by is not Controller.AGENT or stored.state not in FOLLOW_UP_STATES:
        return None  # changed since the candidate list was read
    if held_for_absence(stored, now):
        return None
    before = load_negotiation(stored)
    if waiting_draft_action(before) is not None:
        return None  # an email of ours waits for approval: nothing is due until it is decided
    due = engine_follow_up_due(before, now, stored.campaign, config)
    if due is None:
        return None
    gated = hold_if_required(before, due, stored.campaign, config.policy, now)
    outcome = gated.outcome
    queued_id = None
    if outcome.action is Action.FOLLOW_UP and outcome.email is not None:
        queued_id, _ = _queue_follow_up(uow, outcome, sender)
    save_negotiation(uow, outcome.negotiation, stored.campaign, dict(stored.cpm_tracker_data))
    extra: dict[str, object] = {"source": "follow_up", **gated.extra_audit}
    if stored.followup_not_before is not None:
        extra["held_until"] = stored.followup_not_before.isoformat()  # an absence delayed it
    uow.audit.insert(transition_audit(outcome, queued_id, extra))
    if outcome.escalation is not None:
        uow.audit.insert(escalation_audit(outcome))
    held = [] if gated.event is None else [gated.event]
    return outcome, [*_events(outcome, before, now), *held]


def run_followups(
    store: NegotiationStore,
    mailbox: Mailbox,
    config: EngineConfig,
    *,
    sender: SenderIdentity,
    now: datetime,
) -> FollowUpResult:
    """Follow up or mark stale every silent agent-controlled negotiation, then deliver."""
    followed: list[str] = []
    stale: list[str] = []
    escalated: list[str] = []
    events: list[PipelineEvent] = []
    held: list[str] = []
    awaiting: list[str] = []
    candidates = _candidates(store)
    for thread_id in candidates:
        # Beside reply handling in other runs (where the engine allows): the thread is locked
        # before it is read, so a reply being handled meanwhile commits first and wins.
        with store.transaction(exclusive=False) as uow:
            uow.lock(Lockable.THREAD, thread_id)
            stored = uow.states.load(thread_id)
            decided = (
                None if stored is None else _follow_up_thread(uow, stored, config, sender, now)
            )
            queue_alerts(uow, decided[1] if decided else ())  # commits with the change
        if decided is None:
            if stored is not None and held_for_absence(stored, now):
                held.append(thread_id)
            continue
        outcome, thread_events = decided
        events.extend(thread_events)
        if outcome.action is Action.FOLLOW_UP and outcome.email is None:
            awaiting.append(thread_id)
        elif outcome.action is Action.FOLLOW_UP:
            followed.append(thread_id)
        elif outcome.action is Action.MARK_STALE:
            stale.append(thread_id)
        else:
            escalated.append(thread_id)
    delivery = deliver_pending(store, mailbox, now=now, retry=config.policy.delivery)
    if followed or stale or escalated:
        log.info(
            "follow-ups: %d sent, %d stale, %d escalated (of %d waiting)",
            len(followed),
            len(stale),
            len(escalated),
            len(candidates),
        )
    return FollowUpResult(
        followed_up=tuple(followed),
        marked_stale=tuple(stale),
        escalated=tuple(escalated),
        checked=len(candidates),
        events=tuple(events),
        delivery=delivery,
        held=tuple(held),
        awaiting_approval=tuple(awaiting),
    )


__all__ = ["FOLLOW_UP_STATES", "FollowUpResult", "held_for_absence", "run_followups"]
