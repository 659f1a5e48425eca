"""Held replies whose sender an operator has allowed since: processed, each exactly once.

A held (quarantined) message keeps its bytes in the store. Releasing it parses them again and
handles it like new mail from the thread's side, in one transaction that also turns its held row
into its final status: whoever gets there first (the operator's `control allow-sender`, or the
next advance_negotiations run after an interrupted one) processes it, and nobody processes it
twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from negotiation_pipeline.domain.addresses import address_key
from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.domain.negotiation.engine import EngineConfig
from negotiation_pipeline.integrations.mail.mime import MalformedMessageError, parse_message
from negotiation_pipeline.store.base import NegotiationStore, UnitOfWork
from negotiation_pipeline.store.records import InboundMessage, InboundStatus
from negotiation_pipeline.workflow.answering import decide
from negotiation_pipeline.workflow.events import PipelineEvent
from negotiation_pipeline.workflow.inbound_records import (
    STORE_FAILURES,
    Disposition,
    Handled,
    RunContext,
    audit_error,
)
from negotiation_pipeline.workflow.notify import queue_alerts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReleaseResult:
    """What releasing a thread's held messages did."""

    released: tuple[tuple[str, str], ...]  # (Message-ID, what happened: processed / skipped)
    still_held: int  # held messages of the thread whose sender is still not allowed
    events: tuple[PipelineEvent, ...]
    touched_campaigns: tuple[str, ...]


def release_held_replies(
    store: NegotiationStore,
    config: EngineConfig,
    *,
    thread_id: str,
    agent_addresses: Sequence[str],
    now: datetime,
) -> ReleaseResult:
    """Process every held message of this thread whose sender is now accepted (allowed by an
    operator), oldest first, each exactly once: its held row turns into its final status in the
    same transaction as the change it causes, so a second call (or a run after a crash) finds
    nothing left to do. Answers are queued in the outbox; the next delivery sends them."""
    context = RunContext(config, tuple(agent_addresses), now, mailbox_name="")
    done = _release_thread(store, context, thread_id)
    campaigns = dict.fromkeys(r.handled.campaign_id for r in done if r.handled.campaign_id)
    return ReleaseResult(
        released=tuple((r.message_id, r.handled.disposition.value) for r in done),
        still_held=len(store.inbound.quarantined(thread_id)),
        events=tuple(event for r in done for event in r.handled.events),
        touched_campaigns=tuple(c for c in campaigns if c),
    )


@dataclass(frozen=True)
class ReleasedMessage:
    """One held message processed now that its sender is allowed, and what it came to."""

    message_id: str
    sender: str
    handled: Handled


def release_allowed(store: NegotiationStore, context: RunContext) -> list[ReleasedMessage]:
    """Held messages whose sender was allowed since they arrived (an operator's allow-sender
    that did not get to process them), every thread: what each one came to."""
    return [
        released
        for thread_id in store.allowed_senders.threads_with_held()
        for released in _release_thread(store, context, thread_id)
    ]


def _release_thread(
    store: NegotiationStore, context: RunContext, thread_id: str
) -> list[ReleasedMessage]:
    allowed = {sender.address_key for sender in store.allowed_senders.for_thread(thread_id)}
    ours = {address_key(address) for address in context.agent_addresses}
    done: list[ReleasedMessage] = []
    for row in store.inbound.quarantined(thread_id):
        sender = address_key(row.from_addr or "")
        if sender not in allowed or sender in ours:
            continue  # our own address is never "allowed": a takeover needs the sent copy
        handled = _release_safely(store, row, context)
        if handled is not None:
            done.append(ReleasedMessage(row.message_id, row.from_addr or "", handled))
    return done


def _release_safely(
    store: NegotiationStore, row: InboundMessage, context: RunContext
) -> Handled | None:
    try:
        with store.transaction() as uow:
            return _release_one(uow, row, context)
    except STORE_FAILURES as exc:
        logger.exception("held %s: database failure; still held, retried later", row.message_id)
        audit_error(store, row.thread_id, f"database failure releasing {row.message_id}: {exc}")
        return None
    except Exception as exc:  # the engine cannot take it: recorded once, like a broken reply
        logger.exception("held %s: could not be handled", row.message_id)
        error = f"{type(exc).__name__}: {exc}"
        with store.transaction() as uow:
            if not uow.inbound.resolve(
                row.message_id, row.from_addr or "", status=InboundStatus.SKIPPED,
                detail=f"error: {error}"[:2000],
            ):  # fmt: skip
                return None
            uow.audit.insert(
                AuditEntry(
                    event_type=EventType.ERROR,
                    thread_id=row.thread_id,
                    direction="inbound",
                    metadata={"message_id": row.message_id, "from": row.from_addr, "error": error},
                )
            )
        return Handled(Disposition.SKIPPED)


def _release_one(uow: UnitOfWork, row: InboundMessage, context: RunContext) -> Handled | None:
    sender = row.from_addr or ""
    current = uow.inbound.get(row.message_id, sender)
    if current is None or current.status is not InboundStatus.QUARANTINED:
        return None  # released by another run meanwhile
    kept = uow.inbound.held(row.message_id, sender)
    stored = None if current.thread_id is None else uow.states.load(current.thread_id)
    if kept is None or stored is None:
        missing = "its bytes are" if kept is None else "its negotiation is"
        uow.inbound.resolve(
            row.message_id, sender, status=InboundStatus.SKIPPED,
            detail=f"released, but {missing} no longer in the store",
        )  # fmt: skip
        return Handled(Disposition.SKIPPED)
    try:
        parsed = parse_message(kept.raw)
    except MalformedMessageError as exc:
        uow.inbound.resolve(
            row.message_id, sender, status=InboundStatus.SKIPPED,
            detail=f"released, but unreadable: {exc}"[:2000],
        )  # fmt: skip
        return Handled(Disposition.SKIPPED)
    handled = decide(uow, parsed, kept.raw, row.message_id, stored, context)
    if handled is not None:
        queue_alerts(uow, handled.events)  # the alerts commit with the change they report
    return handled
