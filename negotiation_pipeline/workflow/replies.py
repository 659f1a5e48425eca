"""Advance negotiations from new mail: read each reply, decide, queue our answer, deliver.

Exactly-once rules:
- each message is handled in ONE transaction: the inbound row (deduplicated by Message-ID and
  sender, so another sender's message with the same Message-ID is never dropped), the
  negotiation row, the outbox email, the agreement, the campaign's CPM tracker and the audit
  entries commit together or not at all, so a crash leaves a reply either fully handled or
  untouched;
- the mail cursor moves only over uids that were handled, after their transactions;
- emails are sent after the commits (`deliver_pending`), each at most once.

Several runs on one mailbox at once (PostgreSQL; on SQLite they take turns in the database):
- which uids a run fetches and how far the cursor moves is mail_progress.py: each run claims
  its uids, skips those another run holds or has handled, and records each uid it handles in
  that message's transaction;
- one sender's messages are handled in arrival order whichever runs read them (mail_batch.py);
- a message's transaction locks its Message-ID before the dedupe check and its negotiation
  before reading it: replies of different negotiations are handled side by side, while one
  negotiation is never advanced by two transactions at once.

Only a thread's own side can change it (workflow/senders.py): any other sender's message is
held (quarantined) in its transaction. A held message whose sender an operator has since allowed
is processed, once, by `control allow-sender` or at the start of the next run (release.py).
One message in its transaction: matching and our own mail here, the thread's own side's
replies in answering.py, the records both write in inbound_records.py.

One message never stops the others: a broken reply is recorded (skipped, with the error) and
audited; a database failure rolls back that message only and leaves it for the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import TERMINAL_STATES, EventType
from negotiation_pipeline.domain.negotiation.engine import EngineConfig
from negotiation_pipeline.integrations.mail.base import (
    IncomingMessage,
    Mailbox,
    MailCursor,
    UidValidityChangedError,
    UnreadableMessage,
)
from negotiation_pipeline.integrations.mail.mime import ParsedMessage
from negotiation_pipeline.integrations.mail.thread_headers import (
    bare_address,
    is_own_message,
    match_reply,
    normalize_subject,
)
from negotiation_pipeline.store.base import (
    InboundStatus,
    Lockable,
    NegotiationStore,
    StoredNegotiation,
    UnitOfWork,
)
from negotiation_pipeline.workflow.answering import decide
from negotiation_pipeline.workflow.events import PipelineEvent, ReplyDecision
from negotiation_pipeline.workflow.inbound_records import (
    STORE_FAILURES,
    Disposition,
    Handled,
    RunContext,
    audit_received,
    message_key,
    record_message,
)
from negotiation_pipeline.workflow.mail_batch import BatchReader, UidTally
from negotiation_pipeline.workflow.mail_progress import (
    HandledUid,
    advance_cursor,
    stored_cursor,
    with_earlier_unhandled,
)
from negotiation_pipeline.workflow.notify import queue_alerts
from negotiation_pipeline.workflow.outbox import DeliveryResult, deliver_pending
from negotiation_pipeline.workflow.release import release_allowed
from negotiation_pipeline.workflow.reply_decisions import NameCache, described_decision
from negotiation_pipeline.workflow.second_opinion import SecondOpinion
from negotiation_pipeline.workflow.senders import (
    hold,
    own_message_problem,
    sender_problem,
    take_over,
)

logger = logging.getLogger(__name__)

DEFAULT_LIST_LIMIT = 500


@dataclass(frozen=True)
class NewMailBatch:
    uidvalidity: int
    uids: tuple[int, ...]
    batch_key: str  # f"{mailbox_name}:{uidvalidity}:{first}-{last}" (a run_key for the sensor)

    @property
    def empty(self) -> bool:
        return not self.uids


@dataclass(frozen=True)
class AdvanceResult:
    processed: int  # replies that advanced a negotiation
    unmatched: int  # matched no negotiation
    skipped: int  # own mail, auto-replies, paused / stopped / human threads, broken replies
    duplicates: int  # Message-ID already handled (redelivery, UIDVALIDITY rescan)
    unreadable: int  # bytes that did not parse as a message (recorded, cursor moves on)
    touched_campaigns: tuple[str, ...]  # campaigns with a negotiation whose state changed
    events: tuple[PipelineEvent, ...]
    delivery: DeliveryResult
    failed_uids: tuple[int, ...] = ()  # database failures: retried on the next run
    cursor: MailCursor | None = None  # the stored cursor after this run
    quarantined: int = 0  # matched a thread, sender may not steer it: held (see senders.py)
    released: int = 0  # held replies whose sender was allowed since, processed in this run
    replies: tuple[ReplyDecision, ...] = ()  # one per message handled, in order (for the log)
    handled_elsewhere: int = 0  # uids another run was handling, or had handled, when reached
    # Left unhandled because their sender's earlier mail was still being handled by another
    # run (see mail_batch.py): a later run handles them, in order.
    waiting_uids: tuple[int, ...] = ()


@dataclass
class _Tally:
    counts: dict[Disposition, int] = field(default_factory=lambda: dict.fromkeys(Disposition, 0))
    campaigns: dict[str, None] = field(default_factory=dict)  # ordered set
    events: list[PipelineEvent] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # thread id → influencer name
    released: int = 0
    uids: UidTally = field(default_factory=UidTally)
    decisions: list[ReplyDecision] = field(default_factory=list)
    described: NameCache = field(default_factory=dict)  # threads named in `decisions`

    def add(self, handled: Handled) -> None:
        self.counts[handled.disposition] += 1
        if handled.campaign_id:  # set only when a negotiation row changed
            self.campaigns[handled.campaign_id] = None
        self.events.extend(handled.events)
        if handled.thread_id and handled.influencer_name:
            self.names[handled.thread_id] = handled.influencer_name


# --- listing (the sensor) -----------------------------------------------------------------------
def list_new_mail(
    store: NegotiationStore, mailbox: Mailbox, mailbox_name: str, limit: int = DEFAULT_LIST_LIMIT
) -> NewMailBatch:
    """Uids after the stored cursor (ids only, no bodies): cheap enough for a sensor tick.

    `batch_key` names exactly this batch, so a sensor can use it as a run_key: the same
    unhandled mail listed twice launches one run.
    """
    listing = mailbox.list_new_ids(stored_cursor(store, mailbox_name), limit)
    uids = listing.uids
    span = f"{uids[0]}-{uids[-1]}" if uids else "none"
    return NewMailBatch(listing.uidvalidity, uids, f"{mailbox_name}:{listing.uidvalidity}:{span}")


# --- the job ------------------------------------------------------------------------------------
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
    limit: int = DEFAULT_LIST_LIMIT,
    second_opinion: SecondOpinion | None = None,
) -> AdvanceResult:
    """Handle new mail (the given uids, or everything after the stored cursor, at most `limit`),
    move the cursor over what was handled, then deliver the outbox.

    `second_opinion` (optional) is asked about replies the rules read with low confidence; it
    can change only their intent (workflow/second_opinion.py)."""
    if uids is None or uidvalidity is None:
        batch = list_new_mail(store, mailbox, mailbox_name, limit)
        uids, uidvalidity = batch.uids, batch.uidvalidity
    tally = _Tally()
    context = RunContext(config, tuple(agent_addresses), now, mailbox_name, second_opinion)
    for released in release_allowed(store, context):
        tally.released += 1
        tally.add(released)
        if released.decision is not None:
            tally.decisions.append(released.decision)
    wanted = with_earlier_unhandled(store, mailbox, mailbox_name, uids, uidvalidity)
    try:
        _read(store, mailbox, wanted, uidvalidity, context, tally)
    except UidValidityChangedError:
        wanted, uidvalidity = _rescan(store, mailbox, mailbox_name, limit, context, tally)
    cursor = advance_cursor(store, mailbox_name, uidvalidity, wanted, tally.uids.handled)
    delivery = deliver_pending(
        store, mailbox, influencer_names=tally.names, now=now, retry=config.policy.delivery
    )
    counts = tally.counts
    return AdvanceResult(
        processed=counts[Disposition.PROCESSED],
        unmatched=counts[Disposition.UNMATCHED],
        skipped=counts[Disposition.SKIPPED],
        duplicates=counts[Disposition.DUPLICATE],
        unreadable=counts[Disposition.UNREADABLE],
        touched_campaigns=tuple(tally.campaigns),
        events=tuple(tally.events),
        delivery=delivery,
        failed_uids=tuple(tally.uids.failed),
        cursor=cursor,
        quarantined=counts[Disposition.QUARANTINED],
        released=tally.released,
        replies=tuple(tally.decisions),
        handled_elsewhere=len(tally.uids.elsewhere),
        waiting_uids=tuple(tally.uids.waiting),
    )


def _rescan(
    store: NegotiationStore,
    mailbox: Mailbox,
    mailbox_name: str,
    limit: int,
    context: RunContext,
    tally: _Tally,
) -> tuple[list[int], int]:
    """The mailbox was rebuilt since the uids were listed: list everything again (the stored
    cursor has the old UIDVALIDITY, so the mailbox rescans) and handle it; Message-ID dedupe
    skips what was already handled. Returns what was listed and the new UIDVALIDITY."""
    logger.warning("%s: UIDVALIDITY changed; rescanning the mailbox", mailbox_name)
    batch = list_new_mail(store, mailbox, mailbox_name, limit)
    wanted, uidvalidity = list(batch.uids), batch.uidvalidity
    tally.uids.clear()  # uid numbers of the old UIDVALIDITY mean nothing now
    _read(store, mailbox, wanted, uidvalidity, context, tally)
    return wanted, uidvalidity


def _read(
    store: NegotiationStore,
    mailbox: Mailbox,
    wanted: Sequence[int],
    uidvalidity: int,
    context: RunContext,
    tally: _Tally,
) -> None:
    """Fetch and handle `wanted` (mail_batch.py: claims, arrival order per sender)."""
    start = len(tally.uids.results)

    def handle_one(item: IncomingMessage | UnreadableMessage) -> Handled:
        handled = _handle_one(store, mailbox, item, uidvalidity, context)
        tally.decisions.append(_decision(store, item, handled, tally))
        return handled

    try:
        BatchReader(store, mailbox, context.mailbox_name, uidvalidity, handle_one, tally.uids).read(
            wanted
        )
    finally:
        for handled in tally.uids.results[start:]:
            tally.add(handled)


def _decision(
    store: NegotiationStore,
    item: IncomingMessage | UnreadableMessage,
    handled: Handled,
    tally: _Tally,
) -> ReplyDecision:
    """What the log says about the message: the engine's decision when it answered, else why
    not, from the row just recorded. Describing never stops the run: the message is handled."""
    if handled.decision is not None:
        return handled.decision
    parsed = item.parsed if isinstance(item, IncomingMessage) else None
    key = message_key(parsed, item.raw)
    sender = "" if parsed is None else parsed.from_addr
    try:
        return described_decision(store, key, sender, handled.disposition.value, tally.described)
    except STORE_FAILURES:
        logger.exception("uid %s: could not describe the handled message", item.uid)
        return ReplyDecision(message_id=key, disposition=handled.disposition.value, sender=sender)


def _handle_one(
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


# --- one message, inside its transaction ---------------------------------------------------------
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


# --- held replies whose sender has been allowed since -------------------------------------------
