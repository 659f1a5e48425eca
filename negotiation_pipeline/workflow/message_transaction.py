"""One fetched message in its own transaction: match it to a thread, dedupe it, and hand it to
the thread's own side (answering.py), our own side (a person answering by hand takes the thread
over) or the held messages (senders.py).

The transaction is not exclusive: it locks the message's key before the dedupe check and the
negotiation before reading it, so replies of different negotiations are handled side by side
in parallel runs while one negotiation is never advanced by two transactions at once. The uid is
recorded as handled in the same transaction. A reply the engine cannot take is recorded as
broken (skipped, with the error) and audited; a database failure propagates, so the message is
left for the next run.
"""

from __future__ import annotations

import logging

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import TERMINAL_STATES, EventType
from negotiation_pipeline.integrations.mail.base import (
    IncomingMessage,
    Mailbox,
    UnreadableMessage,
)
from negotiation_pipeline.integrations.mail.mime import ParsedMessage
from negotiation_pipeline.integrations.mail.thread_headers import (
    bare_address,
    is_own_message,
    match_reply,
    normalize_subject,
)
from negotiation_pipeline.store.base import Lockable, NegotiationStore, UnitOfWork
from negotiation_pipeline.store.records import InboundStatus, StoredNegotiation
from negotiation_pipeline.workflow.answering import decide
from negotiation_pipeline.workflow.inbound_records import (
    STORE_FAILURES,
    Disposition,
    Handled,
    RunContext,
    audit_received,
    message_key,
    record_message,
)
from negotiation_pipeline.workflow.mail_progress import HandledUid
from negotiation_pipeline.workflow.notify import queue_alerts
from negotiation_pipeline.workflow.senders import (
    hold,
    own_message_problem,
    sender_problem,
    take_over,
)

logger = logging.getLogger(__name__)


def handle_in_transaction(
    store: NegotiationStore,
    mailbox: Mailbox,
    item: IncomingMessage | UnreadableMessage,
    uidvalidity: int,
    context: RunContext,
) -> Handled:
    """One message in its transaction, with its uid recorded as handled in that same
    transaction. Not exclusive: it locks what it rewrites (see `_handle_message`)."""
    handled_uid = HandledUid(context.mailbox_name, uidvalidity, item.uid)
    if isinstance(item, UnreadableMessage):
        return _record_unreadable(store, item, handled_uid)
    # Asked before the transaction: a mail server round trip must not hold the write lock.
    in_sent_mail = _in_sent_mail(store, mailbox, item.parsed, context)
    try:
        with store.transaction(exclusive=False) as uow:
            handled = _handle_message(uow, item.parsed, item.raw, context, in_sent_mail)
            queue_alerts(uow, handled.events)  # the alerts commit with the change they report
            handled_uid.record(uow)
            return handled
    except STORE_FAILURES:
        raise
    except Exception as exc:  # a bug or a reply the engine cannot take: record it, move on
        logger.exception("uid %s: reply could not be handled", item.uid)
        return _record_broken(store, item, exc, handled_uid)


def _in_sent_mail(
    store: NegotiationStore, mailbox: Mailbox, parsed: ParsedMessage, context: RunContext
) -> bool:
    """For a message claiming our own address that is not one of our outbox emails: is it
    among our sent mail (the proof that a person on our side wrote it)? False otherwise."""
    if not is_own_message(parsed, context.agent_addresses) or not parsed.message_id:
        return False
    if store.outbox.get(parsed.message_id) is not None:
        return False  # our own email: recognised from the outbox, no proof needed
    try:
        return mailbox.in_sent_folder(parsed.message_id)
    except ValueError:  # a Message-ID no mail client of ours would write
        return False


def _record_unreadable(
    store: NegotiationStore, item: UnreadableMessage, handled_uid: HandledUid
) -> Handled:
    key = message_key(None, item.raw)
    with store.transaction(exclusive=False) as uow:
        uow.lock(Lockable.MESSAGE, key)
        handled_uid.record(uow)
        if not uow.inbound.record(
            key, status=InboundStatus.SKIPPED, detail=f"unreadable: {item.error}"
        ):
            return Handled(Disposition.DUPLICATE)
        uow.audit.insert(
            AuditEntry(
                event_type=EventType.ERROR,
                direction="inbound",
                metadata={"message_id": key, "error": f"unreadable message: {item.error}"},
            )
        )
    return Handled(Disposition.UNREADABLE)


def _record_broken(
    store: NegotiationStore, item: IncomingMessage, exc: Exception, handled_uid: HandledUid
) -> Handled:
    key = message_key(item.parsed, item.raw)
    error = f"{type(exc).__name__}: {exc}"
    with store.transaction(exclusive=False) as uow:
        uow.lock(Lockable.MESSAGE, key)
        handled_uid.record(uow)
        if not uow.inbound.record(
            key,
            status=InboundStatus.SKIPPED,
            from_addr=item.parsed.from_addr or None,
            subject=item.parsed.subject,
            detail=f"error: {error}"[:2000],
        ):
            return Handled(Disposition.DUPLICATE)
        uow.audit.insert(
            AuditEntry(
                event_type=EventType.ERROR,
                direction="inbound",
                email_body=item.parsed.text_body,
                metadata={"message_id": key, "from": item.parsed.from_addr, "error": error},
            )
        )
    return Handled(Disposition.SKIPPED)


class StoreThreadLookup:
    """`ThreadLookup` over the store: our outbox and the replies already recorded."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def thread_for_message_id(self, message_id: str) -> str | None:
        ours = self._uow.outbox.get(message_id)
        if ours is not None and ours.thread_id:
            return ours.thread_id
        return self._uow.inbound.thread_for(message_id)

    def thread_for_counterparty(self, address: str, normalized_subject: str) -> str | None:
        candidates = self._uow.states.load_by_email(bare_address(address))
        # Open negotiations first: an old finished thread must not capture a new reply.
        candidates.sort(key=lambda s: s.state in TERMINAL_STATES)
        for stored in candidates:
            subjects = {
                normalize_subject(e.subject) for e in self._uow.outbox.for_thread(stored.thread_id)
            }
            if normalized_subject in subjects:
                return stored.thread_id
        return None


def load_locked(uow: UnitOfWork, thread_id: str) -> StoredNegotiation | None:
    """The negotiation, read once this transaction holds it: a transaction advancing it in
    another run has committed, and none starts until this one ends."""
    uow.lock(Lockable.THREAD, thread_id)
    return uow.states.load(thread_id)


def _match(parsed: ParsedMessage, lookup: StoreThreadLookup, own: bool) -> str | None:
    thread_id = match_reply(parsed, lookup)
    if thread_id is None and own:
        # Our side writing to the influencer: the counterparty is the recipient.
        subject = normalize_subject(parsed.subject)
        for address in parsed.to_addrs:
            thread_id = lookup.thread_for_counterparty(address, subject)
            if thread_id is not None:
                break
    return thread_id


def _handle_message(
    uow: UnitOfWork,
    parsed: ParsedMessage,
    raw: bytes,
    context: RunContext,
    in_sent_mail: bool = False,
) -> Handled:
    key = message_key(parsed, raw)
    # Locked before the dedupe check: another run handling the same message commits first,
    # and this check then sees it.
    uow.lock(Lockable.MESSAGE, key)
    if uow.inbound.seen(key, parsed.from_addr):
        return Handled(Disposition.DUPLICATE)
    lookup = StoreThreadLookup(uow)
    if is_own_message(parsed, context.agent_addresses):
        return _handle_own(uow, parsed, raw, key, lookup, in_sent_mail)
    thread_id = _match(parsed, lookup, own=False)
    stored = None if thread_id is None else load_locked(uow, thread_id)
    if stored is None:
        record_message(uow, key, parsed, InboundStatus.UNMATCHED, None, "matched no negotiation")
        audit_received(uow, parsed, key, None, status="unmatched")
        return Handled(Disposition.UNMATCHED)
    handled = decide(uow, parsed, raw, key, stored, context)
    if handled is not None:
        return handled
    reason = sender_problem(uow, stored, parsed, raw)
    assert reason is not None  # decide returns None only for a sender that may not steer
    held = hold(uow, parsed, raw, key, stored, reason)
    return Handled(Disposition.QUARANTINED, events=() if held.event is None else (held.event,))


def _handle_own(
    uow: UnitOfWork,
    parsed: ParsedMessage,
    raw: bytes,
    key: str,
    lookup: StoreThreadLookup,
    in_sent_mail: bool,
) -> Handled:
    """Our own address wrote it. In our outbox: our sent copy, ignore. Otherwise a person on our
    side answered by hand, if our sent mail holds it: that thread is theirs from now on. Without
    that proof it is held like a stranger's message (anyone can write our address in From)."""
    if uow.outbox.get(key) is not None:
        record_message(uow, key, parsed, InboundStatus.OWN, None, "our own sent email")
        return Handled(Disposition.SKIPPED)
    thread_id = _match(parsed, lookup, own=True)
    stored = None if thread_id is None else load_locked(uow, thread_id)
    if stored is None:
        record_message(
            uow, key, parsed, InboundStatus.OWN, None, "from our address, no known thread"
        )
        return Handled(Disposition.SKIPPED)
    problem = own_message_problem(parsed, raw, in_sent_mail)
    if problem is not None:
        held = hold(uow, parsed, raw, key, stored, problem, from_our_address=True)
        events = () if held.event is None else (held.event,)
        return Handled(Disposition.QUARANTINED, events=events)
    took_over = take_over(uow, parsed, key, stored)
    detail = "human reply from our side" + (": thread taken over" if took_over else "")
    record_message(uow, key, parsed, InboundStatus.OWN, stored, detail)
    if took_over is None:
        return Handled(Disposition.SKIPPED)
    return Handled(Disposition.SKIPPED, stored.campaign_id, (took_over,))
