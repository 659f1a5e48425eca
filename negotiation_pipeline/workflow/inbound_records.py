"""One incoming message's records: how it was disposed of, its inbound row and its audit entry.

Shared by the batch run (replies.py), answering (answering.py) and releasing held replies
(release.py), so they record a message the same way.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.domain.negotiation.engine import EngineConfig
from negotiation_pipeline.domain.previews import TEXT_PREVIEW_CHARS, preview
from negotiation_pipeline.domain.reading.reader import ReplyReading
from negotiation_pipeline.integrations.mail.mime import ParsedMessage
from negotiation_pipeline.store.base import NegotiationStore, StoreError, UnitOfWork
from negotiation_pipeline.store.records import InboundStatus, StoredNegotiation
from negotiation_pipeline.workflow.events import PipelineEvent, ReplyDecision
from negotiation_pipeline.workflow.second_opinion import SecondOpinion

logger = logging.getLogger(__name__)

# Database failures: the message's transaction rolled back; leave it for the next run.
STORE_FAILURES: tuple[type[BaseException], ...] = (sqlite3.Error, StoreError)


class Disposition(StrEnum):
    PROCESSED = "processed"
    UNMATCHED = "unmatched"
    SKIPPED = "skipped"
    DUPLICATE = "duplicate"
    UNREADABLE = "unreadable"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class Handled:
    """What handling one message came to: counted, its events posted, its campaign reported
    (`campaign_id` is set only when a negotiation row changed)."""

    disposition: Disposition
    campaign_id: str | None = None
    events: tuple[PipelineEvent, ...] = ()
    thread_id: str | None = None
    influencer_name: str | None = None
    # What was read and decided, for the run's log; None: described from the inbound row.
    decision: ReplyDecision | None = None


@dataclass(frozen=True)
class RunContext:
    """What every message of one run is handled with."""

    config: EngineConfig
    agent_addresses: tuple[str, ...]
    now: datetime
    mailbox_name: str
    second_opinion: SecondOpinion | None = None  # asked about low-confidence intents only


def message_key(parsed: ParsedMessage | None, raw: bytes) -> str:
    """The dedupe key: the Message-ID, or a content hash when the message has none."""
    if parsed is not None and parsed.message_id:
        return parsed.message_id
    return f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id>"


def record_message(
    uow: UnitOfWork,
    key: str,
    parsed: ParsedMessage,
    status: InboundStatus,
    stored: StoredNegotiation | None,
    detail: str,
) -> None:
    """The message's inbound row (its dedupe record), inside the caller's transaction."""
    recorded = uow.inbound.record(
        key,
        status=status,
        thread_id=None if stored is None else stored.thread_id,
        campaign_id=None if stored is None else stored.campaign_id,
        from_addr=parsed.from_addr or None,
        subject=parsed.subject,
        detail=detail,
    )
    if not recorded:
        # The message was seen before (checked first), so this row is the held one being
        # released now: it gets its final status.
        uow.inbound.resolve(key, parsed.from_addr, status=status, detail=detail)


def audit_received(
    uow: UnitOfWork,
    parsed: ParsedMessage,
    key: str,
    stored: StoredNegotiation | None,
    *,
    status: str,
    reading: ReplyReading | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    metadata: dict[str, Any] = {
        "message_id": key,
        "from": parsed.from_addr,
        "subject": parsed.subject,
        "status": status,
        **(extra or {}),
    }
    if reading is not None:
        metadata.update(
            proposed_rate=None if reading.proposed_rate is None else str(reading.proposed_rate),
            currency=reading.currency,
            confidence=round(reading.confidence, 3),
            # email_body keeps the text; one preview here, not a second copy of a long body
            new_text=preview(reading.new_text, TEXT_PREVIEW_CHARS),
        )
    uow.audit.insert(
        AuditEntry(
            event_type=EventType.EMAIL_RECEIVED,
            campaign_id=None if stored is None else stored.campaign_id,
            influencer_name=None if stored is None else stored.influencer_name,
            thread_id=None if stored is None else stored.thread_id,
            direction="inbound",
            email_body=parsed.text_body,
            negotiation_state=None if stored is None else stored.state,
            rates_used=None
            if reading is None or reading.proposed_rate is None
            else f"their ask {reading.proposed_rate} {reading.currency or ''}".strip(),
            intent_classification=None if reading is None else reading.intent,
            metadata=metadata,
        )
    )


def audit_error(store: NegotiationStore, thread_id: str | None, error: str) -> None:
    try:
        store.audit.insert(
            AuditEntry(event_type=EventType.ERROR, thread_id=thread_id, metadata={"error": error})
        )
    except Exception:  # the database itself is failing; the log line above is what remains
        logger.exception("could not audit: %s", error)
