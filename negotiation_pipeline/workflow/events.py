"""What happened, as frozen records returned by every workflow service.

The Dagster layer turns these into Slack messages, ClickUp comments and asset materializations
AFTER the transaction that produced them committed, so a rolled-back change never notifies anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from negotiation_pipeline.domain.types import NegotiationState


@dataclass(frozen=True)
class NegotiationsStarted:
    campaign_id: str
    client_name: str
    influencer_count: int  # opened in this call
    opened_thread_ids: tuple[str, ...]


@dataclass(frozen=True)
class AgreementReached:
    thread_id: str
    campaign_id: str
    influencer_name: str
    rate: Decimal
    cpm: Decimal
    target_cpm: Decimal | None  # the campaign's target max CPM, for "CPM achieved vs target"


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


PipelineEvent = (
    NegotiationsStarted | AgreementReached | Escalated | MarkedStale | FinalState | DeliveryFailed
)

__all__ = [
    "AgreementReached",
    "DeliveryFailed",
    "Escalated",
    "FinalState",
    "MarkedStale",
    "NegotiationsStarted",
    "PipelineEvent",
]
