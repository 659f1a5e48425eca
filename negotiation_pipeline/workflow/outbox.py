"""Deliver the outbox: every email was queued in the same transaction as the state change that
decided it; here it is sent after that commit, then marked sent.

Exactly once across crashes: each email has a deterministic Message-ID, and `Mailbox.send_once`
looks for that Message-ID in the sent store before sending. A process killed after sending but
before `mark_sent` therefore finds the email already sent on the next run and only marks it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.types import EventType, NegotiationState
from negotiation_pipeline.integrations.mail.base import Mailbox, OutgoingEmail
from negotiation_pipeline.store.base import Controller, NegotiationStore, OutboxEmail, UnitOfWork

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryResult:
    sent: int  # sent by this call
    already_sent: int  # found in the sent store (an earlier run sent it, then died before marking)
    failed: tuple[tuple[str, str], ...]  # (Message-ID, error) left pending for the next run
    # Message-IDs left pending because their thread is paused, stopped or taken over by a human:
    # a decision queued before the human stepped in is never sent behind their back.
    held: tuple[str, ...] = ()

    @staticmethod
    def empty() -> DeliveryResult:
        return DeliveryResult(0, 0, ())


def to_outgoing(email: OutboxEmail, to_name: str = "") -> OutgoingEmail:
    """The mail-layer email for one outbox row (raises HeaderInjectionError on bad headers)."""
    return OutgoingEmail(
        message_id=email.message_id,
        to_addr=email.to_addr,
        to_name=to_name or email.to_name,
        subject=email.subject,
        body=email.body,
        in_reply_to=email.in_reply_to,
        references=tuple((email.references or "").split()),
    )


def deliver_pending(
    store: NegotiationStore,
    mailbox: Mailbox,
    *,
    limit: int | None = None,
    influencer_names: Mapping[str, str] | None = None,
) -> DeliveryResult:
    """Send every pending outbox email (oldest first), each at most once; mark each sent.

    One email failing (server refused it, malformed address) is audited as an `error` and left
    pending; the others still go out. `influencer_names` (thread id → name), when the caller
    already knows them, saves loading each negotiation row for its audit entry.
    """
    sent = already = 0
    failed: list[tuple[str, str]] = []
    held: list[str] = []
    for email in store.outbox.pending(limit):
        reason = hold_reason(store, email)
        if reason is not None:
            held.append(email.message_id)
            logger.info("holding %s: %s", email.message_id, reason)
            continue
        try:
            newly_sent = mailbox.send_once(to_outgoing(email))
        except Exception as exc:  # one bad email must not block the rest of the outbox
            error = f"{type(exc).__name__}: {exc}"
            failed.append((email.message_id, error))
            logger.warning("sending %s failed: %s", email.message_id, error)
            _audit_failure(store, email, error)
            continue
        _mark_sent(store, email, newly_sent, influencer_names or {})
        if newly_sent:
            sent += 1
        else:
            already += 1
    return DeliveryResult(sent, already, tuple(failed), tuple(held))


def hold_reason(store: NegotiationStore, email: OutboxEmail) -> str | None:
    """Why a queued email must not go out now (its thread left the agent's hands), or None.
    A paused thread's email goes out after `control resume`; a stopped one's never."""
    if email.thread_id is None:
        return None
    negotiation = store.states.load(email.thread_id)
    if negotiation is None:
        return None
    if negotiation.controlled_by is Controller.HUMAN:
        return "the thread was taken over by a human"
    if negotiation.state in (NegotiationState.PAUSED, NegotiationState.STOPPED):
        return f"the thread is {negotiation.state.value}"
    return None


def _mark_sent(
    store: NegotiationStore, email: OutboxEmail, newly_sent: bool, names: Mapping[str, str]
) -> None:
    with store.transaction() as uow:
        if not uow.outbox.mark_sent(email.message_id):
            return  # another run marked it meanwhile; its audit entry is already written
        uow.audit.insert(
            AuditEntry(
                event_type=EventType.EMAIL_SENT,
                campaign_id=email.campaign_id,
                influencer_name=_influencer_name(uow, email.thread_id, names),
                thread_id=email.thread_id,
                direction="outbound",
                email_body=email.body,
                metadata={
                    "message_id": email.message_id,
                    "to": email.to_addr,
                    "subject": email.subject,
                    "found_in_sent_store": not newly_sent,
                },
            )
        )


def _influencer_name(
    uow: UnitOfWork, thread_id: str | None, names: Mapping[str, str]
) -> str | None:
    """For the audit row; `names` (thread id → name) saves a row load per email."""
    if thread_id is not None and thread_id in names:
        return names[thread_id]
    stored = None if thread_id is None else uow.states.load(thread_id)
    return None if stored is None else stored.influencer_name


def _audit_failure(store: NegotiationStore, email: OutboxEmail, error: str) -> None:
    try:
        store.audit.insert(
            AuditEntry(
                event_type=EventType.ERROR,
                campaign_id=email.campaign_id,
                thread_id=email.thread_id,
                direction="outbound",
                metadata={"message_id": email.message_id, "to": email.to_addr, "error": error},
            )
        )
    except Exception:  # the audit is best effort here; the email stays pending either way
        logger.exception("could not audit the failed send of %s", email.message_id)
