"""What happened, as frozen records returned by every workflow service.

Their Slack alerts are queued in the notification outbox inside the transaction that produced
them (workflow/notify.py `queue_alerts`), so an alert exists exactly when its change committed.
The Dagster layer turns them into ClickUp comments and asset materializations after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from negotiation_pipeline.domain.enums import NegotiationState


@dataclass(frozen=True)
class NegotiationsStarted:
    campaign_id: str
    client_name: str
    influencer_count: int  # opened in this call
    opened_thread_ids: tuple[str, ...]
    # The campaign's whole roll, so the announcement can say how many were asked for: listed
    # on the task (or, with no list, every roster row on the platform), found usable in the
    # roster, and each listed influencer we will not contact with why ("@x: not found ...").
    listed: int = 0
    found: int = 0
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgreementReached:
    thread_id: str
    campaign_id: str
    influencer_name: str
    rate: Decimal
    cpm: Decimal  # on the agreed package's expected views
    target_cpm: Decimal | None  # the campaign's target max CPM, for "CPM achieved vs target"
    # The agreed deliverables, then the usage-rights term ("Usage rights: 90 days"); empty when
    # unknown (the Slack alert then lists the scenario on the negotiation row).
    deliverables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Escalated:
    thread_id: str
    campaign_id: str
    influencer_name: str
    reason: str  # EscalationReason value
    detail: str
    their_rate: Decimal | None
    our_rate: Decimal | None
    draft_body: str | None


@dataclass(frozen=True)
class DraftAwaitingApproval:
    """The campaign's approval mode holds an email the agent wrote: nothing is sent until a
    person approves it (`control send-draft`) or replaces it (`control counter` / `decline`)."""

    thread_id: str
    campaign_id: str
    influencer_name: str
    kind: str  # EmailKind value
    amount: Decimal | None  # the rate the email names
    subject: str
    body: str


@dataclass(frozen=True)
class MarkedStale:
    thread_id: str
    campaign_id: str
    influencer_name: str
    days_silent: int


@dataclass(frozen=True)
class FinalState:
    """A negotiation reached a state that needs no more automatic work (agreed, rejected, exited,
    stopped, stale, escalated...)."""

    thread_id: str
    campaign_id: str
    influencer_name: str
    state: NegotiationState


@dataclass(frozen=True)
class ReplyHeld:
    """A message matched a negotiation but its sender may not steer it: it is held
    (quarantined) and the thread is untouched until an operator allows the sender."""

    thread_id: str
    campaign_id: str
    influencer_name: str
    sender: str  # bare address, as the message claims it
    reason: str
    subject: str
    message_id: str
    held_count: int  # messages from this sender now held in this thread
    from_our_address: bool = False  # claims our own address (a forged human reply?)


@dataclass(frozen=True)
class HumanTookOver:
    """A person on our side answered in the thread (verified among our sent mail): the agent
    stops answering and following up on it."""

    thread_id: str
    campaign_id: str
    influencer_name: str
    actor: str  # the address they wrote from
    message_id: str


@dataclass(frozen=True)
class DeliveryFailed:
    """One of our emails was given up: refused for good, or too many failed attempts."""

    thread_id: str  # "" for an email of no negotiation
    campaign_id: str  # "" likewise
    influencer_name: str
    to_addr: str
    message_id: str
    error: str  # what the mail server (or the address check) said, one line
    attempts: int
    escalated: bool  # the thread moved to `escalated`; False when its state allows no escalation
    state: NegotiationState | None  # the thread's state afterwards


@dataclass(frozen=True)
class ReplyDecision:
    """What one incoming message came to, for the run's log: who wrote, what we read in it,
    what we decided and why, and what we queued. Not an alert: nothing is posted for it.

    Text fields may hold outside text (subject, sender, the engine's reason quoting a reply);
    whoever shows them bounds and flattens them."""

    message_id: str
    disposition: str  # processed, skipped, duplicate, unmatched, quarantined, unreadable
    sender: str = ""  # bare address as the message claims it
    subject: str = ""
    thread_id: str = ""
    campaign_id: str = ""
    client_name: str = ""
    influencer_name: str = ""
    reason: str = ""  # why we did it (the engine's reason, or why the message was not answered)
    intent: str | None = None  # what we read: accept, counter, reject, question, unclear
    amount: Decimal | None = None  # the amount they proposed, in `currency`
    currency: str | None = None
    confidence: float | None = None
    action: str | None = None  # the engine's Action value
    our_rate: Decimal | None = None  # the counter we sent, or the rate we agreed at
    scenario: int | None = None  # the package on the table after the decision
    lever: str | None = None  # the non-price move this answer used
    escalation_reason: str | None = None
    escalation_detail: str | None = None
    queued_message_id: str | None = None  # our answer, queued in the outbox
    state: str | None = None  # the negotiation's state afterwards


PipelineEvent = (
    NegotiationsStarted
    | AgreementReached
    | Escalated
    | DraftAwaitingApproval
    | MarkedStale
    | FinalState
    | ReplyHeld
    | HumanTookOver
    | DeliveryFailed
)

__all__ = [
    "AgreementReached",
    "DeliveryFailed",
    "DraftAwaitingApproval",
    "Escalated",
    "FinalState",
    "HumanTookOver",
    "MarkedStale",
    "NegotiationsStarted",
    "PipelineEvent",
    "ReplyDecision",
    "ReplyHeld",
]
