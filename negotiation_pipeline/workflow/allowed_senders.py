"""Allowed senders: let one more address answer in a negotiation, then process its held replies.

Besides the roster's influencer and manager addresses, a human can allow another address (an
assistant, a new manager) on the negotiation(s) named by a thread id or influencer email. The
allowance is recorded and audited first; then that address's held replies are processed, each
exactly once (see workflow/senders.py for why replies are held).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from negotiation_pipeline.domain.addresses import AddressError, address_key, validate_address
from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.domain.negotiation.engine import EngineConfig
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.control import ControlError, thread_ids_for
from negotiation_pipeline.workflow.events import PipelineEvent
from negotiation_pipeline.workflow.release import release_held_replies
from negotiation_pipeline.workflow.senders import accepted_addresses


@dataclass(frozen=True)
class AllowResult:
    address: str  # as recorded (validated, normalised)
    allowed: tuple[str, ...]  # thread ids the address was newly allowed on
    released: int  # held replies processed by this call
    events: tuple[PipelineEvent, ...]  # what processing them caused (alerts to post)
    touched_campaigns: tuple[str, ...]
    lines: tuple[str, ...]  # one readable line per thread


def allow_sender(
    store: NegotiationStore,
    target: str,
    address: str,
    *,
    actor: str,
    now: datetime,
    config: EngineConfig,
    agent_addresses: Sequence[str],
) -> AllowResult:
    """Allow `address` to answer in the negotiation(s) named by `target` (thread id or
    influencer email), then process its held replies there, oldest first, each exactly once.

    The allowance is recorded (and audited with `actor`) before the replies are processed, and
    each reply's processing is one transaction that also ends its held state: run it again
    after a crash and it finishes the work without repeating any of it; a later
    advance_negotiations run also finishes it. Answers are only queued: the next
    advance_negotiations or run_followups run sends them.
    """
    actor = actor.strip()
    if not actor:
        raise ControlError("an actor (who is doing this) is required for the audit trail")
    try:
        normalized = validate_address(address)
    except AddressError as exc:
        raise ControlError(f"{address.strip()!r} is not a valid email address: {exc}") from None
    key = address_key(normalized)
    if key in {address_key(own) for own in agent_addresses}:
        raise ControlError(
            f"{normalized} is our own address: it is never an allowed sender (a reply from it "
            "takes a thread over only when it is in our sent mail); use control takeover"
        )
    allowed: list[str] = []
    events: list[PipelineEvent] = []
    campaigns: dict[str, None] = {}
    lines: list[str] = []
    released = 0
    for thread_id in thread_ids_for(store, target):
        newly = _record_allowance(store, thread_id, normalized, key, actor)
        if newly is None:
            lines.append(f"{thread_id}: unchanged: no longer in the store")
            continue
        if newly:
            allowed.append(thread_id)
        outcome = release_held_replies(
            store, config, thread_id=thread_id, agent_addresses=agent_addresses, now=now
        )
        released += len(outcome.released)
        events.extend(outcome.events)
        campaigns.update(dict.fromkeys(outcome.touched_campaigns))
        still = [
            held
            for held in store.inbound.quarantined(thread_id)
            if address_key(held.from_addr or "") == key
        ]
        lines.append(_allow_line(thread_id, normalized, newly, outcome.released, still))
    return AllowResult(
        normalized, tuple(allowed), released, tuple(events), tuple(campaigns), tuple(lines)
    )


def _record_allowance(
    store: NegotiationStore, thread_id: str, address: str, key: str, actor: str
) -> bool | None:
    """True = newly allowed, False = allowed already, None = the negotiation is gone."""
    with store.transaction() as uow:
        stored = uow.states.load(thread_id)
        if stored is None:
            return None
        if not uow.allowed_senders.allow(thread_id, address, key, allowed_by=actor):
            return False
        uow.audit.insert(
            AuditEntry(
                event_type=EventType.TAKEOVER,
                campaign_id=stored.campaign_id,
                influencer_name=stored.influencer_name,
                thread_id=thread_id,
                negotiation_state=stored.state,
                metadata={
                    "action": "allow_sender",
                    "allowed_sender": address,
                    "already_a_roster_address": key in accepted_addresses(stored),
                    "actor": actor,
                    "source": "control",
                },
            )
        )
        return True


def _allow_line(
    thread_id: str,
    address: str,
    newly: bool,
    released: Sequence[tuple[str, str]],
    still_held: Sequence[object],
) -> str:
    parts = [f"{address} allowed" if newly else f"{address} was already allowed"]
    if released:
        what = ", ".join(f"{message_id} {outcome}" for message_id, outcome in released)
        noun = "reply" if len(released) == 1 else "replies"
        parts.append(f"{len(released)} held {noun} processed ({what})")
    else:
        parts.append("no held reply to process")
    if still_held:
        noun = "reply" if len(still_held) == 1 else "replies"
        parts.append(f"{len(still_held)} {noun} from it still held (From header unclear)")
    return f"{thread_id}: " + "; ".join(parts)


__all__ = ["AllowResult", "allow_sender"]
