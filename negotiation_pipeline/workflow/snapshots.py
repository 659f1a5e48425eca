"""A campaign's negotiation snapshot: per thread, where it stands and what happens next.

`campaign_snapshot` is the one computation behind the `negotiation_snapshots` asset, the
advance and follow-up jobs' reports and any refresh after an operator's command: it reads the
negotiation rows, their last emails in and out (audit trail and outbox) and the newest
escalation, and says in words what the thread waits for (a reply and until when, a human and
why, an approval). Their ask keeps the currency they wrote it in: a reply asking in EUR shows
"1,500.00 EUR", never an empty cell or a dollar amount.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.campaigns.report import SnapshotRow
from negotiation_pipeline.domain.enums import TERMINAL_STATES, EventType, NegotiationState
from negotiation_pipeline.domain.negotiation.emails import split_deliverables, usage_rights_text
from negotiation_pipeline.domain.negotiation.engine import Negotiation
from negotiation_pipeline.domain.negotiation.policy import FollowUpPolicy
from negotiation_pipeline.store.audit_filters import AuditQuery
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.records import (
    Controller,
    OutboxEmail,
    OutboxStatus,
    StoredNegotiation,
)
from negotiation_pipeline.workflow.approval import AWAITING_APPROVAL, waiting_draft_action
from negotiation_pipeline.workflow.persistence import load_negotiation

# Replies of one thread looked at for its last ask; an ask further back is shown from the
# negotiation record (in dollars) instead.
RECENT_REPLIES = 20
_WAITING = (NegotiationState.AWAITING_REPLY, NegotiationState.COUNTER_SENT)


@dataclass(frozen=True)
class _Ask:
    amount: Decimal
    currency: str | None


def moment_text(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def campaign_snapshot(
    store: NegotiationStore, campaign_id: str, *, follow_up: FollowUpPolicy, now: datetime
) -> list[SnapshotRow]:
    """Every negotiation of the campaign, as the snapshot table shows it."""
    return [
        thread_snapshot(store, stored, follow_up=follow_up, now=now)
        for stored in store.states.list_for_campaign(campaign_id)
    ]


def thread_snapshot(
    store: NegotiationStore, stored: StoredNegotiation, *, follow_up: FollowUpPolicy, now: datetime
) -> SnapshotRow:
    negotiation = load_negotiation(stored)
    received = store.audit.query(
        AuditQuery(
            thread_id=stored.thread_id, event_type=EventType.EMAIL_RECEIVED, limit=RECENT_REPLIES
        )
    )
    ours = store.outbox.for_thread(stored.thread_id)
    escalation = _escalation_reason(store, stored)
    ask = _their_ask(received, negotiation)
    row = SnapshotRow.from_negotiation(negotiation, controlled_by=stored.controlled_by.value)
    return replace(
        row,
        client_name=stored.campaign.client_name,
        next_step=_next_step(stored, negotiation, ours, escalation, follow_up, now),
        escalation_reason=escalation,
        their_ask=None if ask is None else ask.amount,
        their_ask_currency=None if ask is None else ask.currency,
        deliverables=_deliverables(stored, negotiation),
        usage_rights=_usage_rights(stored, negotiation),
        last_email_in=_last_in(received),
        last_email_out=_last_out(ours),
    )


def _their_ask(received: list[AuditEntry], negotiation: Negotiation) -> _Ask | None:
    """Their newest proposed amount with its currency (the audit of each read reply keeps
    both); the record's dollar ask when no recent reply proposed one."""
    for entry in received:  # newest first
        metadata = entry.metadata or {}
        rate = metadata.get("proposed_rate")
        if rate is None:
            continue
        try:
            amount = Decimal(str(rate))
        except InvalidOperation:
            continue
        currency = metadata.get("currency")
        return _Ask(amount, str(currency) if currency else None)
    if negotiation.their_last_ask is None:
        return None
    return _Ask(negotiation.their_last_ask, None)


def _escalation_reason(store: NegotiationStore, stored: StoredNegotiation) -> str:
    if stored.state is not NegotiationState.ESCALATED:
        return ""
    found = store.audit.query(
        AuditQuery(thread_id=stored.thread_id, event_type=EventType.ESCALATION, limit=1)
    )
    if not found:
        return "escalated (no reason recorded)"
    metadata = found[0].metadata or {}
    reason = str(metadata.get("reason") or "escalated").replace("_", " ")
    detail = str(metadata.get("detail") or "")
    if not detail or detail.casefold().startswith(reason.casefold()):
        return detail or reason
    return f"{reason}: {detail}"


def _next_step(
    stored: StoredNegotiation,
    negotiation: Negotiation,
    ours: list[OutboxEmail],
    escalation: str,
    follow_up: FollowUpPolicy,
    now: datetime,
) -> str:
    held = negotiation.held
    if waiting_draft_action(negotiation) is not None and held is not None and held.email:
        # Held on the negotiation, not in the outbox: nothing can send it before approval.
        kind = held.email.kind.value.replace("_", " ")
        since = moment_text(held.held_at)
        return f"{kind} draft {AWAITING_APPROVAL} since {since}: {held.email.subject}"
    state = stored.state
    if stored.controlled_by is Controller.HUMAN:
        return "a person on our side has taken this thread over; the agent does not answer"
    if state is NegotiationState.ESCALATED:
        return f"waiting for a human because {escalation or 'it was escalated'}"
    if state is NegotiationState.PAUSED:
        return "paused by an operator (control resume hands it back)"
    if state in TERMINAL_STATES:
        return f"none: the negotiation ended ({state.value})"
    if state not in _WAITING or negotiation.last_activity is None:
        return f"the agent answers their next email ({state.value})"
    return _waiting_text(stored, negotiation, follow_up, now)


def _waiting_text(
    stored: StoredNegotiation, negotiation: Negotiation, follow_up: FollowUpPolicy, now: datetime
) -> str:
    last = negotiation.last_activity
    assert last is not None
    since = f"waiting for reply since {moment_text(last)}"
    if negotiation.followups_sent == 0:
        due, what = last + timedelta(days=follow_up.first_after_days), "follow-up due at"
    else:
        due, what = last + timedelta(days=follow_up.stale_after_days), "stale at"
    if stored.followup_not_before is not None and stored.followup_not_before > due:
        due = stored.followup_not_before
        what += " (held for their absence)"
    overdue = " (due now)" if due <= now else ""
    return f"{since}; {what} {moment_text(due)}{overdue}"


def _deliverables(stored: StoredNegotiation, negotiation: Negotiation) -> tuple[str, ...]:
    if negotiation.agreed_package is not None:
        return negotiation.agreed_package.deliverables
    campaign = stored.campaign
    package = campaign.scenarios.package(negotiation.levers.scenario)
    return split_deliverables(package or campaign.opening_package())


def _usage_rights(stored: StoredNegotiation, negotiation: Negotiation) -> str:
    if negotiation.agreed_package is not None:
        return usage_rights_text(negotiation.agreed_package.usage_rights)
    return usage_rights_text(negotiation.levers.usage(stored.campaign))


def _last_in(received: list[AuditEntry]) -> str:
    if not received:
        return ""
    newest = received[0]
    subject = str((newest.metadata or {}).get("subject") or "")
    return f"{moment_text(newest.timestamp)}: {subject}".rstrip(": ")


def _last_out(ours: list[OutboxEmail]) -> str:
    sent = [e for e in ours if e.status is OutboxStatus.SENT]
    if sent:
        newest = sent[-1]
        return f"{moment_text(newest.sent_at or newest.created_at)}: {newest.subject}"
    queued = [e for e in ours if e.status is OutboxStatus.PENDING]
    if queued:
        return f"queued {moment_text(queued[-1].created_at)}: {queued[-1].subject}"
    return ""


__all__ = ["campaign_snapshot", "moment_text", "thread_snapshot"]
