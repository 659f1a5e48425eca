"""What happened, as frozen records returned by every workflow service.

Their Slack alerts are queued in the notification outbox inside the transaction that produced
them (workflow/notify.py `queue_alerts`), so an alert exists exactly when its change committed.
The Dagster layer turns them into ClickUp comments and asset materializations after the commit.
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


PipelineEvent = NegotiationsStarted | AgreementReached | Escalated | MarkedStale | FinalState

__all__ = [
    "AgreementReached",
    "Escalated",
    "FinalState",
    "MarkedStale",
    "NegotiationsStarted",
    "PipelineEvent",
]
