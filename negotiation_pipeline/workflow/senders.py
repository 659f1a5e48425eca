"""Who may steer a negotiation, and what happens to a message from anyone else.

A message that matched a negotiation changes it only when it comes from that negotiation's
side: the influencer's roster address, one of the roster's `manager_email` addresses (both kept
on the negotiation's terms), or an address an operator allowed for the thread
(`control allow-sender`). Addresses are compared by `domain.addresses.address_key`.

Anything else is held, in the transaction that would have handled it: the inbound row is
`quarantined` with the reason, its bytes are kept (bounded) so it can be processed later,
exactly once, the audit trail records it, and the first held message of a sender in a thread
raises one `ReplyHeld` alert. The thread itself is not touched.

A message from our own address is a person on our side only when it is among our sent mail
(the IMAP Sent folder, the sandbox's sent Maildir); then it takes the thread over, audited and
announced (`HumanTookOver`). Without that proof it is held like any unknown sender.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from negotiation_pipeline.domain.addresses import address_key
from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.integrations.mail.mime import ParsedMessage
from negotiation_pipeline.integrations.mail.thread_headers import from_header_problem
from negotiation_pipeline.store.base import UnitOfWork
from negotiation_pipeline.store.records import Controller, InboundStatus, StoredNegotiation
from negotiation_pipeline.workflow.events import HumanTookOver, ReplyHeld

ALLOW_HINT = "the influencer's roster address, a roster manager_email or an allowed address"


@dataclass(frozen=True)
class Held:
    """What holding one message produced: the alert to post (None when this sender already has
    a message held in the thread, which was announced then)."""

    event: ReplyHeld | None


def accepted_addresses(stored: StoredNegotiation) -> frozenset[str]:
    """Comparison keys of the roster's addresses for this negotiation."""
    terms: Mapping[str, Any] = stored.context.get("terms") or {}
    addresses = [terms.get("email"), stored.influencer_email, *(terms.get("manager_emails") or ())]
    keys = {address_key(str(address)) for address in addresses if address}
    keys.discard("")
    return frozenset(keys)


def sender_problem(
    uow: UnitOfWork, stored: StoredNegotiation, parsed: ParsedMessage, raw: bytes
) -> str | None:
    """Why this message may not change the negotiation, or None when its sender may."""
    if not parsed.from_addr:
        return "the message has no usable From address"
    unclear = from_header_problem(raw, parsed.from_addr)
    if unclear is not None:
        return unclear
    key = address_key(parsed.from_addr)
    if key in accepted_addresses(stored) or uow.allowed_senders.is_allowed(stored.thread_id, key):
        return None
    return f"{parsed.from_addr} is not one of this negotiation's senders ({ALLOW_HINT})"


def own_message_problem(parsed: ParsedMessage, raw: bytes, in_sent_mail: bool) -> str | None:
    """Why a message claiming our own address is not a person on our side, or None."""
    unclear = from_header_problem(raw, parsed.from_addr)
    if unclear is not None:
        return unclear
    if not in_sent_mail:
        return (
            f"claims our own address {parsed.from_addr} but is not in our sent mail "
            "(a forged human reply?); if a colleague really wrote it, take the thread over "
            "with control takeover"
        )
    return None


def hold(
    uow: UnitOfWork,
    parsed: ParsedMessage,
    raw: bytes,
    key: str,
    stored: StoredNegotiation,
    reason: str,
    *,
    from_our_address: bool = False,
) -> Held:
    """Quarantine the message (inside the caller's transaction); see the module docstring."""
    already_held = len(uow.inbound.quarantined(stored.thread_id, parsed.from_addr))
    uow.inbound.record(
        key,
        status=InboundStatus.QUARANTINED,
        thread_id=stored.thread_id,
        campaign_id=stored.campaign_id,
        from_addr=parsed.from_addr or None,
        subject=parsed.subject,
        detail=reason[:2000],
    )
    uow.inbound.hold(key, parsed.from_addr, stored.thread_id, raw)
    uow.audit.insert(
        AuditEntry(
            event_type=EventType.EMAIL_RECEIVED,
            campaign_id=stored.campaign_id,
            influencer_name=stored.influencer_name,
            thread_id=stored.thread_id,
            direction="inbound",
            email_body=parsed.text_body,
            negotiation_state=stored.state,
            metadata={
                "message_id": key,
                "from": parsed.from_addr,
                "subject": parsed.subject,
                "status": f"quarantined: {reason}",
                "quarantine_reason": reason,
            },
        )
    )
    if already_held:
        return Held(None)
    event = ReplyHeld(
        thread_id=stored.thread_id,
        campaign_id=stored.campaign_id,
        influencer_name=stored.influencer_name or stored.thread_id,
        sender=parsed.from_addr,
        reason=reason,
        subject=parsed.subject,
        message_id=key,
        held_count=already_held + 1,
        from_our_address=from_our_address,
    )
    return Held(event)


def take_over(
    uow: UnitOfWork, parsed: ParsedMessage, key: str, stored: StoredNegotiation
) -> HumanTookOver | None:
    """A verified person on our side wrote in the thread: it is theirs from now on. None when
    it already was (nothing changes, nothing to announce)."""
    if stored.controlled_by is Controller.HUMAN:
        return None
    uow.states.set_controlled_by(stored.thread_id, Controller.HUMAN)
    uow.audit.insert(
        AuditEntry(
            event_type=EventType.TAKEOVER,
            campaign_id=stored.campaign_id,
            influencer_name=stored.influencer_name,
            thread_id=stored.thread_id,
            direction="outbound",
            email_body=parsed.text_body,
            negotiation_state=stored.state,
            metadata={
                "actor": parsed.from_addr,
                "trigger": "human_reply",
                "verified_by": "sent folder",
                "message_id": key,
                "detail": "a person replied from our address: automatic replies stop",
            },
        )
    )
    return HumanTookOver(
        thread_id=stored.thread_id,
        campaign_id=stored.campaign_id,
        influencer_name=stored.influencer_name or stored.thread_id,
        actor=parsed.from_addr,
        message_id=key,
    )
