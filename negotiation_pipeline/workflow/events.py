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
