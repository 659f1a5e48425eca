"""Releasing held replies with `allow_sender`: real SQLite file or PostgreSQL schema, real
Maildir, exactly once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from negotiation_pipeline.domain.enums import EventType, NegotiationEvent, NegotiationState
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import AuditQuery, InboundStatus, NegotiationStore, SQLiteStore
from negotiation_pipeline.store.postgres import PostgresStore
from negotiation_pipeline.store.trust_schema import HELD_RAW_MAX_BYTES
from negotiation_pipeline.workflow.allowed_senders import AllowResult, allow_sender
from negotiation_pipeline.workflow.control import ControlError
from negotiation_pipeline.workflow.events import AgreementReached
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.replies import AdvanceResult, advance_negotiations
from tests.servers.postgres import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.store.conftest import StoreLocation, drop_schema
from tests.workflow.faults import fail_inserts
from tests.workflow.opened_threads import negotiation, open_threads, rewrite
from tests.workflow.support import (
    AGENT,
    MAILBOX,
    NOW,
    engine_config,
    flex_row,
    reply_to,
    sent_by_recipient,
)

BEN = "ben@gmail.com"
CASEY = "casey@brightline.com"  # Ben's manager, not in the roster
AS_GIVEN = "Casey@brightline.com"  # what the operator typed, domain normalised
BEN_THREAD = thread_id_for("cmp-1", BEN)


def _advance(store: NegotiationStore, mailbox: MaildirMailbox) -> AdvanceResult:
    return advance_negotiations(
        store,
        mailbox,
        engine_config(),
        mailbox_name=MAILBOX,
        agent_addresses=[AGENT.address],
        now=NOW,
    )


def _allow(
    store: NegotiationStore, target: str = BEN_THREAD, address: str = "Casey@Brightline.com"
) -> AllowResult:
    return allow_sender(
        store,
        target,
        address,
        actor="cli:maria",
        now=NOW,
        config=engine_config(),
        agent_addresses=[AGENT.address],
    )


def _offer(mailbox: MaildirMailbox, address: str = BEN) -> EmailMessage:
    return sent_by_recipient(mailbox)[address][-1]


@pytest.fixture
def held(store: SQLiteStore, mailbox: MaildirMailbox) -> str:
    """Ben's negotiation with one reply from his (unlisted) manager held; its Message-ID."""
    open_threads(store, [flex_row("Ben Cole", BEN)], mailbox=mailbox)
    mailbox.append_to_inbox(
        reply_to(
            _offer(mailbox),
            "Hi Alex, Ben would do this for $1,400.\n\nCasey Miles\nTalent Manager",
            sender=f"Casey Miles <{CASEY}>",
            message_id="<casey-1@brightline.com>",
        )
    )
    assert _advance(store, mailbox).quarantined == 1
    return "<casey-1@brightline.com>"


def test_allowing_the_sender_processes_its_held_reply_exactly_once(
    store: SQLiteStore, mailbox: MaildirMailbox, held: str
) -> None:
    first = _allow(store)

    assert first.allowed == (BEN_THREAD,) and first.released == 1
    assert first.lines == (
        f"{BEN_THREAD}: {AS_GIVEN} allowed; 1 held reply processed ({held} processed)",
    )
    assert negotiation(store, BEN_THREAD).state is NegotiationState.COUNTER_SENT
    row = store.inbound.get(held, CASEY)
    assert row is not None and row.status is InboundStatus.PROCESSED
    assert store.inbound.held(held, CASEY) is None  # its kept bytes are gone
    assert deliver_pending(store, mailbox).sent == 1
    assert len(sent_by_recipient(mailbox)[CASEY]) == 1  # our counter went to the manager

    again = _allow(store)
    assert again.allowed == () and again.released == 0
    assert again.lines == (
        f"{BEN_THREAD}: {AS_GIVEN} was already allowed; no held reply to process",
    )
    assert _advance(store, mailbox).released == 0
    assert deliver_pending(store, mailbox).sent == 0
    assert negotiation(store, BEN_THREAD).replies_received == 1

    [allowance] = [
        e
        for e in store.audit.query(AuditQuery(thread_id=BEN_THREAD, event_type=EventType.TAKEOVER))
        if (e.metadata or {}).get("action") == "allow_sender"
    ]
    assert allowance.metadata is not None
    assert allowance.metadata["actor"] == "cli:maria"
    assert allowance.metadata["allowed_sender"] == AS_GIVEN
    [recorded] = store.allowed_senders.for_thread(BEN_THREAD)
    assert (recorded.address, recorded.allowed_by) == (AS_GIVEN, "cli:maria")


def test_a_later_reply_from_the_allowed_sender_is_processed_directly(
    store: SQLiteStore, mailbox: MaildirMailbox, held: str
) -> None:
    _allow(store)
    deliver_pending(store, mailbox)
    ours = sent_by_recipient(mailbox)[CASEY][-1]
    mailbox.append_to_inbox(reply_to(ours, "Deal, that works!", sender=CASEY))
    result = _advance(store, mailbox)
    assert (result.processed, result.quarantined) == (1, 0)
    assert negotiation(store, BEN_THREAD).state is NegotiationState.AGREED
    assert any(isinstance(e, AgreementReached) for e in result.events)


def test_a_failure_after_the_allowance_loses_nothing_and_repeats_nothing(
    store: SQLiteStore, mailbox: MaildirMailbox, held: str, store_location: StoreLocation
) -> None:
    failing = fail_inserts(store_location, "outbox")

    interrupted = _allow(store)  # allowance committed; processing the reply rolled back

    assert interrupted.allowed == (BEN_THREAD,) and interrupted.released == 0
    row = store.inbound.get(held, CASEY)
    assert row is not None and row.status is InboundStatus.QUARANTINED
    assert store.inbound.held(held, CASEY) is not None
    failing.stop()

    # The next pipeline run finishes the work, with no new mail at all.
    run = _advance(store, mailbox)
    assert run.released == 1 and run.delivery.sent == 1
    assert negotiation(store, BEN_THREAD).state is NegotiationState.COUNTER_SENT
    # ... and neither the run nor the operator's re-run does it again.
    assert _advance(store, mailbox).released == 0
    assert _allow(store).released == 0
    assert len(sent_by_recipient(mailbox)[CASEY]) == 1


def test_two_operators_allowing_at_once_process_the_reply_once(
    store: SQLiteStore, mailbox: MaildirMailbox, held: str, store_location: StoreLocation
) -> None:
    results = []
    errors: list[BaseException] = []

    def allow() -> None:
        try:
            results.append(_allow(store_location.open()))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=allow) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert not errors
    assert sum(r.released for r in results) == 1
    assert sum(len(r.allowed) for r in results) == 1
    assert negotiation(store, BEN_THREAD).replies_received == 1
    assert len(store.outbox.for_thread(BEN_THREAD)) == 2  # the offer and one counter


def test_an_allowance_is_per_thread(store: SQLiteStore, mailbox: MaildirMailbox) -> None:
    open_threads(store, [flex_row("Ben Cole", BEN), flex_row("Anna Berg", "anna@gmail.com")])
    deliver_pending(store, mailbox)
    anna_thread = thread_id_for("cmp-1", "anna@gmail.com")
    mailbox.append_to_inbox(
        reply_to(_offer(mailbox, "anna@gmail.com"), "Anna: $1,300.", sender=CASEY)
    )
    assert _advance(store, mailbox).quarantined == 1

    result = _allow(store, BEN_THREAD)

    assert result.released == 0
    assert len(store.inbound.quarantined(anna_thread)) == 1
    assert negotiation(store, anna_thread).replies_received == 0


def test_a_released_reply_follows_the_threads_current_state(
    store: SQLiteStore, mailbox: MaildirMailbox, held: str
) -> None:
    rewrite(store, BEN_THREAD, NegotiationEvent.PAUSE)
    result = _allow(store)
    assert result.released == 1
    row = store.inbound.get(held, CASEY)
    assert row is not None and row.status is InboundStatus.SKIPPED
    assert row.detail == "negotiation is paused"
    assert store.outbox.pending() == []


def test_a_held_reply_the_next_run_releases_into_a_skip_gets_its_line_in_the_run_log(
    store: SQLiteStore, mailbox: MaildirMailbox, held: str
) -> None:
    """The allowance was recorded but its processing never ran (the command died): the next
    run releases the reply, the paused thread skips it, and the run says so like any reply."""
    rewrite(store, BEN_THREAD, NegotiationEvent.PAUSE)
    store.allowed_senders.allow(BEN_THREAD, AS_GIVEN, CASEY, allowed_by="cli:maria")

    result = _advance(store, mailbox)

    assert result.released == 1
    [line] = [r for r in result.replies if r.message_id == held]
    assert (line.disposition, line.thread_id, line.reason) == (
        "skipped",
        BEN_THREAD,
        "negotiation is paused",
    )
    assert line.sender == CASEY


def test_an_oversized_held_reply_is_kept_bounded_and_still_processed(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    open_threads(store, [flex_row("Ben Cole", BEN)], mailbox=mailbox)
    message = EmailMessage()
    message["From"] = CASEY
    message["To"] = AGENT.address
    message["Subject"] = "Re: " + str(_offer(mailbox)["Subject"])
    message["Message-ID"] = "<big@brightline.com>"
    message["In-Reply-To"] = str(_offer(mailbox)["Message-ID"])
    message.set_content("Ben would do this for $1,400.")
    message.add_attachment(b"\0" * (2 * HELD_RAW_MAX_BYTES), maintype="application", subtype="zip")
    raw = message.as_bytes()
    mailbox.append_to_inbox(raw)
    assert _advance(store, mailbox).quarantined == 1

    kept = store.inbound.held("<big@brightline.com>", CASEY)
    # The mailbox reads a bounded prefix of a huge message; what is held is capped again.
    assert kept is not None and kept.truncated
    assert HELD_RAW_MAX_BYTES < kept.raw_size <= len(raw)
    assert len(kept.raw) == HELD_RAW_MAX_BYTES

    assert _allow(store).released == 1
    assert negotiation(store, BEN_THREAD).their_last_ask is not None


def test_bad_addresses_and_our_own_address_are_refused(
    store: SQLiteStore, mailbox: MaildirMailbox, held: str
) -> None:
    with pytest.raises(ControlError, match=r"'casey@' is not a valid email address"):
        _allow(store, address="casey@")
    with pytest.raises(ControlError, match="our own address"):
        _allow(store, address=AGENT.address.upper())
    with pytest.raises(ControlError, match="no negotiation with thread id"):
        _allow(store, target="cmp-1:nobody")
    assert store.allowed_senders.for_thread(BEN_THREAD) == []
    assert len(store.inbound.quarantined(BEN_THREAD)) == 1


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[PostgresStore]:  # noqa: F811
    schema = f"test_{uuid.uuid4().hex[:12]}"
    opened = PostgresStore(postgres_url, schema=schema)
    yield opened
    opened.close()
    drop_schema(postgres_url, schema)


@pytest.mark.postgres
def test_hold_allow_and_release_on_postgresql(
    pg_store: PostgresStore, mailbox: MaildirMailbox
) -> None:
    open_threads(pg_store, [flex_row("Ben Cole", BEN)], mailbox=mailbox)
    offer = _offer(mailbox)
    mailbox.append_to_inbox(reply_to(offer, "Ben: $1,400.", sender=CASEY, message_id="<p1@b>"))
    mailbox.append_to_inbox(reply_to(offer, "Ben: $1,300.", sender=CASEY, message_id="<p2@b>"))
    assert _advance(pg_store, mailbox).quarantined == 2
    kept = pg_store.inbound.held("<p1@b>", CASEY)
    assert kept is not None and b"$1,400" in kept.raw

    result = _allow(pg_store)

    assert result.released == 2
    assert [line.split("(")[1] for line in result.lines] == ["<p1@b> processed, <p2@b> processed)"]
    assert pg_store.inbound.quarantined(BEN_THREAD) == []
    assert _allow(pg_store).released == 0
    assert _advance(pg_store, mailbox).released == 0
    stored = pg_store.states.load(BEN_THREAD)
    assert stored is not None and stored.round_count == 2  # two answers, one per held reply
