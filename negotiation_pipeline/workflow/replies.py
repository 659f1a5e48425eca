"""Advance negotiations from new mail: read each reply, decide, queue our answer, deliver.

Exactly-once rules (SPEC §7):
- each message is handled in ONE transaction: the inbound row (deduplicated by Message-ID), the
  negotiation row, the outbox email, the agreement, the campaign's CPM tracker and the audit
  entries commit together or not at all, so a crash leaves a reply either fully handled or
  untouched;
- the mail cursor moves only over uids that were handled, after their transactions;
- emails are sent after the commits (`deliver_pending`), each at most once.

One message never stops the others: a broken reply is recorded (skipped, with the error) and
audited; a database failure rolls back that message only and leaves it for the next run.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.campaign import Campaign
from negotiation_pipeline.domain.negotiation import (
    Action,
    EngineConfig,
    Outcome,
    handle_reply,
)
from negotiation_pipeline.domain.reply_reader import ReplyReading, read_reply
from negotiation_pipeline.domain.types import TERMINAL_STATES, EventType, NegotiationState
from negotiation_pipeline.integrations.mail.base import (
    FetchResult,
    IncomingMessage,
    Mailbox,
    MailCursor,
    UidValidityChangedError,
    UnreadableMessage,
)
from negotiation_pipeline.integrations.mail.mime import ParsedMessage
from negotiation_pipeline.integrations.mail.threading import (
    auto_reply_reason,
    bare_address,
    is_own_message,
    match_reply,
    normalize_subject,
    references_for,
    reply_subject,
)
from negotiation_pipeline.store.base import (
    Agreement,
    Controller,
    InboundStatus,
    NegotiationStore,
    OutboxEmail,
    StoredNegotiation,
    StoreError,
    UnitOfWork,
)
from negotiation_pipeline.workflow.events import (
    AgreementReached,
    FinalState,
    PipelineEvent,
)
from negotiation_pipeline.workflow.outbox import DeliveryResult, deliver_pending
from negotiation_pipeline.workflow.persistence import (
    campaign_tracker,
    load_negotiation,
    next_message_id,
    save_negotiation,
)
from negotiation_pipeline.workflow.records import (
    agreed_deliverables,
    agreement_audit,
    escalated_event,
    escalation_audit,
    transition_audit,
)

logger = logging.getLogger(__name__)

# Bodies are fetched in chunks so a 10,000-message backlog never sits in memory at once.
FETCH_CHUNK = 100
DEFAULT_LIST_LIMIT = 500
# States in which a reply is recorded but no longer answered automatically.
_NOT_ANSWERED_STATES = frozenset({NegotiationState.PAUSED, *TERMINAL_STATES})
# Database failures: the message's transaction rolled back; leave it for the next run.
_STORE_FAILURES: tuple[type[BaseException], ...] = (sqlite3.Error, StoreError)


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


class Disposition(StrEnum):
    PROCESSED = "processed"
    UNMATCHED = "unmatched"
    SKIPPED = "skipped"
    DUPLICATE = "duplicate"
    UNREADABLE = "unreadable"


@dataclass
class _Tally:
    counts: dict[Disposition, int] = field(default_factory=lambda: dict.fromkeys(Disposition, 0))
    campaigns: dict[str, None] = field(default_factory=dict)  # ordered set
    events: list[PipelineEvent] = field(default_factory=list)
    handled: set[int] = field(default_factory=set)
    failed: list[int] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # thread id → influencer name


@dataclass(frozen=True)
class _Handled:
    disposition: Disposition
    campaign_id: str | None = None
    events: tuple[PipelineEvent, ...] = ()
    thread_id: str | None = None
    influencer_name: str | None = None


# --- listing (the sensor) -----------------------------------------------------------------------
def _mail_cursor(store: NegotiationStore, mailbox_name: str) -> MailCursor | None:
    stored = store.mail_cursors.get(mailbox_name)
    return None if stored is None else MailCursor(stored.uidvalidity, stored.last_uid)


def list_new_mail(
    store: NegotiationStore, mailbox: Mailbox, mailbox_name: str, limit: int = DEFAULT_LIST_LIMIT
) -> NewMailBatch:
    """Uids after the stored cursor (ids only, no bodies): cheap enough for a sensor tick.

    `batch_key` names exactly this batch, so a sensor can use it as a run_key: the same
    unhandled mail listed twice launches one run.
    """
    listing = mailbox.list_new_ids(_mail_cursor(store, mailbox_name), limit)
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
) -> AdvanceResult:
    """Handle new mail (the given uids, or everything after the stored cursor, at most `limit`),
    move the cursor over what was handled, then deliver the outbox."""
    if uids is None or uidvalidity is None:
        batch = list_new_mail(store, mailbox, mailbox_name, limit)
        uids, uidvalidity = batch.uids, batch.uidvalidity
    tally = _Tally()
    context = _RunContext(config, tuple(agent_addresses), now, mailbox_name)
    wanted = _with_earlier_unhandled(store, mailbox, mailbox_name, uids, uidvalidity)
    try:
        _handle_uids(store, mailbox, wanted, uidvalidity, context, tally)
    except UidValidityChangedError:
        # The mailbox was rebuilt since the uids were listed: list everything again (the
        # stored cursor has the old UIDVALIDITY, so the mailbox rescans); Message-ID dedupe
        # skips what was already handled.
        logger.warning("%s: UIDVALIDITY changed; rescanning the mailbox", mailbox_name)
        batch = list_new_mail(store, mailbox, mailbox_name, limit)
        wanted, uidvalidity = list(batch.uids), batch.uidvalidity
        tally.handled.clear()  # uid numbers of the old UIDVALIDITY mean nothing now
        tally.failed.clear()
        _handle_uids(store, mailbox, wanted, uidvalidity, context, tally)
    cursor = _advance_cursor(store, mailbox_name, uidvalidity, wanted, tally)
    delivery = deliver_pending(store, mailbox, influencer_names=tally.names)
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
        failed_uids=tuple(tally.failed),
        cursor=cursor,
    )


def _with_earlier_unhandled(
    store: NegotiationStore,
    mailbox: Mailbox,
    mailbox_name: str,
    uids: Sequence[int],
    uidvalidity: int,
) -> list[int]:
    """The batch's uids plus every uid between the stored cursor and the batch's newest one.

    An earlier run that failed on a reply left the cursor before it; handling everything from
    the cursor on retries that reply in this run, and the cursor then only ever moves over a
    contiguous stretch of handled uids (it never jumps a reply that was not handled).
    """
    wanted = sorted(set(uids))
    stored = _mail_cursor(store, mailbox_name)
    if not wanted or stored is None or stored.uidvalidity != uidvalidity:
        return wanted
    if stored.last_uid >= wanted[0] - 1:
        return wanted
    listing = mailbox.list_new_ids(stored, wanted[-1] - stored.last_uid)
    if listing.uidvalidity != uidvalidity:
        return wanted  # rebuilt meanwhile: the rescan path below handles it
    return sorted(set(wanted).union(uid for uid in listing.uids if uid <= wanted[-1]))


def _handle_uids(
    store: NegotiationStore,
    mailbox: Mailbox,
    wanted: Sequence[int],
    uidvalidity: int,
    context: _RunContext,
    tally: _Tally,
) -> None:
    for start in range(0, len(wanted), FETCH_CHUNK):
        chunk = wanted[start : start + FETCH_CHUNK]
        fetched = mailbox.fetch(chunk, uidvalidity)
        _handle_fetched(store, fetched, context, tally)
        # Listed but gone by now (expunged, removed from the Maildir): nothing to read, and the
        # cursor must not wait for it forever.
        returned = {m.uid for m in fetched.messages} | {u.uid for u in fetched.unreadable}
        tally.handled.update(uid for uid in chunk if uid not in returned)


@dataclass(frozen=True)
class _RunContext:
    config: EngineConfig
    agent_addresses: tuple[str, ...]
    now: datetime
    mailbox_name: str


def _handle_fetched(
    store: NegotiationStore, fetched: FetchResult, context: _RunContext, tally: _Tally
) -> None:
    items: list[IncomingMessage | UnreadableMessage] = [*fetched.messages, *fetched.unreadable]
    items.sort(key=lambda item: item.uid)
    for item in items:
        try:
            handled = _handle_one(store, item, context)
        except _STORE_FAILURES as exc:
            logger.exception("uid %s: database failure; left for the next run", item.uid)
            tally.failed.append(item.uid)
            _audit_error(store, None, f"database failure on uid {item.uid}: {exc}")
            continue
        tally.handled.add(item.uid)
        tally.counts[handled.disposition] += 1
        if handled.campaign_id:  # set only when a negotiation row changed
            tally.campaigns[handled.campaign_id] = None
        tally.events.extend(handled.events)
        if handled.thread_id and handled.influencer_name:
            tally.names[handled.thread_id] = handled.influencer_name


def _handle_one(
    store: NegotiationStore, item: IncomingMessage | UnreadableMessage, context: _RunContext
) -> _Handled:
    if isinstance(item, UnreadableMessage):
        return _record_unreadable(store, item)
    try:
        with store.transaction() as uow:
            return _handle_message(uow, item.parsed, item.raw, context)
    except _STORE_FAILURES:
        raise
    except Exception as exc:  # a bug or a reply the engine cannot take: record it, move on
        logger.exception("uid %s: reply could not be handled", item.uid)
        return _record_broken(store, item, exc)


def _message_key(parsed: ParsedMessage | None, raw: bytes) -> str:
    """The dedupe key: the Message-ID, or a content hash when the message has none."""
    if parsed is not None and parsed.message_id:
        return parsed.message_id
    return f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id>"


def _record_unreadable(store: NegotiationStore, item: UnreadableMessage) -> _Handled:
    key = _message_key(None, item.raw)
    with store.transaction() as uow:
        if not uow.inbound.record(
            key, status=InboundStatus.SKIPPED, detail=f"unreadable: {item.error}"
        ):
            return _Handled(Disposition.DUPLICATE)
        uow.audit.insert(
            AuditEntry(
                event_type=EventType.ERROR,
                direction="inbound",
                metadata={"message_id": key, "error": f"unreadable message: {item.error}"},
            )
        )
    return _Handled(Disposition.UNREADABLE)


def _record_broken(store: NegotiationStore, item: IncomingMessage, exc: Exception) -> _Handled:
    key = _message_key(item.parsed, item.raw)
    error = f"{type(exc).__name__}: {exc}"
    with store.transaction() as uow:
        if not uow.inbound.record(
            key,
            status=InboundStatus.SKIPPED,
            from_addr=item.parsed.from_addr or None,
            subject=item.parsed.subject,
            detail=f"error: {error}"[:2000],
        ):
            return _Handled(Disposition.DUPLICATE)
        uow.audit.insert(
            AuditEntry(
                event_type=EventType.ERROR,
                direction="inbound",
                email_body=item.parsed.text_body,
                metadata={"message_id": key, "from": item.parsed.from_addr, "error": error},
            )
        )
    return _Handled(Disposition.SKIPPED)


def _audit_error(store: NegotiationStore, thread_id: str | None, error: str) -> None:
    try:
        store.audit.insert(
            AuditEntry(event_type=EventType.ERROR, thread_id=thread_id, metadata={"error": error})
        )
    except Exception:  # the database itself is failing; the log line above is what remains
        logger.exception("could not audit: %s", error)


def _advance_cursor(
    store: NegotiationStore,
    mailbox_name: str,
    uidvalidity: int,
    wanted: Sequence[int],
    tally: _Tally,
) -> MailCursor | None:
    """Move the cursor to the newest uid below which every listed uid was handled."""
    with store.transaction() as uow:
        stored = uow.mail_cursors.get(mailbox_name)
        same_validity = stored is not None and stored.uidvalidity == uidvalidity
        last = stored.last_uid if stored is not None and same_validity else 0
        for uid in wanted:
            if uid not in tally.handled:
                break
            last = max(last, uid)
        if not same_validity or stored is None or last > stored.last_uid:
            uow.mail_cursors.set(mailbox_name, uidvalidity, last)
        return MailCursor(uidvalidity, last)


# --- one message, inside its transaction ---------------------------------------------------------
class StoreThreadLookup:
    """`ThreadLookup` over the store: our outbox and the replies already recorded."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def thread_for_message_id(self, message_id: str) -> str | None:
        ours = self._uow.outbox.get(message_id)
        if ours is not None and ours.thread_id:
            return ours.thread_id
        theirs = self._uow.inbound.get(message_id)
        return None if theirs is None else theirs.thread_id

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
    uow: UnitOfWork, parsed: ParsedMessage, raw: bytes, context: _RunContext
) -> _Handled:
    key = _message_key(parsed, raw)
    if uow.inbound.seen(key):
        return _Handled(Disposition.DUPLICATE)
    lookup = StoreThreadLookup(uow)
    if is_own_message(parsed, context.agent_addresses):
        return _handle_own(uow, parsed, key, lookup)
    thread_id = _match(parsed, lookup, own=False)
    stored = None if thread_id is None else uow.states.load(thread_id)
    if stored is None:
        _record(uow, key, parsed, InboundStatus.UNMATCHED, None, "matched no negotiation")
        _audit_received(uow, parsed, key, None, status="unmatched")
        return _Handled(Disposition.UNMATCHED)
    auto = auto_reply_reason(parsed)
    skip_reason = auto or _not_answered_reason(stored)
    if skip_reason is not None:
        _record(uow, key, parsed, InboundStatus.SKIPPED, stored, skip_reason)
        _audit_received(uow, parsed, key, stored, status=f"skipped: {skip_reason}")
        return _Handled(Disposition.SKIPPED)
    return _answer(uow, parsed, key, stored, context)


def _not_answered_reason(stored: StoredNegotiation) -> str | None:
    if stored.controlled_by is Controller.HUMAN:
        return "a human controls this negotiation"
    if stored.state in _NOT_ANSWERED_STATES:
        return f"negotiation is {stored.state.value}"
    if stored.state is NegotiationState.ESCALATED:
        return "negotiation is escalated: waiting for a human decision"
    return None


def _handle_own(
    uow: UnitOfWork, parsed: ParsedMessage, key: str, lookup: StoreThreadLookup
) -> _Handled:
    """Our own address wrote it. In our outbox: our sent copy, ignore. Otherwise a person on our
    side answered by hand: that thread is theirs from now on."""
    if uow.outbox.get(key) is not None:
        _record(uow, key, parsed, InboundStatus.OWN, None, "our own sent email")
        return _Handled(Disposition.SKIPPED)
    thread_id = _match(parsed, lookup, own=True)
    stored = None if thread_id is None else uow.states.load(thread_id)
    if stored is None:
        _record(uow, key, parsed, InboundStatus.OWN, None, "from our address, no known thread")
        return _Handled(Disposition.SKIPPED)
    taken_over = stored.controlled_by is not Controller.HUMAN
    if taken_over:
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
                    "message_id": key,
                    "detail": "a person replied from our address: automatic replies stop",
                },
            )
        )
    detail = "human reply from our side" + (": thread taken over" if taken_over else "")
    _record(uow, key, parsed, InboundStatus.OWN, stored, detail)
    return _Handled(Disposition.SKIPPED, stored.campaign_id if taken_over else None)


def _record(
    uow: UnitOfWork,
    key: str,
    parsed: ParsedMessage,
    status: InboundStatus,
    stored: StoredNegotiation | None,
    detail: str,
) -> None:
    uow.inbound.record(
        key,
        status=status,
        thread_id=None if stored is None else stored.thread_id,
        campaign_id=None if stored is None else stored.campaign_id,
        from_addr=parsed.from_addr or None,
        subject=parsed.subject,
        detail=detail,
    )


def _audit_received(
    uow: UnitOfWork,
    parsed: ParsedMessage,
    key: str,
    stored: StoredNegotiation | None,
    *,
    status: str,
    reading: ReplyReading | None = None,
) -> None:
    metadata: dict[str, Any] = {
        "message_id": key,
        "from": parsed.from_addr,
        "subject": parsed.subject,
        "status": status,
    }
    if reading is not None:
        metadata.update(
            proposed_rate=None if reading.proposed_rate is None else str(reading.proposed_rate),
            currency=reading.currency,
            confidence=round(reading.confidence, 3),
            new_text=reading.new_text,
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


def _answer(
    uow: UnitOfWork,
    parsed: ParsedMessage,
    key: str,
    stored: StoredNegotiation,
    context: _RunContext,
) -> _Handled:
    """Read the reply, let the engine decide, store everything it implies."""
    negotiation = load_negotiation(stored)
    campaign = stored.campaign
    config = context.config
    reading = read_reply(
        parsed.text_body,
        confidence_threshold=config.policy.confidence_threshold,
        our_offer=negotiation.our_last_offer,
    )
    sender = email.utils.formataddr((parsed.from_name, parsed.from_addr))
    outcome = handle_reply(
        negotiation, reading, parsed.text_body, sender, campaign, config, context.now
    )
    _record(uow, key, parsed, InboundStatus.PROCESSED, stored, outcome.action.value)
    _audit_received(uow, parsed, key, stored, status="processed", reading=reading)
    tracker_data = stored.cpm_tracker_data
    events: list[PipelineEvent] = []
    if outcome.agreed_rate is not None and outcome.agreed_cpm is not None:
        tracker_data = _record_agreement(uow, outcome, campaign, context.now)
        events.append(_agreement_event(outcome, campaign))
    save_negotiation(uow, outcome.negotiation, campaign, tracker_data)
    queued = _queue_answer(uow, outcome, parsed, key, campaign, _domain(context))
    uow.audit.insert(transition_audit(outcome, queued, {"in_reply_to": key}))
    if outcome.escalation is not None:
        uow.audit.insert(escalation_audit(outcome))
        events.append(escalated_event(outcome))
    if outcome.negotiation.state in TERMINAL_STATES or outcome.action is Action.ESCALATE:
        updated = outcome.negotiation
        events.append(
            FinalState(updated.thread_id, updated.campaign_id, updated.terms.name, updated.state)
        )
    return _Handled(
        Disposition.PROCESSED,
        stored.campaign_id,
        tuple(events),
        stored.thread_id,
        outcome.negotiation.terms.name,
    )


def _domain(context: _RunContext) -> str:
    """Message-ID domain: our (first) agent address's domain."""
    for address in context.agent_addresses:
        bare = bare_address(address)
        if "@" in bare:
            return bare.rsplit("@", 1)[1]
    raise ValueError("agent_addresses names no usable address (needed for Message-IDs)")


def _queue_answer(
    uow: UnitOfWork,
    outcome: Outcome,
    parsed: ParsedMessage,
    key: str,
    campaign: Campaign,
    domain: str,
) -> str | None:
    if outcome.email is None or outcome.escalation is not None:
        return None  # an escalation's draft waits for a human; nothing is sent
    thread_id = outcome.negotiation.thread_id
    message_id = next_message_id(uow, thread_id, domain)
    in_reply_to = parsed.message_id  # None for a message without one: no threading headers
    references = references_for(parsed.references, in_reply_to)
    uow.outbox.add(
        OutboxEmail(
            message_id=message_id,
            to_addr=outcome.email.to,
            to_name=outcome.email.to_name,
            subject=reply_subject(parsed.subject or outcome.email.subject),
            body=outcome.email.body,
            thread_id=thread_id,
            campaign_id=campaign.campaign_id,
            in_reply_to=in_reply_to,
            references=" ".join(references) or None,
        )
    )
    return message_id


def _record_agreement(
    uow: UnitOfWork, outcome: Outcome, campaign: Campaign, now: datetime
) -> dict[str, Any]:
    """Agreement row + the campaign's running CPM, in the reply's transaction. Returns the
    tracker data to snapshot on the negotiation row."""
    negotiation = outcome.negotiation
    assert outcome.agreed_rate is not None and outcome.agreed_cpm is not None
    tracker = campaign_tracker(uow, campaign)
    recorded = uow.agreements.record(
        Agreement(
            thread_id=negotiation.thread_id,
            campaign_id=campaign.campaign_id,
            influencer_name=negotiation.terms.name,
            rate=outcome.agreed_rate,
            cpm=outcome.agreed_cpm,
            engagement_rate=negotiation.terms.engagement_rate,
            agreed_at=now,
            package=None if outcome.agreed_package is None else outcome.agreed_package.to_dict(),
        )
    )
    if recorded:
        tracker.record_agreement(outcome.agreed_cpm, negotiation.terms.engagement_rate)
        uow.campaigns.set_cpm_tracker(campaign.campaign_id, tracker.to_dict())
        uow.audit.insert(agreement_audit(outcome, campaign.cpm_range.max_cpm))
    return tracker.to_dict()


def _agreement_event(outcome: Outcome, campaign: Campaign) -> AgreementReached:
    negotiation = outcome.negotiation
    assert outcome.agreed_rate is not None and outcome.agreed_cpm is not None
    return AgreementReached(
        thread_id=negotiation.thread_id,
        campaign_id=campaign.campaign_id,
        influencer_name=negotiation.terms.name,
        rate=outcome.agreed_rate,
        cpm=outcome.agreed_cpm,
        target_cpm=campaign.cpm_range.max_cpm,
        deliverables=agreed_deliverables(outcome.agreed_package),
    )
