"""Advance negotiations from new mail (implementation follows; signatures are the contract)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from negotiation_pipeline.domain.negotiation import EngineConfig
from negotiation_pipeline.integrations.mail.base import Mailbox
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.events import PipelineEvent
from negotiation_pipeline.workflow.outbox import DeliveryResult


@dataclass(frozen=True)
class NewMailBatch:
    uidvalidity: int
    uids: tuple[int, ...]
    batch_key: str  # f"{mailbox_name}:{uidvalidity}:{first}-{last}" (a run_key for the sensor)


@dataclass(frozen=True)
class AdvanceResult:
    processed: int
    unmatched: int
    skipped: int
    duplicates: int
    unreadable: int
    touched_campaigns: tuple[str, ...]
    events: tuple[PipelineEvent, ...]
    delivery: DeliveryResult


def list_new_mail(
    store: NegotiationStore, mailbox: Mailbox, mailbox_name: str, limit: int
) -> NewMailBatch:
    raise NotImplementedError


def advance_negotiations(
    store: NegotiationStore,
    mailbox: Mailbox,
    config: EngineConfig,
    *,
    mailbox_name: str,
    agent_addresses: Sequence[str],
    now: datetime,
    uids: Sequence[int] | None = None,
    uidvalidity: int | None = None,
) -> AdvanceResult:
    raise NotImplementedError
