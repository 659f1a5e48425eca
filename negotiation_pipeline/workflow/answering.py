"""A matched message from the thread's own side: skip it, or read it, let the engine decide and
store everything the decision implies (the negotiation, our queued answer, an agreement and the
campaign's CPM tracker), all inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import TERMINAL_STATES, NegotiationState
from negotiation_pipeline.domain.negotiation.engine import (
    Action,
    Negotiation,
    Outcome,
    handle_reply,
)
from negotiation_pipeline.domain.negotiation.held import ReplyThreading
from negotiation_pipeline.domain.negotiation.pricing import offered_items
from negotiation_pipeline.domain.reading.reader import read_reply
from negotiation_pipeline.integrations.mail.mime import ParsedMessage
from negotiation_pipeline.integrations.mail.thread_headers import (
    auto_reply_reason,
    bare_address,
    references_for,
    reply_subject,
)
from negotiation_pipeline.store.base import Lockable, UnitOfWork
from negotiation_pipeline.store.records import (
    Agreement,
    Controller,
    InboundStatus,
    OutboxEmail,
    StoredNegotiation,
)
from negotiation_pipeline.workflow.absence import (
    absence_notice_reason,
    hold_follow_up_for_absence,
    release_absence_hold,
)
from negotiation_pipeline.workflow.approval import (
    hold_if_required,
    reply_blocked_by_draft,
    without_moot_follow_up,
)
from negotiation_pipeline.workflow.audit_entries import (
    agreed_deliverables,
    agreement_audit,
    escalated_event,
    escalation_audit,
    transition_audit,
)
from negotiation_pipeline.workflow.events import AgreementReached, FinalState, PipelineEvent
from negotiation_pipeline.workflow.inbound_records import (
    Disposition,
    Handled,
    RunContext,
    audit_received,
    record_message,
)
from negotiation_pipeline.workflow.persistence import (
    campaign_tracker,
    load_negotiation,
    next_message_id,
    save_negotiation,
)
from negotiation_pipeline.workflow.reply_decisions import processed_decision
from negotiation_pipeline.workflow.second_opinion import reconsider_reading
from negotiation_pipeline.workflow.senders import sender_problem

# States in which a reply is recorded but no longer answered automatically.
_NOT_ANSWERED_STATES = frozenset({NegotiationState.PAUSED, *TERMINAL_STATES})


def decide(
    uow: UnitOfWork,
    parsed: ParsedMessage,
    raw: bytes,
    key: str,
    stored: StoredNegotiation,
    context: RunContext,
) -> Handled | None:
    """A matched message: skip, answer, or None when its sender may not steer the thread (the
    caller holds it, or keeps it held). Machine mail is skipped whoever sent it: it never
    changes a thread, except that an out-of-office notice from the thread's own side moves the
    follow-up after the return date it names."""
    follow_up = context.config.policy.follow_up
    auto = auto_reply_reason(parsed) or absence_notice_reason(parsed, context.now, follow_up)
    if auto is not None:
        may_steer = sender_problem(uow, stored, parsed, raw) is None
        return _skip(uow, parsed, key, stored, auto, context, hold_absence=may_steer)
    if sender_problem(uow, stored, parsed, raw) is not None:
        return None
    skip_reason = not_answered_reason(stored) or reply_blocked_by_draft(load_negotiation(stored))
    if skip_reason is not None:
        return _skip(uow, parsed, key, stored, skip_reason, context, hold_absence=False)
    return answer(uow, parsed, key, stored, context)


def _skip(
    uow: UnitOfWork,
    parsed: ParsedMessage,
    key: str,
    stored: StoredNegotiation,
    skip_reason: str,
    context: RunContext,
    *,
    hold_absence: bool,
) -> Handled:
    """Record a reply we do not answer. An out-of-office notice that says when they are back
    moves the thread's follow-up after that date (audited with the date and the new time)."""
    follow_up = context.config.policy.follow_up
    hold = (
        hold_follow_up_for_absence(uow, parsed, stored, follow_up, context.now)
        if hold_absence
        else None
    )
    if hold is not None:
        skip_reason = f"{skip_reason}; {hold.describe()}"
    record_message(uow, key, parsed, InboundStatus.SKIPPED, stored, skip_reason)
    extra = None if hold is None else hold.audit_metadata()
    audit_received(uow, parsed, key, stored, status=f"skipped: {skip_reason}", extra=extra)
    return Handled(Disposition.SKIPPED)


def not_answered_reason(stored: StoredNegotiation) -> str | None:
    if stored.controlled_by is Controller.HUMAN:
        return "a human controls this negotiation"
    if stored.state in _NOT_ANSWERED_STATES:
        return f"negotiation is {stored.state.value}"
    if stored.state is NegotiationState.ESCALATED:
        return "negotiation is escalated: waiting for a human decision"
    return None


def answer(
    uow: UnitOfWork,
    parsed: ParsedMessage,
    key: str,
    stored: StoredNegotiation,
    context: RunContext,
) -> Handled:
    """Read the reply, let the engine decide, store everything it implies."""
    negotiation, dropped_follow_up = without_moot_follow_up(load_negotiation(stored))
    campaign = stored.campaign
    config = context.config
    reading = read_reply(
        parsed.text_body,
        confidence_threshold=config.policy.confidence_threshold,
        our_offer=negotiation.our_last_offer,
        vocabulary=config.vocabulary,
        package=offered_items(campaign, negotiation.levers.scenario),
    )
    # Optional: another reader's view of a low-confidence intent (never of amounts).
    reconsidered = reconsider_reading(
        reading, context.second_opinion, config.policy.confidence_threshold
    )
    reading = reconsidered.reading
    sender = _sender_text(parsed)
    gated = hold_if_required(
        negotiation,
        handle_reply(negotiation, reading, parsed.text_body, sender, campaign, config, context.now),
        campaign,
        config.policy,
        context.now,
        subject=reply_subject(parsed.subject) if parsed.subject else None,
    )
    outcome = gated.outcome
    record_message(uow, key, parsed, InboundStatus.PROCESSED, stored, outcome.action.value)
    audit_received(
        uow, parsed, key, stored, status="processed", reading=reading, extra=reconsidered.audit
    )
    if outcome.negotiation.held is not None:
        outcome = replace(outcome, negotiation=_with_threading(outcome.negotiation, parsed))
    tracker_data = stored.cpm_tracker_data
    events: list[PipelineEvent] = []
    if outcome.agreed_rate is not None and outcome.agreed_cpm is not None:
        _, tracker_data = record_agreement(uow, outcome, campaign, context.now)
        events.append(agreement_event(outcome, campaign))
    save_negotiation(uow, outcome.negotiation, campaign, tracker_data)
    release_absence_hold(uow, stored)
    queued = _queue_answer(uow, outcome, parsed, key, campaign, _domain(context))
    extra: dict[str, Any] = {"in_reply_to": key, **gated.extra_audit}
    if dropped_follow_up:
        extra["dropped_draft"] = "the follow-up waiting for approval (they replied)"
    uow.audit.insert(transition_audit(outcome, queued, extra))
    if gated.event is not None:
        events.append(gated.event)
    if outcome.escalation is not None:
        uow.audit.insert(escalation_audit(outcome))
        events.append(escalated_event(outcome))
    if outcome.negotiation.state in TERMINAL_STATES or outcome.action is Action.ESCALATE:
        updated = outcome.negotiation
        events.append(
            FinalState(updated.thread_id, updated.campaign_id, updated.terms.name, updated.state)
        )
    return Handled(
        Disposition.PROCESSED,
        stored.campaign_id,
        tuple(events),
        stored.thread_id,
        outcome.negotiation.terms.name,
        processed_decision(parsed, key, stored, reading, outcome, queued),
    )


def _with_threading(negotiation: Negotiation, parsed: ParsedMessage) -> Negotiation:
    """A held draft answers this reply whenever a person sends it: keep its threading."""
    assert negotiation.held is not None
    references = references_for(parsed.references, parsed.message_id)
    threading = ReplyThreading(
        in_reply_to=parsed.message_id,
        references=" ".join(references) or None,
        subject=parsed.subject,
    )
    return replace(negotiation, held=negotiation.held.with_threading(threading))


def _sender_text(parsed: ParsedMessage) -> str:
    """ "Name <addr>" for the engine. Not `formataddr`: it refuses internationalised addresses
    (UnicodeEncodeError), and an influencer at "jörg@bücher.de" must be answered too."""
    if not parsed.from_name:
        return parsed.from_addr
    name = parsed.from_name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{name}" <{parsed.from_addr}>'


def _domain(context: RunContext) -> str:
    return message_id_domain(context.agent_addresses)


def message_id_domain(agent_addresses: Sequence[str]) -> str:
    """Message-ID domain: our (first) agent address's domain."""
    for address in agent_addresses:
        bare = bare_address(address)
        if "@" in bare:
            return bare.rsplit("@", 1)[1]
    raise ValueError("agent_addresses names no usable address (needed for Message-IDs)")


def _queue_answer(
    uow: UnitOfWork,
    outcome: Outcome,
    parsed: ParsedMessage,
    key: str,
    campaign: Campaign,
    domain: str,
) -> str | None:
    if outcome.email is None or outcome.escalation is not None:
        return None  # an escalation's draft waits for a human; nothing is sent
    thread_id = outcome.negotiation.thread_id
    message_id = next_message_id(uow, thread_id, domain)
    in_reply_to = parsed.message_id  # None for a message without one: no threading headers
    references = references_for(parsed.references, in_reply_to)
    uow.outbox.add(
        OutboxEmail(
            message_id=message_id,
            to_addr=outcome.email.to,
            to_name=outcome.email.to_name,
            subject=reply_subject(parsed.subject or outcome.email.subject),
            body=outcome.email.body,
            thread_id=thread_id,
            campaign_id=campaign.campaign_id,
            in_reply_to=in_reply_to,
            references=" ".join(references) or None,
        )
    )
    return message_id


def record_agreement(
    uow: UnitOfWork, outcome: Outcome, campaign: Campaign, now: datetime
) -> tuple[bool, dict[str, Any]]:
    """Agreement row + the campaign's running CPM, in the caller's transaction (a reply's, or a
    human's resolution). Returns whether the agreement was new (a repeat records nothing) and
    the tracker data to snapshot on the negotiation row."""
    negotiation = outcome.negotiation
    assert outcome.agreed_rate is not None and outcome.agreed_cpm is not None
    # The tracker is the campaign's, read and rewritten here: agreements of two negotiations of
    # one campaign, reached in parallel runs, add up instead of one overwriting the other.
    uow.lock(Lockable.CAMPAIGN, campaign.campaign_id)
    tracker = campaign_tracker(uow, campaign)
    recorded = uow.agreements.record(
        Agreement(
            thread_id=negotiation.thread_id,
            campaign_id=campaign.campaign_id,
            influencer_name=negotiation.terms.name,
            rate=outcome.agreed_rate,
            cpm=outcome.agreed_cpm,
            engagement_rate=negotiation.terms.engagement_rate,
            agreed_at=now,
            package=None if outcome.agreed_package is None else outcome.agreed_package.to_dict(),
        )
    )
    if recorded:
        tracker.record_agreement(outcome.agreed_cpm, negotiation.terms.engagement_rate)
        uow.campaigns.set_cpm_tracker(campaign.campaign_id, tracker.to_dict())
        uow.audit.insert(agreement_audit(outcome, campaign.cpm_range.max_cpm))
    return recorded, tracker.to_dict()


def agreement_event(outcome: Outcome, campaign: Campaign) -> AgreementReached:
    negotiation = outcome.negotiation
    assert outcome.agreed_rate is not None and outcome.agreed_cpm is not None
    return AgreementReached(
        thread_id=negotiation.thread_id,
        campaign_id=campaign.campaign_id,
        influencer_name=negotiation.terms.name,
        rate=outcome.agreed_rate,
        cpm=outcome.agreed_cpm,
        target_cpm=campaign.cpm_range.max_cpm,
        deliverables=agreed_deliverables(outcome.agreed_package),
    )
