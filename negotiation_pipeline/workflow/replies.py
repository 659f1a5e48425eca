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
One message in its transaction: matching and our own mail in message_transaction.py, the
thread's own side's replies in answering.py, the records both write in inbound_records.py.

One message never stops the others: a broken reply is recorded (skipped, with the error) and
audited; a database failure rolls back that message only and leaves it for the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from negotiation_pipeline.domain.negotiation.engine import EngineConfig
from negotiation_pipeline.integrations.mail.base import (
    IncomingMessage,
    Mailbox,
    MailCursor,
    UidValidityChangedError,
    UnreadableMessage,
)
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.events import PipelineEvent, ReplyDecision
from negotiation_pipeline.workflow.inbound_records import (
    STORE_FAILURES,
    Disposition,
    Handled,
    RunContext,
    message_key,
)
from negotiation_pipeline.workflow.mail_batch import BatchReader, UidTally
from negotiation_pipeline.workflow.mail_progress import (
    advance_cursor,
    stored_cursor,
    with_earlier_unhandled,
)
from negotiation_pipeline.workflow.message_transaction import handle_in_transaction
from negotiation_pipeline.workflow.outbox import DeliveryResult, deliver_pending
from negotiation_pipeline.workflow.release import release_allowed
from negotiation_pipeline.workflow.reply_decisions import NameCache, described_decision
from negotiation_pipeline.workflow.second_opinion import SecondOpinion

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
        tally.add(released.handled)
        tally.decisions.append(
            _described(store, released.message_id, released.sender, released.handled, tally)
        )
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
        handled = handle_in_transaction(store, mailbox, item, uidvalidity, context)
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
    parsed = item.parsed if isinstance(item, IncomingMessage) else None
    sender = "" if parsed is None else parsed.from_addr
    return _described(store, message_key(parsed, item.raw), sender, handled, tally)


def _described(
    store: NegotiationStore, key: str, sender: str, handled: Handled, tally: _Tally
) -> ReplyDecision:
    """The engine's decision when it answered, else why not, from the message's inbound row."""
    if handled.decision is not None:
        return handled.decision
    try:
        return described_decision(store, key, sender, handled.disposition.value, tally.described)
    except STORE_FAILURES:
        logger.exception("%s: could not describe the handled message", key)
        return ReplyDecision(message_id=key, disposition=handled.disposition.value, sender=sender)
