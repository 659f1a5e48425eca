"""Deliver the outbox: every email was queued in the same transaction as the state change that
decided it; here it is sent after that commit, at most once, and never left stuck.

Per pending email whose time has come, oldest first:
- held while its thread is out of the agent's hands (paused, stopped, taken over);
- claimed for this deliverer (store/outbox.py): of several runs or processes delivering at
  once, exactly one gets each email and the others skip it; the claim ends when the email is
  settled, or runs out (CLAIM_LEASE) when its deliverer died, and the next deliverer takes it;
- marked sent when the sent store already has it (a run died after delivering, before
  recording): deterministic Message-IDs make that lookup possible;
- otherwise delivered. The mail server's acceptance is recorded (`sent`) inside the SMTP
  session, right after its 250 and before anything else, so nothing that happens later (filing
  the copy in the Sent folder, a crash, a cut connection) can make a run send it again. Filing
  the copy is a step of its own: tried right after, and when that fails, by `file_sent_copies`
  at the end of this run and in later runs (looking in the folder first).

A failure is classified (`DeliveryError`), and one email never blocks the others:
- permanent (5xx, an address no server can take): the email is `failed`, its thread escalates
  through the state machine (audited) and one `DeliveryFailed` event tells Slack;
- temporary (4xx, a lost connection): one more attempt is counted and the next one waits (the
  policy's `delivery` backoff); after `max_attempts` it fails as above;
- the server itself unusable (connect, TLS, login): as temporary for the email tried, and the
  run's other emails wait for the next run instead of each waiting for the same timeout.

The one case SMTP cannot settle: a connection lost after the whole message went out and before
the server answered. The server may have delivered it; we never learn. That email is retried
(and may arrive twice) rather than risk never arriving.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.domain.negotiation.policy import DeliveryPolicy
from negotiation_pipeline.integrations.mail.base import (
    DeliveryError,
    HeaderInjectionError,
    Mailbox,
    MailError,
)
from negotiation_pipeline.store.base import NegotiationStore, UnitOfWork
from negotiation_pipeline.store.records import Controller, OutboxEmail
from negotiation_pipeline.workflow.delivery_failures import give_up
from negotiation_pipeline.workflow.events import DeliveryFailed
from negotiation_pipeline.workflow.outbox_claims import (
    CLAIM_LEASE,
    claim_for_sending,
    deliverer_id,
)
from negotiation_pipeline.workflow.resolution_keys import decided_by
from negotiation_pipeline.workflow.sent_copies import (
    describe_failure,
    file_copy,
    file_sent_copies,
    to_outgoing,
)

logger = logging.getLogger(__name__)


class AcceptedButNotRecordedError(RuntimeError):
    """The mail server accepted an email and the store could not record it."""


@dataclass(frozen=True)
class DeliveryResult:
    sent: int  # sent by this call
    already_sent: int  # found in the sent store (an earlier run sent it, then died before marking)
    failed: tuple[tuple[str, str], ...]  # (Message-ID, reason) given up by this call: `failed`
    # Message-IDs left pending because their thread is paused, stopped or taken over by a human:
    # a decision queued before the human stepped in is never sent behind their back.
    held: tuple[str, ...] = ()
    retrying: tuple[tuple[str, str], ...] = ()  # (Message-ID, error) temporary, tried again later
    deferred: int = 0  # not tried this run: the mail server was unusable
    transport_error: str | None = None  # why the mail server was unusable, if it was
    copies_unfiled: int = 0  # sent, but the Sent-folder copy is still to be filed
    events: tuple[DeliveryFailed, ...] = ()  # one per email given up (Slack)
    claimed_elsewhere: int = 0  # being sent, or settled, by another deliverer meanwhile

    @staticmethod
    def empty() -> DeliveryResult:
        return DeliveryResult(0, 0, ())


@dataclass
class _Tally:
    sent: int = 0
    already: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    retrying: list[tuple[str, str]] = field(default_factory=list)
    events: list[DeliveryFailed] = field(default_factory=list)
    transport_error: str | None = None
    deferred: int = 0
    elsewhere: int = 0


def deliver_pending(
    store: NegotiationStore,
    mailbox: Mailbox,
    *,
    limit: int | None = None,
    influencer_names: Mapping[str, str] | None = None,
    now: datetime | None = None,
    retry: DeliveryPolicy | None = None,
    lease: timedelta = CLAIM_LEASE,
) -> DeliveryResult:
    """Send every pending outbox email that is due (oldest first), each at most once, then file
    the Sent-folder copies still missing. `influencer_names` (thread id → name), when the
    caller already knows them, saves loading each negotiation row for its audit entry.

    `now` is the run's instant (Date headers, retry pacing); claims are leases on the wall
    clock, whatever `now` says, since they are about deliverers that may die."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)  # the Date header's precision
    policy = retry or DeliveryPolicy()
    tally = _Tally()
    owner = deliverer_id()
    for email in store.outbox.pending(limit, due_at=moment):
        if tally.transport_error is not None:
            tally.deferred += 1
            continue
        reason = hold_reason(store, email)
        if reason is not None:
            tally.held.append(email.message_id)
            logger.info("holding %s: %s", email.message_id, reason)
            continue
        claimed = claim_for_sending(store, email, owner, moment, lease)
        if claimed is None:
            tally.elsewhere += 1  # another deliverer has it, or settled it since the listing
            continue
        _deliver_one(store, mailbox, claimed, moment, policy, influencer_names or {}, tally)
    unfiled = file_sent_copies(store, mailbox, limit=limit)
    return DeliveryResult(
        sent=tally.sent,
        already_sent=tally.already,
        failed=tuple(tally.failed),
        held=tuple(tally.held),
        retrying=tuple(tally.retrying),
        deferred=tally.deferred,
        transport_error=tally.transport_error,
        copies_unfiled=unfiled,
        events=tuple(tally.events),
        claimed_elsewhere=tally.elsewhere,
    )


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


def _deliver_one(
    store: NegotiationStore,
    mailbox: Mailbox,
    email: OutboxEmail,
    moment: datetime,
    policy: DeliveryPolicy,
    names: Mapping[str, str],
    tally: _Tally,
) -> None:
    accepted: list[bool] = []

    def record_acceptance() -> None:
        accepted.append(True)
        separate = mailbox.files_sent_copy_separately
        _mark_sent(store, email, moment, names, found_in_sent_store=False, copy_pending=separate)

    try:
        outgoing = to_outgoing(email)
        if mailbox.already_sent(email.message_id):
            _mark_sent(store, email, moment, names, found_in_sent_store=True, copy_pending=False)
            tally.already += 1
            return
        mailbox.deliver(outgoing, moment, record_acceptance)
    except Exception as exc:  # classified below; one bad email must not block the rest
        if accepted:
            raise AcceptedButNotRecordedError(
                f"{email.message_id} to {email.to_addr} was accepted by the mail server but "
                f"could not be recorded ({type(exc).__name__}: {exc}); a later run may send "
                "it again"
            ) from exc
        _handle_failure(store, email, exc, moment, policy, names, tally)
        return
    tally.sent += 1
    if mailbox.files_sent_copy_separately:
        file_copy(store, mailbox, email, moment, may_exist=False)


def _handle_failure(
    store: NegotiationStore,
    email: OutboxEmail,
    exc: Exception,
    moment: datetime,
    policy: DeliveryPolicy,
    names: Mapping[str, str],
    tally: _Tally,
) -> None:
    error = describe_failure(exc)
    permanent = isinstance(exc, HeaderInjectionError) or (
        isinstance(exc, DeliveryError) and exc.permanent
    )
    if isinstance(exc, MailError) and (not isinstance(exc, DeliveryError) or exc.transport):
        tally.transport_error = error  # a lookup in the sent store counts too (IMAP down)
    logger.warning("sending %s failed: %s", email.message_id, error)
    if permanent:
        _give_up(store, email, error, email.attempts + 1, moment, names, tally)
        return
    attempts = email.attempts + 1
    if attempts >= policy.max_attempts:
        reason = f"{error} (gave up after {_attempts(attempts)})"
        _give_up(store, email, reason, attempts, moment, names, tally)
        return
    next_at = moment + retry_delay(attempts, policy)
    _record_retry(store, email, error, attempts, next_at, exc)
    tally.retrying.append((email.message_id, error))


def retry_delay(attempts: int, policy: DeliveryPolicy) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones: none after the first (the
    next run tries again), then retry_after_minutes, doubling, capped."""
    if attempts <= 1:
        return timedelta(0)
    minutes = policy.retry_after_minutes * 2 ** min(attempts - 2, 20)
    return timedelta(minutes=min(minutes, policy.max_retry_after_minutes))


def _attempts(count: int) -> str:
    return f"{count} attempt" + ("" if count == 1 else "s")


def _give_up(
    store: NegotiationStore,
    email: OutboxEmail,
    reason: str,
    attempts: int,
    moment: datetime,
    names: Mapping[str, str],
    tally: _Tally,
) -> None:
    event = give_up(store, email, reason, attempts, moment, names.get(email.thread_id or ""))
    if event is not None:
        tally.failed.append((email.message_id, reason))
        tally.events.append(event)


def _record_retry(
    store: NegotiationStore,
    email: OutboxEmail,
    error: str,
    attempts: int,
    next_at: datetime,
    exc: Exception,
) -> None:
    maybe_delivered = isinstance(exc, DeliveryError) and exc.maybe_delivered
    # Not exclusive: the conditional update settles the row once, the audit entry only follows
    # it, so deliverers need not queue behind each other (or behind reply handling) here.
    with store.transaction(exclusive=False) as uow:
        if uow.outbox.record_attempt(email.message_id, error, next_at) is None:
            return  # no longer pending (another run settled it)
        uow.audit.insert(
            AuditEntry(
                event_type=EventType.ERROR,
                campaign_id=email.campaign_id,
                thread_id=email.thread_id,
                direction="outbound",
                metadata={
                    "message_id": email.message_id,
                    "to": email.to_addr,
                    "error": error,
                    "attempt": attempts,
                    "next_attempt_at": next_at.isoformat(),
                    "maybe_delivered": maybe_delivered,
                },
            )
        )


def _mark_sent(
    store: NegotiationStore,
    email: OutboxEmail,
    moment: datetime,
    names: Mapping[str, str],
    *,
    found_in_sent_store: bool,
    copy_pending: bool,
) -> None:
    # Not exclusive, like _record_retry: only the conditional update decides anything.
    with store.transaction(exclusive=False) as uow:
        if not uow.outbox.mark_sent(email.message_id, moment, copy_pending=copy_pending):
            return  # another run marked it meanwhile; its audit entry is already written
        metadata = {
            "message_id": email.message_id,
            "to": email.to_addr,
            "subject": email.subject,
            "found_in_sent_store": found_in_sent_store,
            "attempts_before": email.attempts,
            **_person_who_decided(uow, email, names),
        }
        uow.audit.insert(
            AuditEntry(
                event_type=EventType.EMAIL_SENT,
                campaign_id=email.campaign_id,
                influencer_name=_influencer_name(uow, email.thread_id, names),
                thread_id=email.thread_id,
                direction="outbound",
                email_body=email.body,
                metadata=metadata,
            )
        )


def _person_who_decided(
    uow: UnitOfWork, email: OutboxEmail, names: Mapping[str, str]
) -> dict[str, str]:
    """Who decided this email when a person did (a resolution): for its email_sent entry.
    Runs that pass `names` send only the agent's own emails, so they skip the lookup."""
    if email.thread_id is None or email.thread_id in names:
        return {}
    stored = uow.states.load(email.thread_id)
    found = None if stored is None else decided_by(dict(stored.context), email.message_id)
    if found is None:
        return {}
    return {"resolution_key": found[0], "actor": found[1], "source": "resolution"}


def _influencer_name(
    uow: UnitOfWork, thread_id: str | None, names: Mapping[str, str]
) -> str | None:
    """For the audit row; `names` (thread id → name) saves a row load per email."""
    if thread_id is not None and thread_id in names:
        return names[thread_id]
    stored = None if thread_id is None else uow.states.load(thread_id)
    return None if stored is None else stored.influencer_name
